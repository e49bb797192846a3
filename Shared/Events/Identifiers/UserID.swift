/// A user's id: auth-service's `users.id`, a positive integer. Tokens carry it as the decimal text of
/// their `sub`, events as the text of `user_id`/`owner_id`; media keeps it as `bigint`, analysis as
/// `text` (each schema as it was created). Parsed once where it arrives and written once where it leaves.
package struct UserID: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    package let rawValue: Int64

    package init(_ rawValue: Int64) { self.rawValue = rawValue }

    package init(integerLiteral value: Int64) { self.rawValue = value }

    /// Nil for anything but the canonical decimal text of a positive integer (no sign, no spaces, no
    /// leading zeros), so one user has one spelling.
    package init?(_ text: String) {
        guard let value = Int64(text), value > 0, text == String(value) else { return nil }
        self.rawValue = value
    }

    /// The decimal text tokens and events carry.
    package var description: String { String(rawValue) }

    package init(from decoder: any Decoder) throws {
        self = try IdentifierCoding.decode(from: decoder, named: "user id", UserID.init)
    }

    package func encode(to encoder: any Encoder) throws {
        try IdentifierCoding.encode(description, to: encoder)
    }
}
