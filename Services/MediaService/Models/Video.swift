import ECGEvents
import Foundation

/// A video record: one per presigned upload, owned by one user.
struct Video: Sendable, Equatable {
    enum Status: String, Sendable, Codable {
        /// An upload URL was handed out; the object may not exist yet.
        case pending
        /// The object was seen in S3 (by `complete` or on an internal lookup); `video.uploaded` was announced.
        case uploaded
    }

    var fileKey: VideoKey
    var ownerID: UserID
    /// The name the client gave, for display.
    var filename: String
    var contentType: String
    /// The size the client declared when asking for the URL (signed into it as `Content-Length`).
    var declaredSizeBytes: Int64?
    /// The object's size in S3, once uploaded.
    var sizeBytes: Int64?
    var status: Status
    var createdAt: Date
    var uploadedAt: Date?
    /// The object's ETag when `complete` accepted it: an object replaced later (the PUT URL is
    /// still valid) has another ETag and is refused (security review M5).
    var eTag: String? = nil
}

/// The content types a video may have (SPEC.md §3 row 8), with the extension a key gets when its name has none.
enum VideoContentType {
    static let extensions: [String: String] = [
        "video/mp4": "mp4",
        "video/quicktime": "mov",
        "video/webm": "webm",
        "video/x-matroska": "mkv",
        "video/x-msvideo": "avi",
    ]

    static var allowed: [String] { extensions.keys.sorted() }

    /// The media type of a `Content-Type` header value (parameters dropped), canonical when allowed.
    static func mediaType(ofHeader value: String) -> String {
        let type = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? value
        return type.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// The canonical (lower-case) form of an allowed type, or nil.
    static func normalize(_ value: String) -> String? {
        if extensions[value] != nil { return value }  // already canonical, as clients nearly always send it
        let lowered = value.trimmingCharacters(in: .whitespaces).lowercased()
        return extensions[lowered] == nil ? nil : lowered
    }
}
