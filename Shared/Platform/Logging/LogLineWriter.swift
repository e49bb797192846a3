import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Standard output for log lines, written in batches: a line is appended to a buffer (a copy under
/// a lock), and a background thread writes what has gathered every `flushInterval`, or the appending
/// thread writes at once when the buffer holds `flushBytes`. At `info` every request logs a line;
/// one `write(2)` per line was 4.8% of auth-service's CPU on `/health` (perf, issue 13), and the
/// request's event-loop thread waited for it.
///
/// What a crash can lose: the lines of the last `flushInterval` (Swift's own crash report goes to
/// standard error, unbuffered). A normal exit writes everything (`atexit`).
final class LogLineWriter: Sendable {
    static let standardOutput = LogLineWriter(fileDescriptor: STDOUT_FILENO)

    static let flushInterval: Duration = .milliseconds(10)
    static let flushBytes = 64 << 10

    private let fileDescriptor: Int32
    private let buffer = Mutex<[UInt8]>([])
    /// Serialises the writes, so that batches reach the file in order.
    private let writing = Mutex<Void>(())

    private init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        buffer.withLock { $0.reserveCapacity(Self.flushBytes) }
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: Double(Self.flushInterval.components.attoseconds) / 1e18)
                flush()
            }
        }
        thread.name = "log-writer"
        thread.start()
        atexit { LogLineWriter.standardOutput.flush() }
    }

    /// Queues one line; `line` must end with its newline.
    func write(_ line: some Collection<UInt8>) {
        let full = buffer.withLock { buffer in
            buffer.append(contentsOf: line)
            return buffer.count >= Self.flushBytes
        }
        if full { flush() }
    }

    /// Writes everything queued so far.
    func flush() {
        writing.withLock { _ in
            let pending = buffer.withLock { buffer -> [UInt8] in
                guard !buffer.isEmpty else { return [] }
                var taken: [UInt8] = []
                taken.reserveCapacity(Self.flushBytes)
                swap(&taken, &buffer)
                return taken
            }
            guard !pending.isEmpty else { return }
            pending.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return  // standard output is gone: nothing to tell anyone
                    }
                }
            }
        }
    }
}
