import Foundation

/// What ffmpeg reads in a file's header before anything is decoded: its length and whether it has sound.
struct MediaProbe: Sendable, Equatable {
    var duration: Double
    var hasAudio: Bool

    /// ffmpeg could not read the file as media; `reason` is ffmpeg's last line with the file's path removed.
    struct Unreadable: Error, Equatable {
        let reason: String
    }

    static func probe(_ file: URL, ffmpeg: String = "ffmpeg") async throws -> MediaProbe {
        let log = try await FFmpegProcess.output(ffmpeg, ["-hide_banner", "-nostdin", "-i", file.path], timeout: .seconds(30))
        guard let probe = parse(log) else {
            let last = log.split(separator: "\n").last.map(String.init) ?? "ffmpeg could not read the file"
            throw Unreadable(reason: last.replacingOccurrences(of: file.path, with: "the video"))
        }
        return probe
    }

    /// Reads `Duration: 00:01:02.50` and whether an `Audio:` stream is listed.
    static func parse(_ log: String) -> MediaProbe? {
        guard let range = log.range(of: "Duration: ") else { return nil }
        let parts = log[range.upperBound...].prefix(11).split(separator: ":")
        guard parts.count == 3, let hours = Double(parts[0]), let minutes = Double(parts[1]), let seconds = Double(parts[2]) else {
            return nil
        }
        return MediaProbe(duration: hours * 3600 + minutes * 60 + seconds, hasAudio: log.contains("Audio:"))
    }
}
