import Foundation

/// A CloudEvents 1.0 envelope in JSON form (SPEC.md §5).
package struct CloudEvent<Payload: Codable & Sendable>: Codable, Sendable {
    package var specversion: String
    package var id: String
    package var source: String
    package var type: String
    package var time: Date
    /// The entity the event is about (job id or file key); also the Kafka message key.
    package var subject: String
    package var datacontenttype: String
    package var data: Payload

    package init(id: String = UUID.random().lowercasedString, source: String, type: String, time: Date = Date(), subject: String, data: Payload) {
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
package struct CloudEventHeader: Codable, Sendable, Equatable {
    package var specversion: String
    package var id: String
    package var source: String
    package var type: String
    package var subject: String
}

/// JSON coding shared by every producer and consumer: ISO 8601 times with fractional seconds in UTC.
package enum EventCoding {
    package static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTimestamp(date))
        }
        return encoder
    }

    package static func decoder() -> JSONDecoder {
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
    package static func formatTimestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }

    package static func parseTimestamp(_ text: String) -> Date? {
        (try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)))
            ?? (try? Date(text, strategy: .iso8601))
    }
}
