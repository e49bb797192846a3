import ECGEvents
import ECGPlatform
import ECGS3
import ECGTokens
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import MediaService

/// S3 in memory: presigned URLs are fakes, HEAD answers from `objects`.
final class FakeStorage: VideoStorage {
    let objects = Mutex<[String: S3ObjectInfo]>([:])
    let failing = Atomic<Bool>(false)

    /// Stores an object as a PUT would; a new ETag each time unless given (S3's is the MD5 of the bytes).
    func put(_ key: String, size: Int64, contentType: String = "video/mp4", eTag: String? = nil) {
        let eTag = eTag ?? "\"\(UUID().uuidString)\""
        objects.withLock { $0[key] = S3ObjectInfo(contentLength: size, contentType: contentType, eTag: eTag) }
    }

    func uploadRequest(key: VideoKey, contentType: String, contentLength: Int64?, expires: Int) -> PresignedRequest {
        var headers = ["Content-Type": contentType]
        if let contentLength { headers["Content-Length"] = String(contentLength) }
        return PresignedRequest(
            url: "https://s3.test/put/\(key)",
            method: "PUT",
            headers: headers,
            expiresAt: Date().addingTimeInterval(Double(expires))
        )
    }

    func downloadRequest(key: VideoKey, expires: Int, audience: S3Configuration.Audience) -> PresignedRequest {
        PresignedRequest(
            url: "https://s3.test/\(audience)/\(key)",
            method: "GET",
            headers: [:],
            expiresAt: Date().addingTimeInterval(Double(expires))
        )
    }

    func head(key: VideoKey) async throws -> S3ObjectInfo? {
        if failing.load(ordering: .relaxed) { throw S3Error.unreachable(operation: "HeadObject", reason: "test") }
        return objects.withLock { $0[key.rawValue] }
    }

    func delete(key: VideoKey) async throws {
        if failing.load(ordering: .relaxed) { throw S3Error.unreachable(operation: "DeleteObject", reason: "test") }
        objects.withLock { $0[key.rawValue] = nil }
    }
}

/// media-service's router as production builds it (`MediaService.buildRouter`: the whole middleware
/// stack, real token checks with keys made here), over in-memory records and storage.
struct MediaHarness {
    let userKey: SigningKey
    let serviceKey: SigningKey
    let repository = InMemoryVideoRepository()
    let storage = FakeStorage()
    let maxUploadBytes: Int64 = 1000
    let maxUserStorageBytes: Int64

    init(maxUserStorageBytes: Int64 = 1 << 40) throws {
        self.maxUserStorageBytes = maxUserStorageBytes
        userKey = try SigningKey.generate()
        serviceKey = try SigningKey.generate()
    }

    /// Runs `body` against media-service's routes on this harness, in memory.
    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: try await makeRouter()).test(.router, body)
    }

    func makeRouter() async throws -> Router<ECGRequestContext> {
        let environment = [
            "ECG_ENV": "test",
            "MAX_UPLOAD_BYTES": String(maxUploadBytes),
            "MAX_USER_STORAGE_BYTES": String(maxUserStorageBytes),
        ]
        let settings = EnvironmentSettings(environment: environment)
        let media = MediaSettings(settings: settings)
        try settings.validate()
        // auth-service is trusted too (as TRUSTED_SERVICES lists it), but may not call /internal (L2).
        let platform = await ServicePlatform.withKeys(
            descriptor: MediaService.descriptor,
            environment: environment,
            serviceKey: try SigningKey.generate(),
            userTokenKey: userKey,
            trustedServices: ["analysis-service": serviceKey, "auth-service": serviceKey]
        )
        return MediaService.buildRouter(platform: platform, settings: media, dependencies: .init(videos: repository, storage: storage))
    }

    func userToken(_ id: Int64) async throws -> String {
        try await TokenSigner(key: userKey).sign(issuer: "auth-service", audience: "ecg-api", subject: String(id), type: .access, lifetime: 900).token
    }

    func serviceToken(audience: String = "media-service", issuer: String = "analysis-service") async throws -> String {
        try await TokenSigner(key: serviceKey).sign(
            issuer: issuer,
            audience: audience,
            subject: issuer,
            type: .service,
            lifetime: 300
        ).token
    }
}

extension TestClientProtocol {
    /// The `file_key` of a new pending video (generate-url for a `video/mp4` of `size` bytes).
    func newFileKey(token: String, filename: String = "a.mp4", size: Int64 = 42) async throws -> String {
        let reply = try await call(
            "/api/upload-video/generate-url",
            .post,
            token: token,
            json: #"{"filename":"\#(filename)","content_type":"video/mp4","size_bytes":\#(size)}"#
        )
        return try #require(reply.json["file_key"] as? String, "generate-url answered \(reply.status)")
    }

    func call(
        _ uri: String,
        _ method: HTTPRequest.Method = .get,
        token: String?,
        json: String? = nil
    ) async throws -> (
        status: Int, json: [String: Any]
    ) {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return (Int(response.status.code), object)
        }
    }
}

@Suite("media routes (in memory)")
struct UploadRoutesTests {
    @Test("generate-url validates, stores a pending record and returns a key under uploads/<uuid>/")
    func generateURL() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(7)
            let ok = try await client.call(
                "/api/upload-video/generate-url",
                .post,
                token: token,
                json: #"{"filename":"My Clip.mp4","content_type":"video/mp4","size_bytes":10}"#
            )
            #expect(ok.status == 200)
            let key = try #require(ok.json["file_key"] as? String)
            #expect(key.hasPrefix("uploads/") && key.hasSuffix("/My_Clip.mp4"))
            #expect(ok.json["expires_in"] as? Int == 3600)
            #expect((ok.json["upload_headers"] as? [String: String]) == ["Content-Type": "video/mp4", "Content-Length": "10"])
            let stored = try #require(try await harness.repository.find(fileKey: VideoKey(key)))
            #expect(stored.status == .pending && stored.ownerID == 7 && stored.filename == "My Clip.mp4" && stored.declaredSizeBytes == 10)

            let cases: [(String, Int, String)] = [
                (#"{"filename":"a.gif","content_type":"image/gif"}"#, 422, "unsupported_content_type"),
                (#"{"filename":"a.mp4","content_type":"video/mp4","size_bytes":1001}"#, 413, "file_too_large"),
                (#"{"filename":"a.mp4","content_type":"video/mp4","size_bytes":0}"#, 422, "validation_error"),
                (#"{"filename":"a.mp4","content_type":"video/mp4","size_bytes":"x"}"#, 422, "validation_error"),
                (#"{"filename":"   ","content_type":"video/mp4","size_bytes":10}"#, 422, "validation_error"),
                (#"{"content_type":"video/mp4","size_bytes":10}"#, 422, "validation_error"),
                // M5: without a size the URL would not bound the upload's length.
                (#"{"filename":"a.mp4","content_type":"video/mp4"}"#, 422, "validation_error"),
                (#"{"filename":"a.mp4""#, 400, "invalid_json"),
            ]
            for (body, status, code) in cases {
                let reply = try await client.call("/api/upload-video/generate-url", .post, token: token, json: body)
                #expect(reply.status == status, "\(body)")
                #expect(reply.json["code"] as? String == code, "\(body)")
            }
            let sizeless = try await client.call(
                "/api/upload-video/generate-url",
                .post,
                token: token,
                json: #"{"filename":"a.mp4","content_type":"video/mp4"}"#
            )
            #expect((sizeless.json["detail"] as? String)?.hasPrefix("size_bytes") == true, "\(sizeless.json)")
            let anonymous = try await client.call(
                "/api/upload-video/generate-url",
                .post,
                token: nil,
                json: #"{"filename":"a.mp4","content_type":"video/mp4","size_bytes":10}"#
            )
            #expect(anonymous.status == 401)
            // A service token is not a user token.
            let service = try await client.call(
                "/api/upload-video/generate-url",
                .post,
                token: try await harness.serviceToken(),
                json: #"{"filename":"a.mp4","content_type":"video/mp4","size_bytes":10}"#
            )
            #expect(service.status == 401)
        }
    }

    @Test("complete: 409 before the upload, then uploaded once, with the event announced once")
    func complete() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let key = try await client.newFileKey(token: token)
            let early = try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#)
            #expect(early.status == 409)
            #expect(early.json["code"] as? String == "upload_not_found")

            harness.storage.put(key, size: 42)
            for _ in 0..<3 {
                let done = try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#)
                #expect(done.status == 200)
                #expect(done.json["status"] as? String == "uploaded")
                #expect(done.json["size_bytes"] as? Int == 42)
                #expect(done.json["content_type"] as? String == "video/mp4")
            }
            let events = harness.repository.events
            #expect(events.count == 1)
            #expect(events.first?.data.ownerID == 1)
            #expect(events.first?.subject == key)

            let stranger = try await client.call(
                "/api/upload-video/complete",
                .post,
                token: try await harness.userToken(2),
                json: #"{"file_key":"\#(key)"}"#
            )
            #expect(stranger.status == 404)
            #expect(stranger.json["code"] as? String == "video_not_found")
        }
    }

    @Test("too large an object is refused at complete, deleted, and the video stays pending")
    func oversizedObject() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let key = try await client.newFileKey(token: token)
            harness.storage.put(key, size: 5000)
            let reply = try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#)
            #expect(reply.status == 413)
            #expect(try await harness.repository.find(fileKey: VideoKey(key))?.status == .pending)
            #expect(harness.repository.events.isEmpty)
            #expect(try await harness.storage.head(key: VideoKey(key)) == nil)
        }
    }

    @Test("complete refuses an object whose size or type differs from the declared one (409), and deletes it (M5)")
    func declaredSizeAndType() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let key = try await client.newFileKey(token: token, size: 42)
            harness.storage.put(key, size: 41)
            let short = try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#)
            #expect(short.status == 409)
            #expect(short.json["code"] as? String == "upload_size_mismatch")
            #expect(try await harness.storage.head(key: VideoKey(key)) == nil)
            #expect(try await harness.repository.find(fileKey: VideoKey(key))?.status == .pending)

            harness.storage.put(key, size: 42, contentType: "text/html")
            let html = try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#)
            #expect(html.status == 409)
            #expect(html.json["code"] as? String == "upload_type_mismatch")
            #expect(try await harness.storage.head(key: VideoKey(key)) == nil)
            #expect(harness.repository.events.isEmpty)

            // The right bytes afterwards are accepted (parameters of the type do not matter).
            harness.storage.put(key, size: 42, contentType: "video/mp4; charset=binary")
            let done = try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#)
            #expect(done.status == 200)
            #expect(harness.repository.events.count == 1)
        }
    }

    @Test("an object overwritten after complete is refused by download-url and the internal lookup (ETag recorded at complete, M5)")
    func overwrittenAfterComplete() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let key = try await client.newFileKey(token: token, size: 42)
            harness.storage.put(key, size: 42, eTag: "\"first\"")
            #expect(try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#).status == 200)
            #expect(try await harness.repository.find(fileKey: VideoKey(key))?.eTag == "\"first\"")
            let service = try await harness.serviceToken()
            #expect(try await client.call("/api/upload-video/download-url/\(key)", token: token).status == 200)
            #expect(try await client.call("/internal/videos/\(key)", token: service).status == 200)

            // The PUT URL is still valid: the same key gets other bytes.
            harness.storage.put(key, size: 200_000, eTag: "\"second\"")
            let download = try await client.call("/api/upload-video/download-url/\(key)", token: token)
            #expect(download.status == 409)
            #expect(download.json["code"] as? String == "upload_changed")
            let lookup = try await client.call("/internal/videos/\(key)", token: service)
            #expect(lookup.status == 409)
            #expect(lookup.json["code"] as? String == "upload_changed")
            let again = try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#)
            #expect(again.status == 409)
        }
    }

    @Test("generate-url refuses 413 storage_quota_exceeded when uploaded plus pending bytes would pass MAX_USER_STORAGE_BYTES")
    func storageQuota() async throws {
        let harness = try MediaHarness(maxUserStorageBytes: 2000)
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let first = try await client.newFileKey(token: token, size: 1000)
            harness.storage.put(first, size: 1000)
            #expect(try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(first)"}"#).status == 200)
            _ = try await client.newFileKey(token: token, size: 900)  // pending: counts with its declared size
            let over = try await client.call(
                "/api/upload-video/generate-url",
                .post,
                token: token,
                json: #"{"filename":"b.mp4","content_type":"video/mp4","size_bytes":101}"#
            )
            #expect(over.status == 413)
            #expect(over.json["code"] as? String == "storage_quota_exceeded")
            // Exactly up to the quota is fine; another user has a quota of their own.
            _ = try await client.newFileKey(token: token, size: 100)
            _ = try await client.newFileKey(token: try await harness.userToken(2), size: 1000)
            // Deleting a video frees its bytes.
            #expect(try await client.call("/api/upload-video/videos/\(first)", .delete, token: token).status == 204)
            _ = try await client.newFileKey(token: token, size: 1000)
        }
    }

    @Test("S3 down is a 503 storage_unavailable, not a 500")
    func storageDown() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let key = try await client.newFileKey(token: token)
            harness.storage.failing.store(true, ordering: .relaxed)
            let reply = try await client.call("/api/upload-video/complete", .post, token: token, json: #"{"file_key":"\#(key)"}"#)
            #expect(reply.status == 503)
            #expect(reply.json["code"] as? String == "storage_unavailable")
        }
    }

    @Test("download-url takes keys with raw or %2F-encoded slashes; others' keys and odd keys are 404")
    func downloadURL() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            let key = try await client.newFileKey(token: token, filename: "비디오 클립.mp4", size: 3)
            harness.storage.put(key, size: 3)
            let encodedName = try #require(key.split(separator: "/").last?.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed))
            let parts = key.split(separator: "/")
            let raw = "/api/upload-video/download-url/\(parts[0])/\(parts[1])/\(encodedName)"
            let escaped = "/api/upload-video/download-url/\(parts[0])%2F\(parts[1])%2F\(encodedName)"
            for uri in [raw, escaped] {
                let reply = try await client.call(uri, token: token)
                #expect(reply.status == 200, "\(uri)")
                #expect(reply.json["download_url"] as? String == "https://s3.test/browser/\(key)")
                #expect(reply.json["expires_in"] as? Int == 3600)
            }
            #expect(try await client.call(raw, token: try await harness.userToken(2)).status == 404)
            for odd in ["uploads/../../etc/passwd", "a%20b", "%ZZ", "%2F%2F", String(repeating: "x", count: 2000), "uploads%252Fx"] {
                let reply = try await client.call("/api/upload-video/download-url/\(odd)", token: token)
                #expect(reply.status == 404, "\(odd)")
            }
            #expect(try await client.call(raw, token: nil).status == 401)
        }
    }

    @Test("videos lists only the caller's, newest first")
    func videos() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let token = try await harness.userToken(1)
            var keys: [String] = []
            for name in ["one.mp4", "two.mp4", "three.mp4"] {
                let reply = try await client.call(
                    "/api/upload-video/generate-url",
                    .post,
                    token: token,
                    json: #"{"filename":"\#(name)","content_type":"video/mp4","size_bytes":10}"#
                )
                keys.append(try #require(reply.json["file_key"] as? String))
                try await Task.sleep(for: .milliseconds(5))
            }
            _ = try await client.call(
                "/api/upload-video/generate-url",
                .post,
                token: try await harness.userToken(2),
                json: #"{"filename":"x.mp4","content_type":"video/mp4","size_bytes":10}"#
            )
            let list = try await client.call("/api/upload-video/videos", token: token)
            let items = try #require(list.json["items"] as? [[String: Any]])
            #expect(items.compactMap { $0["file_key"] as? String } == keys.reversed())
            #expect(items.first?["status"] as? String == "pending")
            #expect(items.first?["filename"] as? String == "three.mp4")
            #expect((items.first?["created_at"] as? String)?.hasSuffix("Z") == true)
        }
    }

    @Test("internal lookup: service tokens for media-service only; marks a present object uploaded on the way")
    func internalLookup() async throws {
        let harness = try MediaHarness()
        try await harness.test { client in
            let user = try await harness.userToken(9)
            let key = try #require(
                try await client.call(
                    "/api/upload-video/generate-url",
                    .post,
                    token: user,
                    json: #"{"filename":"a.webm","content_type":"video/webm","size_bytes":77}"#
                )
                .json["file_key"] as? String
            )
            let service = try await harness.serviceToken()
            let pending = try await client.call("/internal/videos/\(key)", token: service)
            #expect(pending.status == 200)
            #expect(pending.json["status"] as? String == "pending")
            #expect(pending.json["owner_id"] as? String == "9")

            harness.storage.put(key, size: 77, contentType: "video/webm")
            let uploaded = try await client.call("/internal/videos/\(key.replacingOccurrences(of: "/", with: "%2F"))", token: service)
            #expect(uploaded.status == 200)
            #expect(uploaded.json["status"] as? String == "uploaded")
            #expect(uploaded.json["size_bytes"] as? Int == 77)
            #expect(uploaded.json["content_type"] as? String == "video/webm")
            #expect(uploaded.json["filename"] as? String == "a.webm")
            #expect(uploaded.json["download_url"] as? String == "https://s3.test/backend/\(key)")
            #expect(uploaded.json["download_url_expires_at"] is String)
            #expect(harness.repository.events.count == 1)
            _ = try await client.call("/internal/videos/\(key)", token: service)
            #expect(harness.repository.events.count == 1)

            #expect(try await client.call("/internal/videos/uploads/nope", token: service).json["code"] as? String == "video_not_found")
            #expect(try await client.call("/internal/videos/\(key)", token: user).status == 401)
            #expect(
                try await client.call("/internal/videos/\(key)", token: try await harness.serviceToken(audience: "analysis-service")).status == 401
            )
            #expect(try await client.call("/internal/videos/\(key)", token: nil).status == 401)
            // A trusted service other than analysis-service is authenticated but not allowed (L2).
            let auth = try await client.call("/internal/videos/\(key)", token: try await harness.serviceToken(issuer: "auth-service"))
            #expect(auth.status == 403)
            #expect(auth.json["code"] as? String == "caller_not_allowed")
        }
    }
}
