import Foundation
import Logging

/// The human-readable log format outside production: one line per event,
/// `2026-11-26T02:59:01.123Z info auth-service: GET /health 200 duration_ms=0.21 request_id=…`
/// (metadata sorted by key after the message).
///
/// Replaces swift-log's `StreamLogHandler`, which formats all metadata again each time a key is set
/// (the request-id middleware sets one per request: 4.7% of auth-service's CPU on `/health`) and
/// again on every line (5.6%), and writes each line with its own `write(2)` (4.8%; perf, issue 13).
/// Here setting a key only stores it, a line is formatted once, by hand, and lines are written in
/// batches (`LogLineWriter`).
public struct DevelopmentLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let output: LogLineWriter

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
        self.output = .standardOutput
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = Self.line(
            time: Date(),
            level: event.level,
            logger: label,
            message: event.message.description,
            fields: LogFields.merged(metadata, event.metadata)
        )
        line.append(0x0A)
        output.write(line)
    }

    static func line(time: Date, level: Logger.Level, logger: String, message: String, metadata: Logger.Metadata) -> [UInt8] {
        line(time: time, level: level, logger: logger, message: message, fields: metadata.map { ($0.key, $0.value) })
    }

    static func line(time: Date, level: Logger.Level, logger: String, message: String, fields: [(String, Logger.Metadata.Value)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        out.append(contentsOf: JSONLogHandler.timestamp(time).utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: level.rawValue.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: logger.utf8)
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: message.utf8)
        for (key, value) in fields.sorted(by: { $0.0 < $1.0 }) {
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: key.utf8)
            out.append(UInt8(ascii: "="))
            switch value {
            case .string(let text): out.append(contentsOf: text.utf8)
            default: out.append(contentsOf: value.description.utf8)
            }
        }
        return out
    }
}
