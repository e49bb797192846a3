import ECGEvents
import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import MediaService

/// What media-service answers matches the schemas it publishes in /openapi.json (issue 15 item 5): each
/// response DTO, encoded with sample values (optional fields present and absent), and the bodies the
/// production router (`MediaHarness` over `MediaService.buildRouter`) sends, checked against the document
/// that router serves.
@Suite("media-service responses match their published OpenAPI schemas")
struct ResponseSchemaTests {
    typealias Documented = PublishedOpenAPI.Response

    static let created = Date(timeIntervalSince1970: 1_757_421_000.25)
    static let key: VideoKey = "uploads/3f0c8a52-1d2e-4b7a-9c11-5e6f7a8b9c0d/My_Clip.mp4"
    static let pending = Video(
        fileKey: key,
        ownerID: 7,
        filename: "My Clip.mp4",
        contentType: "video/mp4",
        declaredSizeBytes: 42,
        sizeBytes: nil,
        status: .pending,
        createdAt: created,
        uploadedAt: nil
    )
    static let uploaded: Video = {
        var video = pending
        video.status = .uploaded
        video.sizeBytes = 42
        video.uploadedAt = created.addingTimeInterval(5)
        return video
    }()

    static func details(_ video: Video, sizeBytes: Int64?) -> InternalVideoController.VideoDetails {
        InternalVideoController.VideoDetails(
            fileKey: video.fileKey,
            ownerID: video.ownerID,
            status: video.status,
            contentType: video.contentType,
            sizeBytes: sizeBytes,
            filename: video.filename,
            createdAt: "2025-09-09T12:30:00.250Z",
            downloadURL: "http://s3.internal:9000/ecg-videos/\(video.fileKey)?X-Amz-Signature=ab12",
            downloadURLExpiresAt: "2025-09-09T18:30:00.250Z"
        )
    }

    /// Sample bodies of every documented 2xx JSON response of media-service's own routes.
    static let samples: [Documented: [any Encodable & Sendable]] = [
        Documented(method: "POST", path: "/api/upload-video/generate-url", status: 200): [
            UploadController.GenerateURLResponse(
                uploadURL: "http://127.0.0.1:9000/ecg-videos/\(key)?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab12",
                fileKey: key,
                expiresIn: 3600,
                uploadMethod: "PUT",
                uploadHeaders: ["Content-Type": "video/mp4", "Content-Length": "42"]
            )
        ],
        Documented(method: "GET", path: "/api/upload-video/download-url/{file_key}", status: 200): [
            UploadController.DownloadURLResponse(downloadURL: "http://127.0.0.1:9000/ecg-videos/\(key)?X-Amz-Signature=ab12", expiresIn: 3600)
        ],
        Documented(method: "POST", path: "/api/upload-video/complete", status: 200): [
            UploadController.CompleteResponse(fileKey: key, status: .uploaded, sizeBytes: 42, contentType: "video/mp4")
        ],
        Documented(method: "GET", path: "/api/upload-video/videos", status: 200): [
            UploadController.VideoList(items: [], nextCursor: nil),
            UploadController.VideoList(items: [.init(uploaded), .init(pending)], nextCursor: "eyJjIjoiMjAyNS0wOS0wOSJ9"),
        ],
        Documented(method: "GET", path: "/internal/videos/{file_key}", status: 200): [
            details(uploaded, sizeBytes: 42), details(pending, sizeBytes: 42), details(pending, sizeBytes: nil),
        ],
    ]

    /// The routes every service has (CommonRoutes); auth-service's ResponseSchemaTests checks them.
    static let commonPaths: Set<String> = ["/", "/health", "/ready", "/api/test", "/metrics", "/.well-known/jwks.json", "/openapi.json"]

    static func published() async throws -> PublishedOpenAPI {
        let router = try await MediaHarness().makeRouter()
        return try PublishedOpenAPI(data: try await Application(router: router).test(.router) { client in try await PublishedOpenAPI.fetch(client) })
    }

    @Test("every documented success body of media-service's routes has samples here")
    func coverage() async throws {
        let documented = try await Self.published().jsonResponses.filter { (200..<300).contains($0.status) && !Self.commonPaths.contains($0.path) }
        #expect(documented == Set(Self.samples.keys), "documented but not sampled: \(documented.subtracting(Self.samples.keys))")
    }

    @Test("each response DTO, with sample values, conforms to the schema published for its route and status")
    func samplesConform() async throws {
        let document = try await Self.published()
        for (response, bodies) in Self.samples {
            let schema = try document.schema(response)
            for body in bodies {
                #expect(PublishedOpenAPI.problems(of: try PublishedOpenAPI.wire(body), against: schema) == [], "\(response): \(body)")
            }
        }
    }

    @Test("every documented error answer is the error body, as components.schemas.Error publishes it")
    func errorBodies() async throws {
        let document = try await Self.published()
        let body = try PublishedOpenAPI.wire(ErrorBody(detail: "No such video.", code: "video_not_found"))
        #expect(try document.errorSchema.violations(of: body) == [])
        let errors = document.jsonResponses.filter { $0.status >= 400 }
        #expect(errors.count >= 20)
        for response in errors {
            #expect(try document.schema(response).violations(of: body) == [], "\(response)")
        }
    }

    @Test("a video list that drifted from the published schema is caught")
    func drift() async throws {
        let schema = try await Self.published().schema("GET", "/api/upload-video/videos", 200)
        var item = try #require(try PublishedOpenAPI.wire(UploadController.VideoItem(Self.uploaded)) as? [String: Any])
        item["status"] = "deleted"
        item["owner_id"] = 7
        item.removeValue(forKey: "file_key")
        item["size_bytes"] = "42"
        #expect(
            Set(schema.violations(of: ["items": [item]]))
                == [
                    "$.next_cursor: required but missing", "$.items[0].file_key: required but missing", "$.items[0].owner_id: not in the schema",
                    "$.items[0].status: deleted is not one of [\"pending\", \"uploaded\"]", "$.items[0].size_bytes: expected an integer",
                ]
        )
    }

    /// The bodies the production router sends, each checked against the schema its route publishes for its status.
    @Test("what the routes send conforms: generate-url, complete, videos, download-url, internal, delete, errors")
    func routeBodies() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let document = try await PublishedOpenAPI(client)
            let token = try await harness.userToken(7)
            func check(_ reply: (status: Int, json: [String: Any]), _ method: String, _ path: String, _ status: Int) throws {
                #expect(reply.status == status, "\(method) \(path): \(reply.json)")
                #expect(PublishedOpenAPI.problems(of: reply.json, against: try document.schema(method, path, status)) == [], "\(method) \(path) \(status): \(reply.json)")
            }
            let generateURL = "/api/upload-video/generate-url"
            let generated = try await client.call(
                generateURL,
                .post,
                token: token,
                json: #"{"filename":"My Clip.mp4","content_type":"video/mp4","size_bytes":42}"#
            )
            try check(generated, "POST", generateURL, 200)
            let key = try #require(generated.json["file_key"] as? String)
            try check(try await client.call(generateURL, .post, token: token, json: #"{"filename":"a.gif","content_type":"image/gif","size_bytes":1}"#), "POST", generateURL, 422)
            try check(try await client.call(generateURL, .post, token: token, json: #"{"filename":"a.mp4","content_type":"video/mp4","size_bytes":1001}"#), "POST", generateURL, 413)
            try check(try await client.call(generateURL, .post, token: token, json: #"{"filename""#), "POST", generateURL, 400)
            try check(try await client.call(generateURL, .post, token: nil, json: "{}"), "POST", generateURL, 401)

            let complete = "/api/upload-video/complete"
            try check(try await client.call(complete, .post, token: token, json: #"{"file_key":"\#(key)"}"#), "POST", complete, 409)
            try check(try await client.call(complete, .post, token: token, json: #"{"file_key":"uploads/none/x.mp4"}"#), "POST", complete, 404)
            try check(try await client.call(complete, .post, token: token, json: #"{"file_key":""}"#), "POST", complete, 422)

            // A second video stays pending, so the list has both kinds (size_bytes absent and present).
            let pendingKey = try await client.newFileKey(token: token, filename: "b.webm", size: 10)
            harness.storage.put(key, size: 42)
            try check(try await client.call(complete, .post, token: token, json: #"{"file_key":"\#(key)"}"#), "POST", complete, 200)

            let videos = "/api/upload-video/videos"
            let firstPage = try await client.call("\(videos)?limit=1", token: token)
            try check(firstPage, "GET", videos, 200)
            let cursor = try #require(firstPage.json["next_cursor"] as? String)
            try check(try await client.call("\(videos)?limit=1&cursor=\(cursor)", token: token), "GET", videos, 200)
            let all = try await client.call(videos, token: token)
            try check(all, "GET", videos, 200)
            #expect((all.json["items"] as? [[String: Any]])?.map { $0["size_bytes"] as? Int } == [nil, 42], "\(all.json)")
            try check(try await client.call("\(videos)?limit=0", token: token), "GET", videos, 422)

            let downloadURL = "/api/upload-video/download-url/{file_key}"
            try check(try await client.call("/api/upload-video/download-url/\(key)", token: token), "GET", downloadURL, 200)
            try check(try await client.call("/api/upload-video/download-url/\(pendingKey)", token: token), "GET", downloadURL, 409)
            try check(try await client.call("/api/upload-video/download-url/\(key)", token: try await harness.userToken(8)), "GET", downloadURL, 404)

            let internalPath = "/internal/videos/{file_key}"
            let service = try await harness.serviceToken()
            try check(try await client.call("/internal/videos/\(key)", token: service), "GET", internalPath, 200)
            try check(try await client.call("/internal/videos/\(pendingKey)", token: service), "GET", internalPath, 200)
            try check(try await client.call("/internal/videos/uploads/none/x.mp4", token: service), "GET", internalPath, 404)
            try check(try await client.call("/internal/videos/\(key)", token: try await harness.serviceToken(issuer: "auth-service")), "GET", internalPath, 403)
            try check(try await client.call("/internal/videos/\(key)", token: token), "GET", internalPath, 401)

            let deletePath = "/api/upload-video/videos/{file_key}"
            harness.storage.failing.store(true, ordering: .relaxed)
            try check(try await client.call("/api/upload-video/videos/\(key)", .delete, token: token), "DELETE", deletePath, 503)
            harness.storage.failing.store(false, ordering: .relaxed)
            let deleted = try await client.execute(uri: "/api/upload-video/videos/\(key)", method: .delete, headers: [.authorization: "Bearer \(token)"])
            #expect(deleted.status == .noContent && deleted.body.readableBytes == 0)
            try check(try await client.call("/api/upload-video/videos/\(key)", .delete, token: token), "DELETE", deletePath, 404)
        }
    }
}
