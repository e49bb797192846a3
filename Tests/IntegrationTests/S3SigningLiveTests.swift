import ECGS3
import Foundation
import Testing

/// ECGS3's signatures checked by a real SigV4 verifier: the test stack's `rclone serve s3 --auth-key`.
@Suite("S3 signing against the local S3", .enabled(if: MediaStack.environment["ECG_TEST_S3_ENDPOINT"] != nil), .timeLimit(.minutes(2)))
struct S3SigningLiveTests {
    let client = S3Client(configuration: MediaStack.s3)

    @Test(
        "presigned PUT and GET, and header-signed HEAD, for keys with spaces, Unicode, slashes and reserved characters",
        arguments: [
            "live/a b/c d.mp4",
            "live/비디오/파일 이름.webm",
            "live/plus+and=equals&amp;.mp4",
            "live/dollar$ tilde~ (paren) 'quote'.mov",
            "live/émoji 🎬/deep/er/key.mkv",
        ]
    )
    func roundTrip(baseKey: String) async throws {
        let key = baseKey.replacingOccurrences(of: "live/", with: "live/\(UUID().uuidString.prefix(8))/")
        let bytes = MediaStack.videoBytes(3000)
        #expect(try await client.headObject(key: key) == nil)

        let put = client.presignedPut(key: key, contentType: "video/mp4", contentLength: Int64(bytes.count), expires: 300, audience: .backend)
        let stored = try await MediaStack.call(.PUT, put.url, body: bytes, headers: [("Content-Type", "video/mp4")])
        #expect(stored.status == 200, "PUT \(key): \(stored.status) \(stored.text)")

        let head = try await client.headObject(key: key)
        #expect(head?.contentLength == Int64(bytes.count))

        let get = client.presignedGet(key: key, expires: 300, audience: .backend)
        let fetched = try await MediaStack.call(.GET, get.url)
        #expect(fetched.status == 200, "GET \(key): \(fetched.status) \(fetched.text.prefix(300))")
        #expect(fetched.body == bytes)
    }

    @Test("a URL signed for S3_PUBLIC_ENDPOINT's host works through that host; the internal host's signature does not")
    func publicEndpoint() async throws {
        var configuration = MediaStack.s3
        // Another name for the same server, as a browser outside the backend's network would see it.
        configuration.publicEndpoint = try S3Endpoint(
            url: configuration.endpoint.description.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        )
        let client = S3Client(configuration: configuration)
        let key = "live/\(UUID().uuidString.prefix(8))/public endpoint.mp4"
        let bytes = MediaStack.videoBytes(100)
        let put = client.presignedPut(key: key, contentType: "video/mp4", expires: 300, audience: .browser)
        #expect(put.url.hasPrefix("http://localhost:"))
        #expect(try await MediaStack.call(.PUT, put.url, body: bytes, headers: [("Content-Type", "video/mp4")]).status == 200)

        let internalURL = client.presignedGet(key: key, expires: 300, audience: .backend).url
        let rewritten = internalURL.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        #expect(try await MediaStack.call(.GET, rewritten).status == 403)
        let publicURL = client.presignedGet(key: key, expires: 300, audience: .browser).url
        #expect(try await MediaStack.call(.GET, publicURL).body == bytes)
    }

    @Test("the bucket exists (created at start); a missing one is created with a header-signed PUT; wrong credentials are refused")
    func bucketAndCredentials() async throws {
        #expect(try await client.bucketExists())
        #expect(try await client.createBucketIfMissing() == false)
        var fresh = MediaStack.s3
        fresh.bucket = "ecg-created-\(UUID().uuidString.prefix(8).lowercased())"
        let creator = S3Client(configuration: fresh)
        #expect(try await creator.bucketExists() == false)
        #expect(try await creator.createBucketIfMissing() == true)
        #expect(try await creator.bucketExists())
        #expect(try await creator.createBucketIfMissing() == false)
        var wrong = MediaStack.s3
        wrong.credentials = S3Credentials(accessKeyID: "ecg-local", secretAccessKey: "not-the-secret")
        let refused = S3Client(configuration: wrong)
        await #expect(throws: S3Error.self) { try await refused.headObject(key: "live/anything") }
        let url = refused.presignedGet(key: "live/anything", expires: 60, audience: .backend).url
        #expect(try await MediaStack.call(.GET, url).status == 403)
    }
}
