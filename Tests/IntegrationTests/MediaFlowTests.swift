import AsyncHTTPClient
import ECGKafka
import ECGS3
import ECGTokens
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import Synchronization
import Testing

// MARK: - Support

/// The test stack's addresses and keys, and small HTTP and token helpers for the media tests.
enum MediaStack {
    static let environment = ProcessInfo.processInfo.environment
    static var gateway: String { environment["ECG_TEST_GATEWAY_URL"] ?? "" }
    static var media: String { environment["ECG_TEST_MEDIA_URL"] ?? "" }
    static var keysDirectory: String { environment["ECG_TEST_KEYS_DIR"] ?? "" }

    /// The stack's S3 (rclone, with SigV4 verification), as media-service is configured for it.
    static var s3: S3Configuration {
        S3Configuration(
            bucket: environment["ECG_TEST_S3_BUCKET"] ?? "ecg-videos",
            region: environment["ECG_TEST_S3_REGION"] ?? "us-east-1",
            endpoint: try! S3Endpoint(url: environment["ECG_TEST_S3_ENDPOINT"] ?? "http://127.0.0.1:19000"),
            credentials: S3Credentials(
                accessKeyID: environment["ECG_TEST_S3_ACCESS_KEY_ID"] ?? "ecg-local",
                secretAccessKey: environment["ECG_TEST_S3_SECRET_ACCESS_KEY"] ?? "ecg-local-secret"
            ),
            forcePathStyle: true
        )
    }

    struct Reply: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var code: String? { json["code"] as? String }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func call(
        _ method: HTTPMethod,
        _ url: String,
        token: String? = nil,
        json: [String: Any]? = nil,
        body: Data? = nil,
        headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let reply = try await StackClient.send(request)
        return Reply(status: reply.status, headers: HTTPHeaders(reply.headers), body: reply.body)
    }

    /// A user access token as auth-service would sign it: its user key when the stack has one, else its
    /// service key, which auth-service's JWKS (trusted by media-service for user tokens) also publishes.
    static func userToken(_ userID: Int64 = Int64.random(in: 1_000_000...9_000_000_000)) async throws -> String {
        let directory = URL(fileURLWithPath: keysDirectory)
        let userKey = directory.appendingPathComponent("auth-service.user.pem")
        let file = FileManager.default.fileExists(atPath: userKey.path) ? userKey : directory.appendingPathComponent("auth-service.service.pem")
        let key = try SigningKey(pem: String(contentsOf: file, encoding: .utf8))
        return try await TokenSigner(key: key).sign(
            issuer: "auth-service",
            audience: "ecg-api",
            subject: String(userID),
            type: .access,
            lifetime: 900
        ).token
    }

    /// A service token signed with a key from the stack's keys directory (`<issuer>.service.pem`), or with `key`.
    static func serviceToken(issuer: String = "analysis-service", audience: String = "media-service", key: SigningKey? = nil) async throws -> String {
        let signingKey = try key ?? SigningKey(pem: String(contentsOfFile: "\(keysDirectory)/\(issuer).service.pem", encoding: .utf8))
        return try await TokenSigner(key: signingKey).sign(issuer: issuer, audience: audience, subject: issuer, type: .service, lifetime: 300).token
    }

    /// Random bytes that look nothing like JSON, so a mix-up shows.
    static func videoBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    struct Upload {
        let fileKey: String
        let url: String
        let headers: [String: String]
        let bytes: Data
    }

    /// generate-url through the gateway; fails the test unless it answers 200.
    /// `size` defaults to the length of `bytes` (size_bytes is required, security review M5).
    static func generateURL(token: String, filename: String, contentType: String = "video/mp4", size: Int? = nil, bytes: Data) async throws -> Upload
    {
        let body: [String: Any] = ["filename": filename, "content_type": contentType, "size_bytes": size ?? bytes.count]
        let reply = try await call(.POST, gateway + "/api/upload-video/generate-url", token: token, json: body)
        try #require(reply.status == 200, "generate-url: \(reply.status) \(reply.text)")
        return Upload(
            fileKey: try #require(reply.json["file_key"] as? String),
            url: try #require(reply.json["upload_url"] as? String),
            headers: try #require(reply.json["upload_headers"] as? [String: String]),
            bytes: bytes
        )
    }

    /// What a browser does with the URL: PUT the file with the signed headers (and its own Origin).
    /// `POST /api/upload-video/complete` for `fileKey`, through the gateway.
    static func complete(_ fileKey: String, token: String) async throws -> Reply {
        try await call(.POST, gateway + "/api/upload-video/complete", token: token, json: ["file_key": fileKey])
    }

    static func put(_ upload: Upload, url: String? = nil, contentType: String? = nil, body: Data? = nil) async throws -> Reply {
        let headers = [("Origin", "http://localhost:3000"), ("Content-Type", contentType ?? upload.headers["Content-Type"] ?? "")]
        return try await call(.PUT, url ?? upload.url, body: body ?? upload.bytes, headers: headers)
    }

    /// Percent-encodes every character outside RFC 3986's unreserved set, slashes included.
    static func encodeAll(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
        ) ?? text
    }

    /// Encodes each path segment, keeping the slashes between them.
    static func encodePath(_ key: String) -> String {
        key.split(separator: "/", omittingEmptySubsequences: false).map { encodeAll(String($0)) }.joined(separator: "/")
    }
}

// MARK: - Tests

/// media-service end to end: the gateway, the service, PostgreSQL, the local S3 (rclone, which checks
/// SigV4 signatures and expiry) and the embedded Kafka broker (SPEC.md §3 media rows, §4, §5).
@Suite("Media: uploads through presigned URLs", .enabled(if: MediaStack.environment["ECG_TEST_GATEWAY_URL"] != nil), .timeLimit(.minutes(3)))
struct MediaFlowTests {
    @Test("a new user uploads with the URL it was given, completes, lists and downloads the same bytes; others see nothing")
    func uploadRoundTrip() async throws {
        let owner = try await MediaStack.userToken()
        let bytes = MediaStack.videoBytes(256 * 1024 + 17)
        let upload = try await MediaStack.generateURL(token: owner, filename: "Summer trip.mp4", size: bytes.count, bytes: bytes)
        #expect(upload.fileKey.hasPrefix("uploads/") && upload.fileKey.hasSuffix("/Summer_trip.mp4"))
        #expect(upload.headers == ["Content-Type": "video/mp4", "Content-Length": String(bytes.count)])

        let early = try await MediaStack.complete(upload.fileKey, token: owner)
        #expect(early.status == 409)
        #expect(early.code == "upload_not_found")

        let put = try await MediaStack.put(upload)
        #expect(put.status == 200, "PUT: \(put.text)")

        let complete = try await MediaStack.complete(upload.fileKey, token: owner)
        #expect(complete.status == 200, "\(complete.text)")
        #expect(complete.json["status"] as? String == "uploaded")
        #expect(complete.json["size_bytes"] as? Int == bytes.count)
        #expect(complete.json["content_type"] as? String == "video/mp4")
        #expect(complete.json["file_key"] as? String == upload.fileKey)

        let list = try await MediaStack.call(.GET, MediaStack.gateway + "/api/upload-video/videos", token: owner)
        #expect(list.status == 200)
        let items = try #require(list.json["items"] as? [[String: Any]])
        let item = try #require(items.first)
        #expect(item["file_key"] as? String == upload.fileKey)
        #expect(item["filename"] as? String == "Summer trip.mp4")
        #expect(item["status"] as? String == "uploaded")
        #expect(item["size_bytes"] as? Int == bytes.count)
        #expect(item["content_type"] as? String == "video/mp4")
        #expect((item["created_at"] as? String)?.hasSuffix("Z") == true)

        let download = try await MediaStack.call(.GET, MediaStack.gateway + "/api/upload-video/download-url/" + upload.fileKey, token: owner)
        #expect(download.status == 200)
        #expect(download.json["expires_in"] as? Int == 3600)
        let url = try #require(download.json["download_url"] as? String)
        let fetched = try await MediaStack.call(.GET, url)
        #expect(fetched.status == 200)
        #expect(fetched.body == bytes)

        // Another user: no list entry, and the key is unknown to them (404, never 403).
        let stranger = try await MediaStack.userToken()
        let theirList = try await MediaStack.call(.GET, MediaStack.gateway + "/api/upload-video/videos", token: stranger)
        #expect((theirList.json["items"] as? [[String: Any]])?.isEmpty == true)
        for path in ["/api/upload-video/download-url/" + upload.fileKey, "/api/upload-video/download-url/" + MediaStack.encodeAll(upload.fileKey)] {
            let reply = try await MediaStack.call(.GET, MediaStack.gateway + path, token: stranger)
            #expect(reply.status == 404)
            #expect(reply.code == "video_not_found")
        }
        let theirComplete = try await MediaStack.complete(upload.fileKey, token: stranger)
        #expect(theirComplete.status == 404)
        // No token at all.
        let anonymous = try await MediaStack.call(.GET, MediaStack.gateway + "/api/upload-video/videos")
        #expect(anonymous.status == 401)
        #expect(anonymous.headers.first(name: "WWW-Authenticate") == "Bearer")
    }

    @Test("S3 refuses a PUT with another Content-Type, another size, a tampered signature, or an expired URL")
    func s3RefusesWhatWasNotSigned() async throws {
        let owner = try await MediaStack.userToken()
        let bytes = MediaStack.videoBytes(4096)
        let upload = try await MediaStack.generateURL(token: owner, filename: "clip.mp4", size: bytes.count, bytes: bytes)

        let otherType = try await MediaStack.put(upload, contentType: "video/webm")
        #expect(otherType.status == 403, "other Content-Type: \(otherType.status) \(otherType.text)")
        #expect(otherType.text.contains("SignatureDoesNotMatch"))
        let otherSize = try await MediaStack.put(upload, body: bytes + Data([1]))
        #expect(otherSize.status == 403, "other size: \(otherSize.status) \(otherSize.text)")
        #expect(otherSize.text.contains("SignatureDoesNotMatch"))
        let last = upload.url.last == "0" ? "1" : "0"
        let tampered = try await MediaStack.put(upload, url: String(upload.url.dropLast()) + last)
        #expect(tampered.status == 403, "tampered signature: \(tampered.status) \(tampered.text)")
        #expect(tampered.text.contains("SignatureDoesNotMatch"))

        // The same key, signed correctly with the stack's credentials: once valid for a minute two hours ago,
        // once valid for one second, used three seconds later. (rclone answers an expired URL with 400
        // AccessDenied, AWS with 403 AccessDenied.)
        let s3 = S3Client(configuration: MediaStack.s3)
        let longAgo = s3.presignedPut(
            key: upload.fileKey,
            contentType: "video/mp4",
            contentLength: Int64(bytes.count),
            expires: 60,
            audience: .backend,
            date: Date().addingTimeInterval(-7200)
        )
        let brief = s3.presignedPut(key: upload.fileKey, contentType: "video/mp4", contentLength: Int64(bytes.count), expires: 1, audience: .backend)
        try await Task.sleep(for: .seconds(3))
        for expired in [longAgo, brief] {
            let late = try await MediaStack.put(upload, url: expired.url)
            #expect([400, 403].contains(late.status), "expired URL: \(late.status) \(late.text)")
            #expect(late.text.contains("AccessDenied"), "expired URL: \(late.text)")
        }

        // Nothing got through.
        let complete = try await MediaStack.complete(upload.fileKey, token: owner)
        #expect(complete.status == 409)
        // The untouched URL still works, so the refusals above were about what was changed.
        let put = try await MediaStack.put(upload)
        #expect(put.status == 200)
    }

    @Test("generate-url refuses other content types, oversize files and bad fields")
    func generateURLValidation() async throws {
        let token = try await MediaStack.userToken()
        let cases: [([String: Any], Int, String)] = [
            (["filename": "a.gif", "content_type": "image/gif"], 422, "unsupported_content_type"),
            (["filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 3 * 1024 * 1024 * 1024], 413, "file_too_large"),
            (["filename": "", "content_type": "video/mp4"], 422, "validation_error"),
            (["content_type": "video/mp4"], 422, "validation_error"),
            (["filename": "a.mp4", "content_type": "video/mp4", "size_bytes": -1], 422, "validation_error"),
            // M5: the size is required, so that every URL bounds the upload's length.
            (["filename": "a.mp4", "content_type": "video/mp4"], 422, "validation_error"),
        ]
        for (body, status, code) in cases {
            let reply = try await MediaStack.call(.POST, MediaStack.gateway + "/api/upload-video/generate-url", token: token, json: body)
            #expect(reply.status == status, "\(body): \(reply.text)")
            #expect(reply.code == code, "\(body)")
        }
        let malformed = try await MediaStack.call(
            .POST,
            MediaStack.gateway + "/api/upload-video/generate-url",
            token: token,
            body: Data("{".utf8),
            headers: [("Content-Type", "application/json")]
        )
        #expect(malformed.status == 400)
        #expect(malformed.code == "invalid_json")
    }

    @Test("an object overwritten through the still-valid URL after complete is refused (ETag recorded at complete, M5)")
    func overwriteAfterComplete() async throws {
        let owner = try await MediaStack.userToken()
        let bytes = MediaStack.videoBytes(2000)
        // A name whose extension is not the declared type's: the declared (signed) type is what counts.
        let upload = try await MediaStack.generateURL(token: owner, filename: "home movie.avi", bytes: bytes)
        #expect(try await MediaStack.put(upload).status == 200)
        let complete = try await MediaStack.complete(upload.fileKey, token: owner)
        #expect(complete.status == 200, "\(complete.text)")
        let path = MediaStack.gateway + "/api/upload-video/download-url/" + upload.fileKey
        #expect(try await MediaStack.call(.GET, path, token: owner).status == 200)

        // Same length (Content-Length is signed), other bytes.
        var other = bytes
        other[100] ^= 0xFF
        #expect(try await MediaStack.put(upload, body: other).status == 200)
        let download = try await MediaStack.call(.GET, path, token: owner)
        #expect(download.status == 409, "\(download.text)")
        #expect(download.code == "upload_changed")
        let lookup = try await MediaStack.call(
            .GET,
            MediaStack.media + "/internal/videos/" + upload.fileKey,
            token: try await MediaStack.serviceToken()
        )
        #expect(lookup.status == 409, "\(lookup.text)")
    }

    @Test("generate-url counts uploaded and pending declared bytes against the user's quota: 413 storage_quota_exceeded (M5)")
    func storageQuota() async throws {
        let owner = try await MediaStack.userToken()
        // MAX_USER_STORAGE_BYTES defaults to 10 GiB; pending 1 GiB declarations reach it without uploading.
        var statuses: [Int] = []
        var lastCode: String?
        for index in 0..<12 {
            let reply = try await MediaStack.call(
                .POST,
                MediaStack.gateway + "/api/upload-video/generate-url",
                token: owner,
                json: ["filename": "big\(index).mp4", "content_type": "video/mp4", "size_bytes": 1 << 30]
            )
            statuses.append(reply.status)
            lastCode = reply.code
            if reply.status != 200 { break }
        }
        #expect(statuses == Array(repeating: 200, count: 10) + [413], "\(statuses)")
        #expect(lastCode == "storage_quota_exceeded")
        // Another user is not affected.
        let other = try await MediaStack.userToken()
        _ = try await MediaStack.generateURL(token: other, filename: "a.mp4", bytes: MediaStack.videoBytes(10))
    }

    @Test("concurrent generate-url calls of one user cannot exceed the quota, and deleting a video gives its bytes back")
    func storageQuotaUnderConcurrency() async throws {
        let owner = try await MediaStack.userToken()
        let gib = 1 << 30
        func reserve(_ name: String) async throws -> MediaStack.Reply {
            try await MediaStack.call(
                .POST,
                MediaStack.gateway + "/api/upload-video/generate-url",
                token: owner,
                json: ["filename": name, "content_type": "video/mp4", "size_bytes": gib]
            )
        }
        // 24 calls at once for 1 GiB each against the default 10 GiB quota: exactly 10 fit.
        let replies = try await withThrowingTaskGroup(of: MediaStack.Reply.self) { group in
            for index in 0..<24 { group.addTask { try await reserve("race\(index).mp4") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let accepted = replies.filter { $0.status == 200 }
        #expect(accepted.count == 10, "\(replies.map(\.status))")
        #expect(replies.filter { $0.status == 413 }.allSatisfy { $0.code == "storage_quota_exceeded" })
        #expect(replies.count { $0.status == 413 } == 14)

        // DELETE of a pending video frees its declared bytes: one more fits, then none.
        let freed = try #require(accepted.first?.json["file_key"] as? String)
        let deleted = try await MediaStack.call(.DELETE, MediaStack.gateway + "/api/upload-video/videos/" + MediaStack.encodePath(freed), token: owner)
        #expect(deleted.status == 204, "\(deleted.text)")
        #expect(try await reserve("after-delete.mp4").status == 200)
        #expect(try await reserve("over.mp4").status == 413)
    }

    @Test("generate-url calls of one user arriving together near the quota get what one-by-one calls would: small videos fit beside a refused big one")
    func storageQuotaForRequestsArrivingTogether() async throws {
        // media-service groups concurrent inserts into one statement (issue 13); the answers must not depend on it.
        let ownerID = Int64.random(in: 1_000_000...9_000_000_000)
        let owner = try await MediaStack.userToken(ownerID)
        let mib: Int64 = 1 << 20
        func reserve(_ name: String, bytes: Int64) async throws -> MediaStack.Reply {
            try await MediaStack.call(
                .POST,
                MediaStack.gateway + "/api/upload-video/generate-url",
                token: owner,
                json: ["filename": name, "content_type": "video/mp4", "size_bytes": bytes]
            )
        }
        // 9 GiB of the default 10 GiB quota, one by one.
        for index in 0..<9 {
            #expect(try await reserve("base\(index).mp4", bytes: 1024 * mib).status == 200)
        }
        // At once: a 2 GiB video, which never fits; eight of 100 MiB and four of one byte, which all fit in any order.
        let replies = try await withThrowingTaskGroup(of: (name: String, reply: MediaStack.Reply).self) { group in
            group.addTask { ("big.mp4", try await reserve("big.mp4", bytes: 2048 * mib)) }
            for index in 0..<8 { group.addTask { ("small\(index).mp4", try await reserve("small\(index).mp4", bytes: 100 * mib)) } }
            for index in 0..<4 { group.addTask { ("tiny\(index).mp4", try await reserve("tiny\(index).mp4", bytes: 1)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let refused = replies.filter { $0.reply.status != 200 }
        #expect(refused.map(\.name) == ["big.mp4"], "\(replies.map { ($0.name, $0.reply.status) })")
        #expect(refused.first?.reply.code == "storage_quota_exceeded")

        // The records hold the declared sizes, and the usage row their sum.
        let (declared, reserved) = try await StackDatabase.with { postgres -> ([String: Int64?], Int64?) in
            var declared: [String: Int64?] = [:]
            let rows = try await postgres.query("SELECT filename, declared_size_bytes FROM media.videos WHERE owner_id = \(ownerID)", logger: StackDatabase.logger)
            for try await (filename, size) in rows.decode((String, Int64?).self) { declared[filename] = size }
            var reserved: Int64?
            let usage = try await postgres.query("SELECT reserved_bytes FROM media.storage_usage WHERE owner_id = \(ownerID)", logger: StackDatabase.logger)
            for try await bytes in usage.decode(Int64.self) { reserved = bytes }
            return (declared, reserved)
        }
        #expect(declared.count == 9 + 8 + 4)
        #expect(declared["big.mp4"] == nil)
        #expect((0..<8).allSatisfy { declared["small\($0).mp4"] == .some(100 * mib) })
        #expect((0..<4).allSatisfy { declared["tiny\($0).mp4"] == .some(1) })
        #expect(reserved == 9 * 1024 * mib + 8 * 100 * mib + 4)
    }

    @Test("a Unicode name with spaces uploads, and its key works raw, %2F-encoded and fully encoded")
    func unicodeKeys() async throws {
        let owner = try await MediaStack.userToken()
        let bytes = MediaStack.videoBytes(1000)
        let upload = try await MediaStack.generateURL(token: owner, filename: "내 비디오 (최종) café.webm", contentType: "video/webm", bytes: bytes)
        #expect(upload.fileKey.hasSuffix("/내_비디오_최종_café.webm"))
        #expect(upload.headers == ["Content-Type": "video/webm", "Content-Length": "1000"])
        let put = try await MediaStack.put(upload)
        #expect(put.status == 200, "\(put.text)")
        let complete = try await MediaStack.complete(upload.fileKey, token: owner)
        #expect(complete.status == 200)
        #expect(complete.json["size_bytes"] as? Int == 1000)

        for form in [MediaStack.encodePath(upload.fileKey), MediaStack.encodeAll(upload.fileKey)] {
            for base in [MediaStack.gateway, MediaStack.media] {
                let reply = try await MediaStack.call(.GET, base + "/api/upload-video/download-url/" + form, token: owner)
                #expect(reply.status == 200, "\(base) \(form): \(reply.text)")
                if let url = reply.json["download_url"] as? String {
                    let fetched = try await MediaStack.call(.GET, url)
                    #expect(fetched.body == bytes)
                }
            }
        }
    }

    @Test("odd keys on download-url and complete are 404s (or the gateway's 4xx), never 500")
    func keyEdgeCases() async throws {
        let token = try await MediaStack.userToken()
        let odd = [
            "uploads/with space/x.mp4", "uploads/with%20space/x.mp4", "uploads%2Fa%2Fb.mp4", "uploads/%EB%B9%84%EB%94%94%EC%98%A4.mp4",
            "uploads/../../etc/passwd", "uploads/%2E%2E/%2E%2E/x", "..", "%2e%2e%2f", "%ZZ", "%00", "a%2F%2F%2Fb", "uploads/x/",
            String(repeating: "a", count: 1500), String(repeating: "%2F", count: 500),
            "uploads/🎬.mp4".addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!,
        ]
        for key in odd {
            for base in [MediaStack.gateway, MediaStack.media] {
                let reply = try await MediaStack.call(.GET, base + "/api/upload-video/download-url/" + key, token: token)
                #expect(reply.status < 500, "\(base) \(key.prefix(60)): \(reply.status)")
                #expect([400, 404].contains(reply.status), "\(base) \(key.prefix(60)): \(reply.status) \(reply.text.prefix(200))")
            }
        }
        for key in ["uploads/../x", String(repeating: "é", count: 3000), "uploads/a\u{0}b", " "] {
            let reply = try await MediaStack.complete(key, token: token)
            #expect(reply.status == 404 || reply.status == 422, "\(key.prefix(40)): \(reply.status) \(reply.text)")
        }
    }

    @Test("the OpenAPI document covers every media route, with its security")
    func openAPI() async throws {
        let reply = try await MediaStack.call(.GET, MediaStack.media + "/openapi.json")
        let paths = try #require(reply.json["paths"] as? [String: [String: Any]])
        let expected: [(String, String, String)] = [
            ("/api/upload-video/generate-url", "post", "userToken"), ("/api/upload-video/download-url/{file_key}", "get", "userToken"),
            ("/api/upload-video/complete", "post", "userToken"), ("/api/upload-video/videos", "get", "userToken"),
            ("/internal/videos/{file_key}", "get", "serviceToken"),
        ]
        for (path, method, scheme) in expected {
            let operation = try #require(paths[path]?[method] as? [String: Any], "\(method) \(path)")
            let security = operation["security"] as? [[String: Any]]
            #expect(security?.first?[scheme] != nil, "\(path) security")
        }
        let parameters = (paths["/api/upload-video/download-url/{file_key}"]?["get"] as? [String: Any])?["parameters"] as? [[String: Any]]
        #expect(parameters?.first?["name"] as? String == "file_key")
    }
}

/// `GET /internal/videos/{file_key}` on media-service's own port (the gateway never routes `/internal/*`).
@Suite("Media: the internal API for analysis-service", .enabled(if: MediaStack.environment["ECG_TEST_MEDIA_URL"] != nil), .timeLimit(.minutes(3)))
struct MediaInternalAPITests {
    @Test("only service tokens for media-service from trusted issuers get in")
    func authentication() async throws {
        let owner = try await MediaStack.userToken()
        let upload = try await MediaStack.generateURL(token: owner, filename: "a.mp4", bytes: MediaStack.videoBytes(10))
        let url = MediaStack.media + "/internal/videos/" + upload.fileKey
        let rogueKey = try SigningKey.generate()
        let refused: [(String, String?)] = [
            ("no token", nil),
            ("a user token", owner),
            ("a service token for another audience", try await MediaStack.serviceToken(audience: "analysis-service")),
            ("an untrusted issuer", try await MediaStack.serviceToken(issuer: "rogue-service", key: rogueKey)),
            ("a trusted issuer's name with a key it never published", try await MediaStack.serviceToken(issuer: "analysis-service", key: rogueKey)),
        ]
        for (what, token) in refused {
            let reply = try await MediaStack.call(.GET, url, token: token)
            #expect(reply.status == 401, "\(what): \(reply.status) \(reply.text)")
        }
        let accepted = try await MediaStack.call(.GET, url, token: try await MediaStack.serviceToken())
        #expect(accepted.status == 200, "\(accepted.text)")
        #expect(accepted.json["status"] as? String == "pending")
        let unknown = try await MediaStack.call(
            .GET,
            MediaStack.media + "/internal/videos/uploads/no/such.mp4",
            token: try await MediaStack.serviceToken()
        )
        #expect(unknown.status == 404)
        #expect(unknown.code == "video_not_found")
        // Through the gateway it does not exist at all.
        let viaGateway = try await MediaStack.call(
            .GET,
            MediaStack.gateway + "/internal/videos/" + upload.fileKey,
            token: try await MediaStack.serviceToken()
        )
        #expect(viaGateway.status == 404)
    }

    @Test("a video uploaded without complete is marked uploaded on lookup, with a worker URL that fetches it")
    func lookupConfirmsUpload() async throws {
        let ownerID = Int64.random(in: 1_000_000...9_000_000_000)
        let owner = try await MediaStack.userToken(ownerID)
        let bytes = MediaStack.videoBytes(20_000)
        let upload = try await MediaStack.generateURL(
            token: owner,
            filename: "no complete.mov",
            contentType: "video/quicktime",
            size: bytes.count,
            bytes: bytes
        )
        #expect(try await MediaStack.put(upload).status == 200)

        let before = Date()
        let reply = try await MediaStack.call(
            .GET,
            MediaStack.media + "/internal/videos/" + MediaStack.encodeAll(upload.fileKey),
            token: try await MediaStack.serviceToken()
        )
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json["file_key"] as? String == upload.fileKey)
        #expect(reply.json["owner_id"] as? String == String(ownerID))
        #expect(reply.json["status"] as? String == "uploaded")
        #expect(reply.json["content_type"] as? String == "video/quicktime")
        #expect(reply.json["size_bytes"] as? Int == bytes.count)
        #expect(reply.json["filename"] as? String == "no complete.mov")
        #expect(reply.json["created_at"] is String)
        let expiresAt = try #require((reply.json["download_url_expires_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
        // WORKER_URL_TTL_SECONDS defaults to 6 h.
        #expect(abs(expiresAt.timeIntervalSince(before) - 21_600) < 60)
        let url = try #require(reply.json["download_url"] as? String)
        #expect(url.contains("X-Amz-Expires=21600"))
        let fetched = try await MediaStack.call(.GET, url)
        #expect(fetched.body == bytes)

        // complete afterwards agrees, and the list shows it uploaded.
        let complete = try await MediaStack.complete(upload.fileKey, token: owner)
        #expect(complete.status == 200)
        #expect(complete.json["size_bytes"] as? Int == bytes.count)
    }
}

/// Messages shared between the reading task and the test.
final class Collected: Sendable {
    let messages = Mutex<[KafkaMessage]>([])
}

/// `ecg.media.video.uploaded.v1` on `ecg.media.events`, keyed by file key, once per video whichever way it
/// became uploaded (SPEC.md §5).
@Suite("Media: the video.uploaded event", .enabled(if: MediaStack.environment["ECG_TEST_KAFKA_BROKERS"] != nil), .timeLimit(.minutes(3)))
struct MediaEventTests {
    @Test("each uploaded video is announced exactly once, however often complete and the internal lookup run")
    func announcedOnce() async throws {
        let ownerID = Int64.random(in: 1_000_000...9_000_000_000)
        let owner = try await MediaStack.userToken(ownerID)
        let service = try await MediaStack.serviceToken()
        var keys: [String] = []
        for (index, name) in ["first.mp4", "second.mp4"].enumerated() {
            let bytes = MediaStack.videoBytes(1000 + index)
            let upload = try await MediaStack.generateURL(token: owner, filename: name, size: bytes.count, bytes: bytes)
            #expect(try await MediaStack.put(upload).status == 200)
            keys.append(upload.fileKey)
            // Racing and repeated confirmations: complete three times at once, plus internal lookups.
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await MediaStack.complete(upload.fileKey, token: owner).status
                    }
                    group.addTask { try await MediaStack.call(.GET, MediaStack.media + "/internal/videos/" + upload.fileKey, token: service).status }
                }
                for try await status in group { #expect(status == 200) }
            }
        }

        var logger = Logger(label: "media-event-tests")
        logger.logLevel = .warning
        let brokers = try #require(MediaStack.environment["ECG_TEST_KAFKA_BROKERS"])
        let consumer = try await KafkaConsumer(
            configuration: KafkaConfiguration(bootstrapServers: brokers),
            groupID: "media-tests-\(UUID().uuidString.prefix(8))",
            topics: [MediaStack.environment["TOPIC_MEDIA_EVENTS"] ?? "ecg.media.events"],
            logger: logger
        )
        let wanted = Set(keys)
        let collected = Collected()
        let reader = Task {
            for await message in consumer.messages {
                if let key = message.keyString, wanted.contains(key) { collected.messages.withLock { $0.append(message) } }
            }
        }
        // Wait for both, then a few seconds more so that a duplicate would show.
        let deadline = ContinuousClock.now + .seconds(40)
        while ContinuousClock.now < deadline, Set(collected.messages.withLock { $0.compactMap(\.keyString) }) != wanted {
            try await Task.sleep(for: .milliseconds(200))
        }
        try await Task.sleep(for: .seconds(3))
        consumer.stop()
        await reader.value
        await consumer.close()
        let messages = collected.messages.withLock { $0 }

        for key in keys {
            let forKey = messages.filter { $0.keyString == key }
            #expect(forKey.count == 1, "\(key): \(forKey.count) events")
            guard let message = forKey.first else { continue }
            #expect(message.header("ce_type") == "ecg.media.video.uploaded.v1")
            #expect(message.header("ce_id") != nil)
            let event = try #require(try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any])
            #expect(event["specversion"] as? String == "1.0")
            #expect(event["type"] as? String == "ecg.media.video.uploaded.v1")
            #expect(event["subject"] as? String == key)
            #expect(event["id"] as? String == message.header("ce_id"))
            let data = try #require(event["data"] as? [String: Any])
            #expect(data["file_key"] as? String == key)
            #expect(data["owner_id"] as? String == String(ownerID))
            #expect(data["content_type"] as? String == "video/mp4")
            #expect((data["size_bytes"] as? Int).map { $0 >= 1000 } == true)
        }
    }
}
