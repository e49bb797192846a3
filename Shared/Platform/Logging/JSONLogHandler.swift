import Foundation
import Logging

/// Writes one JSON object per line to standard output: `time`, `level`, `logger`, `message` and the metadata.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private static let lock = NSLock()

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "time": ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds]),
            "level": event.level.rawValue,
            "logger": label,
            "message": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            object[key] = Self.json(value)
        }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(0x0A)
        Self.lock.withLock { FileHandle.standardOutput.write(data) }
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let array): array.map(json)
        case .dictionary(let dictionary): dictionary.mapValues(json)
        }
    }
}

/// Sets up swift-log once per process: JSON lines in production, human-readable lines elsewhere.
public enum LoggingSetup {
    private static let once = NSLock()
    nonisolated(unsafe) private static var done = false

    public static func bootstrap(environment: DeploymentEnvironment, level: Logger.Level) {
        once.withLock {
            guard !done else { return }
            done = true
            if environment.isProduction {
                LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
            } else {
                LoggingSystem.bootstrap { label in
                    var handler = StreamLogHandler.standardOutput(label: label)
                    handler.logLevel = level
                    return handler
                }
            }
        }
    }
}
