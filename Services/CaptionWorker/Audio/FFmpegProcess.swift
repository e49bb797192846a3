import Foundation

/// Runs ffmpeg the way the worker needs it: reading only local files of the video and audio formats
/// uploads use (no network protocols, no playlists), under a CPU-time and memory limit (`prlimit`) and
/// a wall-clock timeout.
enum FFmpegProcess {
    /// Demuxers an upload may need (media-service accepts video/mp4, quicktime, webm, x-matroska,
    /// x-msvideo, mpeg; audio-only files decode too).
    static let formats = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpeg,mpegts,wav,ogg,flac,mp3,aac"

    struct Limits: Sendable {
        var cpuSeconds: Int = 3_600
        var memoryBytes: Int = 2 << 30
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The command line: ffmpeg under `prlimit`, restricted to local files of the allowed formats.
    static func command(_ ffmpeg: String, _ arguments: [String], limits: Limits) -> [String] {
        [
            "prlimit", "--cpu=\(limits.cpuSeconds)", "--as=\(limits.memoryBytes)", "--",
            ffmpeg, "-hide_banner", "-nostdin", "-protocol_whitelist", "file,pipe", "-format_whitelist", formats,
        ] + arguments
    }

    /// Runs ffmpeg to its end without blocking a Swift concurrency thread; returns its combined output.
    static func output(_ ffmpeg: String, _ arguments: [String], timeout: Duration, limits: Limits = Limits()) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let log = LogText()
                    _ = try stream(ffmpeg, arguments, timeout: timeout, limits: limits, mergeOutput: true) { _ in
                    } onLine: { line in
                        log.append(line)
                    }
                    continuation.resume(returning: log.text)
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    /// Runs ffmpeg, handing its standard output to `onOutput` as it arrives and its log to `onLine` line
    /// by line (on another thread). Blocks until ffmpeg has exited; returns its exit status.
    @discardableResult
    static func stream(
        _ ffmpeg: String,
        _ arguments: [String],
        timeout: Duration,
        limits: Limits = Limits(),
        mergeOutput: Bool = false,
        onOutput: (Data) throws -> Void,
        onLine: @escaping @Sendable (String) -> Void
    ) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command(ffmpeg, arguments, limits: limits)
        let output = Pipe()
        let log = mergeOutput ? output : Pipe()
        // Our ends must not leak into processes other threads start meanwhile (a child that kept a
        // write end open would keep our reads from ever seeing the end of the stream).
        for pipe in [output, log] {
            for handle in [pipe.fileHandleForReading, pipe.fileHandleForWriting] {
                _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
            }
        }
        process.standardOutput = output
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        // ffmpeg gets none of the worker's settings (Kafka credentials among them).
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LC_ALL": "C"]
        try process.run()

        let timedOut = LockedFlag()
        let watchdog = DispatchWorkItem {
            timedOut.set()
            process.terminate()
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
        defer { watchdog.cancel() }

        let logDone = DispatchSemaphore(value: 0)
        if mergeOutput {
            logDone.signal()
        } else {
            Thread {
                readLines(from: log.fileHandleForReading, onLine: onLine)
                logDone.signal()
            }.start()
        }

        do {
            if mergeOutput {
                readLines(from: output.fileHandleForReading, onLine: onLine)
            } else {
                while let chunk = try output.fileHandleForReading.read(upToCount: 64 * 1024), !chunk.isEmpty {
                    try onOutput(chunk)
                }
            }
        } catch {
            // ffmpeg may be blocked writing to the pipe nobody reads any more: stop it for good.
            kill(process.processIdentifier, SIGKILL)
            try? output.fileHandleForReading.close()
            process.waitUntilExit()
            logDone.wait()
            throw error
        }
        process.waitUntilExit()
        logDone.wait()
        if timedOut.isSet { throw Failure(description: "ffmpeg did not finish within \(timeout)") }
        return process.terminationStatus
    }

    private static func readLines(from handle: FileHandle, onLine: (String) -> Void) {
        var pending = Data()
        while let chunk = try? handle.read(upToCount: 16 * 1024), !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
                let line = pending[pending.startIndex..<newline]
                if !line.isEmpty { onLine(String(decoding: line, as: UTF8.self)) }
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
    }
}

/// Lines of a log, collected from any thread.
final class LogText: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var text: String { lock.withLock { lines.joined(separator: "\n") } }
}

/// A flag set once from any thread.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
