import Foundation

/// A job's id: a UUID in Swift and in PostgreSQL, its lower-case text in URLs, bodies and events.
/// Parsed once where it arrives (a path, an event) and written once where it leaves.
package struct JobID: Hashable, Sendable, Codable, CustomStringConvertible {
    package let uuid: UUID

    package init(_ uuid: UUID = .random()) { self.uuid = uuid }

    /// Nil for text that is not a UUID.
    package init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// The lower-case form every wire format uses.
    package var description: String { uuid.lowercasedString }

    package init(from decoder: any Decoder) throws {
        self = try IdentifierCoding.decode(from: decoder, named: "job id", JobID.init)
    }

    package func encode(to encoder: any Encoder) throws {
        try IdentifierCoding.encode(description, to: encoder)
    }
}
