import ECGPlatform
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import MediaService

/// What MediaWireFormatTests leaves out, byte for byte (keys sorted): the error bodies, the bodies with
/// their optional fields the other way round, and what the production router sends where it is fixed
/// (an empty page, a 404 as the error mapper sends it with sorted keys, the delete's empty 204).
@Suite("media-service errors and router bodies on the wire")
struct RouteWireFormatTests {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The body the error mapper sends for `error` (with sorted keys, as it encodes them).
    static func errorBody(_ error: APIError) throws -> String {
        try json(ErrorBody(detail: error.detail, code: error.code))
    }

    @Test("error bodies: {code, detail}")
    func errors() throws {
        let expected: [(APIError, String)] = [
            (MediaErrors.videoNotFound, #"{"code":"video_not_found","detail":"No such video."}"#),
            (
                MediaErrors.uploadNotFound,
                #"{"code":"upload_not_found","detail":"The file has not been uploaded yet: PUT it to the upload URL first."}"#
            ),
            (
                MediaErrors.storageUnavailable,
                #"{"code":"storage_unavailable","detail":"Video storage is unavailable right now; try again shortly."}"#
            ),
            (APIError.tokenWithoutUser, #"{"code":"invalid_token","detail":"The bearer token does not name a user."}"#),
            (
                MediaErrors.unsupportedContentType("image/gif"),
                #"{"code":"unsupported_content_type","detail":"content_type must be one of video/mp4, video/quicktime, video/webm, "#
                    + #"video/x-matroska, video/x-msvideo (got image/gif)."}"#
            ),
            (
                MediaErrors.uploadMismatch(.size(declared: 42, stored: 41)),
                #"{"code":"upload_size_mismatch","detail":"The uploaded file has 41 bytes but 42 were declared; it was deleted. Upload the file again."}"#
            ),
            (
                MediaErrors.uploadChanged,
                #"{"code":"upload_changed","detail":"The stored file changed after the upload was completed and is refused. "#
                    + #"Delete the video and upload it again."}"#
            ),
            (MediaErrors.fileTooLarge(limit: 1000), #"{"code":"file_too_large","detail":"The file is larger than the 1000-byte upload limit."}"#),
            (
                MediaErrors.storageQuotaExceeded(limit: 1000),
                #"{"code":"storage_quota_exceeded","detail":"This upload would exceed your 1000-byte storage quota (uploaded and pending "#
                    + #"videos count). Delete videos to make room."}"#
            ),
        ]
        for (error, body) in expected {
            #expect(try Self.errorBody(error) == body)
        }
    }

    @Test("a page with a next_cursor, and the internal answer of an uploaded video and of one without a size (size_bytes left out)")
    func optionalFields() throws {
        let uploaded = ResponseSchemaTests.uploaded
        let page = UploadController.VideoList(items: [.init(uploaded)], nextCursor: "eyJjIjoiMjAyNS0wOS0wOSJ9")
        #expect(
            try Self.json(page)
                == #"{"items":[{"content_type":"video/mp4","created_at":"2025-09-09T12:30:00.250Z","#
                + #""file_key":"uploads/3f0c8a52-1d2e-4b7a-9c11-5e6f7a8b9c0d/My_Clip.mp4","filename":"My Clip.mp4","size_bytes":42,"#
                + #""status":"uploaded"}],"next_cursor":"eyJjIjoiMjAyNS0wOS0wOSJ9"}"#
        )
        #expect(
            try Self.json(ResponseSchemaTests.details(uploaded, sizeBytes: 42))
                == #"{"content_type":"video/mp4","created_at":"2025-09-09T12:30:00.250Z","#
                + #""download_url":"http://s3.internal:9000/ecg-videos/uploads/3f0c8a52-1d2e-4b7a-9c11-5e6f7a8b9c0d/My_Clip.mp4?X-Amz-Signature=ab12","#
                + #""download_url_expires_at":"2025-09-09T18:30:00.250Z","file_key":"uploads/3f0c8a52-1d2e-4b7a-9c11-5e6f7a8b9c0d/My_Clip.mp4","#
                + #""filename":"My Clip.mp4","owner_id":"7","size_bytes":42,"status":"uploaded"}"#
        )
        let sizeless = try Self.json(ResponseSchemaTests.details(ResponseSchemaTests.pending, sizeBytes: nil))
        #expect(!sizeless.contains("size_bytes") && sizeless.contains(#""status":"pending""#), "\(sizeless)")
        let headers = UploadController.GenerateURLResponse(
            uploadURL: "u",
            fileKey: "k",
            expiresIn: 3600,
            uploadMethod: "PUT",
            uploadHeaders: ["Content-Type": "video/webm", "Content-Length": "42"]
        )
        #expect(
            try Self.json(headers)
                == #"{"expires_in":3600,"file_key":"k","upload_headers":{"Content-Length":"42","Content-Type":"video/webm"},"upload_method":"PUT","upload_url":"u"}"#
        )
    }

    @Test("through the production router: an empty page, a 404 and the delete's empty 204, byte for byte")
    func routerBytes() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(7)
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            let empty = try await client.execute(uri: "/api/upload-video/videos", method: .get, headers: auth)
            // JSONResponse does not sort keys (their order varies): compared sorted.
            let sorted = try JSONSerialization.data(
                withJSONObject: try JSONSerialization.jsonObject(with: Data(buffer: empty.body)),
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
            #expect(String(decoding: sorted, as: UTF8.self) == #"{"items":[],"next_cursor":null}"#)
            #expect(empty.headers[.contentType] == "application/json; charset=utf-8")
            let missing = try await client.execute(uri: "/api/upload-video/download-url/uploads/none/x.mp4", method: .get, headers: auth)
            #expect(missing.status == .notFound)
            #expect(String(buffer: missing.body) == #"{"code":"video_not_found","detail":"No such video."}"#)

            let key = try await client.newFileKey(token: token)
            let deleted = try await client.execute(uri: "/api/upload-video/videos/\(key)", method: .delete, headers: auth)
            #expect(deleted.status == .noContent)
            #expect(deleted.body.readableBytes == 0)
        }
    }
}
