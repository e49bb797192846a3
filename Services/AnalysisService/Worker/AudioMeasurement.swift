import Foundation

/// What ffmpeg measured in a file's audio track: its length, silent stretches, and momentary loudness.
struct AudioMeasurement: Sendable, Equatable {
    struct Frame: Sendable, Equatable {
        let time: Double
        let loudness: Double
    }

    var duration: Double
    var hasAudio: Bool
    var silences: [ClosedRange<Double>]
    /// EBU R128 momentary loudness (LUFS) every 0.1 s (ffmpeg logs these frames at `-loglevel verbose`).
    var frames: [Frame]

    enum Failure: Error, Equatable {
        /// ffmpeg could not read the file as media.
        case unreadable(String)
    }

    /// Runs `ffmpeg` once over the file: `silencedetect` for silence, `ebur128` for loudness.
    static func measure(file: URL, ffmpeg: String = "ffmpeg") async throws -> AudioMeasurement {
        let probe = try await run(ffmpeg, ["-hide_banner", "-nostdin", "-i", file.path])
        guard let duration = parseDuration(probe) else {
            throw Failure.unreadable(probe.split(separator: "\n").last.map(String.init) ?? "ffmpeg could not read the file")
        }
        guard probe.contains("Audio:") else {
            return AudioMeasurement(duration: duration, hasAudio: false, silences: [], frames: [])
        }
        let output = try await run(
            ffmpeg,
            [
                "-hide_banner", "-nostdin", "-nostats", "-loglevel", "verbose", "-i", file.path, "-vn", "-af",
                "silencedetect=noise=-35dB:d=0.3,ebur128=framelog=verbose", "-f", "null", "-",
            ]
        )
        return parse(output, duration: duration)
    }

    /// Parses ffmpeg's log of `silencedetect` and `ebur128`.
    static func parse(_ log: String, duration: Double) -> AudioMeasurement {
        var silences: [ClosedRange<Double>] = []
        var frames: [Frame] = []
        var silenceStart: Double?
        for line in log.split(separator: "\n") {
            if let start = value(after: "silence_start: ", in: line) {
                silenceStart = max(start, 0)
            } else if let end = value(after: "silence_end: ", in: line) {
                let start = silenceStart ?? 0
                if end > start { silences.append(start...end) }
                silenceStart = nil
            } else if line.contains("TARGET:"), let time = value(after: "t:", in: line), let loudness = value(after: "M:", in: line) {
                frames.append(Frame(time: time, loudness: loudness))
            }
        }
        if let start = silenceStart, duration > start { silences.append(start...duration) }
        return AudioMeasurement(duration: duration, hasAudio: true, silences: silences, frames: frames)
    }

    /// The stretches between silences (at least 0.2 s long): where someone is speaking.
    var speechSegments: [ClosedRange<Double>] {
        var segments: [ClosedRange<Double>] = []
        var cursor = 0.0
        for silence in silences.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if silence.lowerBound - cursor >= 0.2 { segments.append(cursor...silence.lowerBound) }
            cursor = max(cursor, silence.upperBound)
        }
        if duration - cursor >= 0.2 { segments.append(cursor...duration) }
        return segments
    }

    /// Mean momentary loudness inside a segment (frames of digital silence excluded).
    func loudness(in segment: ClosedRange<Double>) -> Double? {
        let values = frames.filter { segment.contains($0.time) && $0.loudness > -70 }.map(\.loudness)
        guard !values.isEmpty else { return nil }
        return values.reduce(0, +) / Double(values.count)
    }

    private static func parseDuration(_ log: String) -> Double? {
        guard let range = log.range(of: "Duration: ") else { return nil }
        let text = log[range.upperBound...].prefix(11)
        let parts = text.split(separator: ":")
        guard parts.count == 3, let hours = Double(parts[0]), let minutes = Double(parts[1]), let seconds = Double(parts[2]) else { return nil }
        return hours * 3600 + minutes * 60 + seconds
    }

    private static func value(after marker: String, in line: Substring) -> Double? {
        guard let range = line.range(of: marker) else { return nil }
        let rest = line[range.upperBound...].drop(while: { $0 == " " })
        return Double(rest.prefix(while: { $0.isNumber || $0 == "." || $0 == "-" }))
    }

    /// Runs a program to its end without blocking a Swift concurrency thread; returns its stderr and stdout.
    private static func run(_ program: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        return try await withCheckedThrowingContinuation { continuation in
            // Read on a plain thread: ffmpeg's log can outgrow the pipe buffer before it exits.
            Thread {
                do {
                    try process.run()
                    let data = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: String(decoding: data, as: UTF8.self))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }
}
