import Foundation

/// A job's id: a UUID in Swift and in PostgreSQL, its lower-case text in URLs, bodies and events.
/// Parsed once where it arrives (a path, an event) and written once where it leaves.
struct JobID: Hashable, Sendable, Codable, CustomStringConvertible {
    let uuid: UUID

    init(_ uuid: UUID = UUID()) { self.uuid = uuid }

    /// Nil for text that is not a UUID.
    init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// The lower-case form every wire format uses.
    var description: String { uuid.uuidString.lowercased() }

    init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = JobID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(text) is not a job id"))
        }
        self = id
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
