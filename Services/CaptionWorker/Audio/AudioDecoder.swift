import Foundation

/// Decodes a file's first audio track to 16 kHz mono signed 16-bit PCM with one ffmpeg process, streamed
/// in chunks (memory does not grow with the video's length), while ffmpeg's `silencedetect` and
/// `ebur128` filters measure silence and loudness on the way.
struct AudioDecoder: Sendable {
    static let sampleRate = 16_000
    /// Quieter than this for `minimumSilence` seconds is silence (and never speech).
    static let silenceThreshold = "-35dB"
    static let minimumSilence = 0.3

    var ffmpeg = "ffmpeg"
    var limits = FFmpegProcess.Limits()

    struct Failure: Error, Equatable {
        let reason: String
    }

    /// Blocks the calling thread until the whole track is decoded: run it on a thread of its own.
    func decode(_ file: URL, duration: Double, onSamples: (UnsafeBufferPointer<Int16>) throws -> Void) throws -> AudioLevels {
        let filters = [
            "silencedetect=noise=\(Self.silenceThreshold):d=\(Self.minimumSilence)",
            "ebur128=framelog=verbose",
            "aresample=\(Self.sampleRate)",
            "aformat=sample_fmts=s16:channel_layouts=mono",
        ].joined(separator: ",")
        let collector = LevelCollector()
        var carry: UInt8?
        let status = try FFmpegProcess.stream(
            ffmpeg,
            ["-nostats", "-loglevel", "verbose", "-i", file.path, "-map", "0:a:0", "-vn", "-af", filters, "-f", "s16le", "pipe:1"],
            // A broken file must not hold the worker for long: generous for any real decode.
            timeout: .seconds(Int64(120 + duration * 2)),
            limits: limits
        ) { chunk in
            var bytes = chunk
            if let byte = carry {
                bytes.insert(byte, at: bytes.startIndex)
                carry = nil
            }
            if bytes.count % 2 == 1 { carry = bytes.removeLast() }
            try bytes.withUnsafeBytes { raw in
                try onSamples(raw.bindMemory(to: Int16.self))
            }
        } onLine: { line in
            collector.read(line)
        }
        guard status == 0 else {
            throw Failure(reason: collector.lastError(hiding: file.path) ?? "ffmpeg exited with status \(status)")
        }
        return collector.levels(duration: duration)
    }
}

/// Collects ffmpeg's log lines from its reader thread.
private final class LevelCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var levels = AudioLevels()
    private var lastLine: String?

    func read(_ line: String) {
        lock.withLock {
            levels.read(line: Substring(line))
            if !line.hasPrefix("[Parsed_") { lastLine = line }
        }
    }

    func levels(duration: Double) -> AudioLevels {
        lock.withLock {
            levels.finish(duration: duration)
            return levels
        }
    }

    func lastError(hiding path: String) -> String? {
        lock.withLock { lastLine?.replacingOccurrences(of: path, with: "the video") }
    }
}
