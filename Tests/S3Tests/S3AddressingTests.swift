import Foundation
import Testing

@testable import ECGS3

@Suite("S3 keys, addressing and presigned uploads")
struct S3AddressingTests {
    static let date = Date(timeIntervalSince1970: 1_764_028_800)  // 2025-11-25T00:00:00Z
    static let credentials = S3Credentials(accessKeyID: "ecg-local", secretAccessKey: "ecg-local-secret")

    static func configuration(
        endpoint: String = "http://127.0.0.1:9000",
        publicEndpoint: String? = nil,
        pathStyle: Bool = true,
        sessionToken: String? = nil
    ) -> S3Configuration {
        var credentials = Self.credentials
        credentials.sessionToken = sessionToken
        return S3Configuration(
            bucket: "ecg-videos",
            region: "us-east-1",
            endpoint: try! S3Endpoint(url: endpoint),
            publicEndpoint: publicEndpoint.map { try! S3Endpoint(url: $0) },
            credentials: credentials,
            forcePathStyle: pathStyle
        )
    }

    @Test(
        "keys are encoded the AWS way: slashes kept, spaces %20, Unicode as UTF-8 bytes, reserved characters escaped",
        arguments: [
            ("uploads/a b/c.mp4", "uploads/a%20b/c.mp4"),
            ("uploads/비디오.mp4", "uploads/%EB%B9%84%EB%94%94%EC%98%A4.mp4"),
            ("uploads/café.mov", "uploads/caf%C3%A9.mov"),
            ("a+b=c&d", "a%2Bb%3Dc%26d"),
            ("100%/x", "100%25/x"),
            ("~tilde-_.", "~tilde-_."),
            ("emoji 🎬.webm", "emoji%20%F0%9F%8E%AC.webm"),
            ("a//b/", "a//b/"),
            ("!'()*$@:,;?#[]", "%21%27%28%29%2A%24%40%3A%2C%3B%3F%23%5B%5D"),
        ]
    )
    func keyEncoding(key: String, encoded: String) {
        #expect(SigV4.uriEncode(key, encodeSlash: false) == encoded)
        #expect(SigV4.uriEncode(key, encodeSlash: true) == encoded.replacingOccurrences(of: "/", with: "%2F"))
    }

    @Test("query parameters are sorted by encoded name, then value; values escape slashes and spaces")
    func canonicalQuery() {
        #expect(SigV4.canonicalQuery([("b", "2"), ("a", "x y/z"), ("a", "1"), ("flag", "")]) == "a=1&a=x%20y%2Fz&b=2&flag=")
        #expect(SigV4.canonicalQuery([("X-Amz-Date", "d"), ("X-Amz-Credential", "k/s")]) == "X-Amz-Credential=k%2Fs&X-Amz-Date=d")
    }

    @Test("header values are trimmed and inner spaces collapsed; names lower-cased and sorted")
    func canonicalHeaders() {
        let canonical = SigV4.canonicalHeaders([("X-Amz-Meta-Title", "  a   b  "), ("Host", "h"), ("Content-Type", "video/mp4")])
        #expect(canonical.block == "content-type:video/mp4\nhost:h\nx-amz-meta-title:a b\n")
        #expect(canonical.signedHeaders == "content-type;host;x-amz-meta-title")
    }

    @Test("a repeated header name is one line with its values in the order they came, joined by commas")
    func repeatedHeaders() {
        let canonical = SigV4.canonicalHeaders([("X-Amz-Meta-B", "2"), ("host", "h"), ("x-amz-meta-b", " 1 "), ("X-Amz-Meta-A", "a\tb"), ("X-AMZ-META-B", "3")])
        #expect(canonical.block == "host:h\nx-amz-meta-a:a\tb\nx-amz-meta-b:2,1,3\n")
        #expect(canonical.signedHeaders == "host;x-amz-meta-a;x-amz-meta-b")
        #expect(SigV4.canonicalHeaders([]) == (block: "", signedHeaders: ""))
    }

    @Test("values with nothing to trim or collapse are kept; others are trimmed of spaces and tabs, inner space runs collapsed")
    func headerValues() {
        for (value, normalized) in [
            ("video/mp4", "video/mp4"), ("a b", "a b"), ("a\t\tb", "a\t\tb"), ("a  b", "a b"), ("\ta b ", "a b"), ("   ", ""), ("", ""),
        ] {
            #expect(SigV4.normalizeHeaderValue(value) == normalized, "\(value.debugDescription)")
        }
    }

    @Test("path-style puts the bucket in the path; virtual-host style in the host, with the port kept")
    func addressing() throws {
        let pathStyle = Self.configuration(pathStyle: true)
        #expect(pathStyle.address(key: "uploads/a b.mp4", on: pathStyle.endpoint) == ("127.0.0.1:9000", "/ecg-videos/uploads/a%20b.mp4"))
        #expect(pathStyle.address(key: nil, on: pathStyle.endpoint) == ("127.0.0.1:9000", "/ecg-videos"))
        let virtual = Self.configuration(endpoint: "https://s3.eu-west-1.amazonaws.com/", pathStyle: false)
        #expect(virtual.address(key: "uploads/x.mp4", on: virtual.endpoint) == ("ecg-videos.s3.eu-west-1.amazonaws.com", "/uploads/x.mp4"))
        #expect(virtual.address(key: nil, on: virtual.endpoint) == ("ecg-videos.s3.eu-west-1.amazonaws.com", "/"))
        let custom = Self.configuration(endpoint: "http://minio.internal:9000", pathStyle: false)
        #expect(custom.address(key: "k", on: custom.endpoint).host == "ecg-videos.minio.internal:9000")
        // Default ports are left out of the Host header, as browsers leave them out.
        #expect(try S3Endpoint(url: "https://s3.example.com:443").hostHeader() == "s3.example.com")
        #expect(try S3Endpoint(url: "http://[::1]:9000").hostHeader() == "[::1]:9000")
    }

    @Test("endpoints must be http(s)://host[:port]", arguments: ["", "s3.amazonaws.com", "ftp://host", "http://", "http://h/path", "http://u:p@h"])
    func invalidEndpoints(value: String) {
        #expect(throws: S3Error.self) { try S3Endpoint(url: value) }
    }

    @Test("a presigned PUT signs content-type and, when given, content-length, and tells the client to send them")
    func presignedPut() throws {
        let client = S3Client(configuration: Self.configuration())
        let put = client.presignedPut(key: "uploads/u/clip one.mp4", contentType: "video/mp4", contentLength: 1234, expires: 3600, date: Self.date)
        #expect(put.method == "PUT")
        #expect(put.headers == ["Content-Type": "video/mp4", "Content-Length": "1234"])
        #expect(put.url.hasPrefix("http://127.0.0.1:9000/ecg-videos/uploads/u/clip%20one.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&"))
        let query = try #require(URLComponents(string: put.url)?.queryItems)
        #expect(query.first { $0.name == "X-Amz-SignedHeaders" }?.value == "content-length;content-type;host")
        #expect(query.first { $0.name == "X-Amz-Expires" }?.value == "3600")
        #expect(query.first { $0.name == "X-Amz-Credential" }?.value == "ecg-local/20251125/us-east-1/s3/aws4_request")
        #expect(query.last?.name == "X-Amz-Signature")
        #expect(put.expiresAt == Self.date.addingTimeInterval(3600))

        let withoutLength = client.presignedPut(key: "uploads/u/clip one.mp4", contentType: "video/mp4", expires: 3600, date: Self.date)
        #expect(withoutLength.headers == ["Content-Type": "video/mp4"])
        #expect(withoutLength.url.contains("X-Amz-SignedHeaders=content-type%3Bhost"))
        // Another content type is another signature.
        let webm = client.presignedPut(key: "uploads/u/clip one.mp4", contentType: "video/webm", expires: 3600, date: Self.date)
        #expect(signature(of: webm.url) != signature(of: withoutLength.url))
    }

    @Test("a session token is a signed query parameter of presigned URLs and a signed header of direct calls")
    func sessionToken() throws {
        let token = "FwoGZXIvYXdzEXAMPLE/token+with=chars"
        let client = S3Client(configuration: Self.configuration(sessionToken: token))
        let get = client.presignedGet(key: "k.mp4", expires: 60, date: Self.date)
        let query = try #require(URLComponents(string: get.url)?.queryItems)
        #expect(query.first { $0.name == "X-Amz-Security-Token" }?.value == token)
        #expect(get.url.contains("X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE%2Ftoken%2Bwith%3Dchars"))
        let withoutToken = S3Client(configuration: Self.configuration()).presignedGet(key: "k.mp4", expires: 60, date: Self.date)
        #expect(signature(of: get.url) != signature(of: withoutToken.url))

        let signed = client.signer.sign(method: "HEAD", host: "h", path: "/k", payloadHash: SigV4.emptyPayloadHash, date: Self.date)
        #expect(signed.headers.contains { $0.name == "X-Amz-Security-Token" && $0.value == token })
        #expect(signed.details.signedHeaders == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
    }

    @Test("browser URLs are signed for S3_PUBLIC_ENDPOINT's host; backend URLs for the internal endpoint")
    func publicEndpoint() throws {
        let client = S3Client(configuration: Self.configuration(endpoint: "http://minio:9000", publicEndpoint: "https://media.example.com"))
        let browser = client.presignedGet(key: "uploads/x.mp4", expires: 60, audience: .browser, date: Self.date)
        let backend = client.presignedGet(key: "uploads/x.mp4", expires: 60, audience: .backend, date: Self.date)
        #expect(browser.url.hasPrefix("https://media.example.com/ecg-videos/uploads/x.mp4?"))
        #expect(backend.url.hasPrefix("http://minio:9000/ecg-videos/uploads/x.mp4?"))
        // Same key, time and credentials: only the signed host differs, and so do the signatures.
        #expect(signature(of: browser.url) != signature(of: backend.url))
        let recomputed = client.signer.presign(
            method: "GET",
            scheme: "https",
            host: "media.example.com",
            path: "/ecg-videos/uploads/x.mp4",
            expires: 60,
            date: Self.date
        )
        #expect(recomputed.url == browser.url)
    }

    @Test("expiry is clamped to SigV4's 1 s … 7 days")
    func expiryBounds() throws {
        let client = S3Client(configuration: Self.configuration())
        let long = client.presignedGet(key: "k", expires: 10_000_000, date: Self.date)
        #expect(long.url.contains("X-Amz-Expires=604800"))
        #expect(long.expiresAt == Self.date.addingTimeInterval(604_800))
    }

    @Test("credentials never print their secret")
    func redactedCredentials() {
        let text = String(describing: S3Credentials(accessKeyID: "AKIA", secretAccessKey: "very-secret", sessionToken: "tok"))
        #expect(!text.contains("very-secret"))
        #expect(!text.contains("tok)"))
        #expect(text.contains("AKIA"))
    }

    private func signature(of url: String) -> String? {
        URLComponents(string: url)?.queryItems?.first { $0.name == "X-Amz-Signature" }?.value
    }
}
