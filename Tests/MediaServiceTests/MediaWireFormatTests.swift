import ECGEvents
import Foundation
import Testing

@testable import MediaService

/// media-service's bodies byte for byte (keys sorted, as JSON objects have no order): a change in
/// Swift names or types must not change them.
@Suite("media-service bodies on the wire")
struct MediaWireFormatTests {
    static let created = Date(timeIntervalSince1970: 1_757_421_000)

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let video = Video(
        fileKey: "uploads/7f2c/a.mp4",
        ownerID: 7,
        filename: "a.mp4",
        contentType: "video/mp4",
        declaredSizeBytes: 42,
        sizeBytes: nil,
        status: .pending,
        createdAt: created,
        uploadedAt: nil
    )

    @Test("generate-url, download-url and complete")
    func urls() throws {
        let generated = UploadController.GenerateURLResponse(
            uploadURL: "http://s3/put",
            fileKey: "uploads/7f2c/a.mp4",
            expiresIn: 3600,
            uploadMethod: "PUT",
            uploadHeaders: ["Content-Type": "video/mp4"]
        )
        #expect(
            try Self.json(generated)
                == #"{"expires_in":3600,"file_key":"uploads/7f2c/a.mp4","upload_headers":{"Content-Type":"video/mp4"},"#
                + #""upload_method":"PUT","upload_url":"http://s3/put"}"#
        )
        #expect(
            try Self.json(UploadController.DownloadURLResponse(downloadURL: "http://s3/get", expiresIn: 3600))
                == #"{"download_url":"http://s3/get","expires_in":3600}"#
        )
        let complete = UploadController.CompleteResponse(fileKey: "k", status: .uploaded, sizeBytes: 42, contentType: "video/mp4")
        #expect(try Self.json(complete) == #"{"content_type":"video/mp4","file_key":"k","size_bytes":42,"status":"uploaded"}"#)
    }

    @Test("a page of videos: size_bytes left out before upload, next_cursor written as null")
    func videos() throws {
        var uploaded = Self.video
        uploaded.status = .uploaded
        uploaded.sizeBytes = 42
        let page = UploadController.VideoList(items: [.init(Self.video), .init(uploaded)], nextCursor: nil)
        #expect(
            try Self.json(page)
                == #"{"items":[{"content_type":"video/mp4","created_at":"2025-09-09T12:30:00.000Z","file_key":"uploads/7f2c/a.mp4","#
                + #""filename":"a.mp4","status":"pending"},{"content_type":"video/mp4","created_at":"2025-09-09T12:30:00.000Z","#
                + #""file_key":"uploads/7f2c/a.mp4","filename":"a.mp4","size_bytes":42,"status":"uploaded"}],"next_cursor":null}"#
        )
    }

    @Test("the internal lookup's answer")
    func internalDetails() throws {
        let details = InternalVideoController.VideoDetails(
            fileKey: "k",
            ownerID: 7,
            status: .pending,
            contentType: "video/mp4",
            sizeBytes: 42,
            filename: "a.mp4",
            createdAt: "2025-09-09T12:30:00.000Z",
            downloadURL: "http://s3/get",
            downloadURLExpiresAt: "2025-09-09T18:30:00.000Z"
        )
        #expect(
            try Self.json(details)
                == #"{"content_type":"video/mp4","created_at":"2025-09-09T12:30:00.000Z","download_url":"http://s3/get","#
                + #""download_url_expires_at":"2025-09-09T18:30:00.000Z","file_key":"k","filename":"a.mp4","owner_id":"7","#
                + #""size_bytes":42,"status":"pending"}"#
        )
    }

    @Test("generate-url's request decodes SPEC's names")
    func generateRequest() throws {
        let body = try JSONDecoder().decode(
            UploadController.GenerateURLRequest.self,
            from: Data(#"{"filename":"a.mp4","content_type":"video/mp4","size_bytes":42}"#.utf8)
        )
        #expect(body.filename == "a.mp4" && body.contentType == "video/mp4" && body.sizeBytes == 42)
    }
}
