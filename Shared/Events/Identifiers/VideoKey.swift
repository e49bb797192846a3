/// A video's S3 object key (`uploads/<uuid>/<file name>`), which is also its id in media-service's
/// `videos`, in analysis-service's jobs and in events. Kept apart from other strings so a key cannot be
/// passed where a file name or a job id is meant; which keys exist is media-service's to say.
package struct VideoKey: Hashable, Sendable, Codable, CustomStringConvertible, Comparable, ExpressibleByStringLiteral {
    package let rawValue: String

    package init(_ rawValue: String) { self.rawValue = rawValue }

    package init(stringLiteral value: String) { self.rawValue = value }

    package var description: String { rawValue }

    package static func < (lhs: VideoKey, rhs: VideoKey) -> Bool { lhs.rawValue < rhs.rawValue }

    package init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    package func encode(to encoder: any Encoder) throws {
        try IdentifierCoding.encode(rawValue, to: encoder)
    }
}
