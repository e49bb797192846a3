import ECGEvents

/// The request and response bodies of the upload routes: camelCase in Swift, SPEC's snake_case on
/// the wire (each type's `CodingKeys`); `MediaWireFormatTests` pins the bytes.
extension UploadController {
    struct GenerateURLRequest: Decodable, Sendable {
        let filename: String
        let contentType: String
        let sizeBytes: Int64?

        enum CodingKeys: String, CodingKey {
            case filename
            case contentType = "content_type"
            case sizeBytes = "size_bytes"
        }
    }

    struct GenerateURLResponse: Encodable, Sendable {
        let uploadURL: String
        let fileKey: VideoKey
        let expiresIn: Int
        /// How to use the URL: the method and the headers that were signed into it.
        let uploadMethod: String
        let uploadHeaders: [String: String]

        enum CodingKeys: String, CodingKey {
            case uploadURL = "upload_url"
            case fileKey = "file_key"
            case expiresIn = "expires_in"
            case uploadMethod = "upload_method"
            case uploadHeaders = "upload_headers"
        }
    }

    struct DownloadURLResponse: Encodable, Sendable {
        let downloadURL: String
        let expiresIn: Int

        enum CodingKeys: String, CodingKey {
            case downloadURL = "download_url"
            case expiresIn = "expires_in"
        }
    }

    struct CompleteRequest: Decodable, Sendable {
        let fileKey: String

        enum CodingKeys: String, CodingKey { case fileKey = "file_key" }
    }

    struct CompleteResponse: Encodable, Sendable {
        let fileKey: VideoKey
        let status: Video.Status
        let sizeBytes: Int64
        let contentType: String

        enum CodingKeys: String, CodingKey {
            case fileKey = "file_key"
            case status
            case sizeBytes = "size_bytes"
            case contentType = "content_type"
        }
    }

    struct VideoItem: Encodable, Sendable {
        let fileKey: VideoKey
        let filename: String
        let contentType: String
        let status: Video.Status
        /// The object's size once uploaded, else null.
        let sizeBytes: Int64?
        let createdAt: String

        init(_ video: Video) {
            fileKey = video.fileKey
            filename = video.filename
            contentType = video.contentType
            status = video.status
            sizeBytes = video.sizeBytes
            createdAt = EventCoding.formatTimestamp(video.createdAt)
        }

        enum CodingKeys: String, CodingKey {
            case fileKey = "file_key"
            case filename
            case contentType = "content_type"
            case status
            case sizeBytes = "size_bytes"
            case createdAt = "created_at"
        }
    }

    struct VideoList: Encodable, Sendable {
        let items: [VideoItem]
        let nextCursor: String?

        /// `next_cursor` is written as null on the last page.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(items, forKey: .items)
            try container.encode(nextCursor, forKey: .nextCursor)
        }

        private enum CodingKeys: String, CodingKey {
            case items
            case nextCursor = "next_cursor"
        }
    }
}
