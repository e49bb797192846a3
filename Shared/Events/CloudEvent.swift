import Foundation

/// A CloudEvents 1.0 envelope in JSON form (SPEC.md §5).
public struct CloudEvent<Payload: Codable & Sendable>: Codable, Sendable {
    public var specversion: String
    public var id: String
    public var source: String
    public var type: String
    public var time: Date
    /// The entity the event is about (job id or file key); also the Kafka message key.
    public var subject: String
    public var datacontenttype: String
    public var data: Payload

    public init(id: String = UUID().uuidString.lowercased(), source: String, type: String, time: Date = Date(), subject: String, data: Payload) {
        self.specversion = "1.0"
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.datacontenttype = "application/json"
        self.data = data
    }
}

/// The envelope's attributes without its data, to route a message before decoding its payload.
public struct CloudEventHeader: Codable, Sendable, Equatable {
    public var specversion: String
    public var id: String
    public var source: String
    public var type: String
    public var subject: String
}

/// JSON coding shared by every producer and consumer: ISO 8601 times with fractional seconds in UTC.
public enum EventCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTimestamp(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 timestamp: \(text)")
            }
            return date
        }
        return decoder
    }

    /// `2026-11-25T10:00:00.123Z`.
    public static func formatTimestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }

    public static func parseTimestamp(_ text: String) -> Date? {
        (try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)))
            ?? (try? Date(text, strategy: .iso8601))
    }
}
