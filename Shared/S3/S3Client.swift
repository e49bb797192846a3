import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A presigned request: the URL, the method, and the headers the client must send as they are (they are signed).
package struct PresignedRequest: Sendable, Equatable {
    package let url: String
    package let method: String
    package let headers: [String: String]
    package let expiresAt: Date

    package init(url: String, method: String, headers: [String: String], expiresAt: Date) {
        self.url = url
        self.method = method
        self.headers = headers
        self.expiresAt = expiresAt
    }
}

/// What a HEAD of an object tells.
package struct S3ObjectInfo: Sendable, Equatable {
    package let contentLength: Int64
    package let contentType: String?
    package let eTag: String?

    package init(contentLength: Int64, contentType: String?, eTag: String?) {
        self.contentLength = contentLength
        self.contentType = contentType
        self.eTag = eTag
    }
}

/// The S3 operations ECG needs, signed with SigV4 (`SigV4Signer`), over AsyncHTTPClient.
package struct S3Client: Sendable {
    package let configuration: S3Configuration
    package let signer: SigV4Signer
    private let httpClient: HTTPClient
    private let timeout: TimeAmount

    package init(configuration: S3Configuration, httpClient: HTTPClient = .shared, timeout: TimeAmount = .seconds(10)) {
        self.configuration = configuration
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.httpClient = httpClient
        self.timeout = timeout
    }

    // MARK: - Presigned URLs

    /// A URL that lets its holder PUT one object: `Content-Type` (and `Content-Length` when given) are
    /// signed, so S3 refuses the upload if the client sends anything else.
    package func presignedPut(
        key: String,
        contentType: String,
        contentLength: Int64? = nil,
        expires: Int,
        audience: S3Configuration.Audience = .browser,
        date: Date = Date()
    ) -> PresignedRequest {
        var headers = [("content-type", contentType)]
        if let contentLength { headers.append(("content-length", String(contentLength))) }
        return presign(method: "PUT", key: key, headers: headers, expires: expires, audience: audience, date: date)
    }

    /// A URL that lets its holder GET one object.
    package func presignedGet(key: String, expires: Int, audience: S3Configuration.Audience = .browser, date: Date = Date()) -> PresignedRequest {
        presign(method: "GET", key: key, headers: [], expires: expires, audience: audience, date: date)
    }

    /// How the headers a presigned URL signs are named to the client that must send them.
    private static let displayNames = ["content-type": "Content-Type", "content-length": "Content-Length"]

    private func presign(
        method: String,
        key: String,
        headers: [(String, String)],
        expires: Int,
        audience: S3Configuration.Audience,
        date: Date
    ) -> PresignedRequest {
        let endpoint = configuration.endpoint(for: audience)
        let address = configuration.address(key: key, on: endpoint)
        let signed = signer.presign(
            method: method,
            scheme: endpoint.scheme,
            host: address.host,
            path: address.path,
            headers: headers.map { (name: $0.0, value: $0.1) },
            expires: expires,
            date: date
        )
        return PresignedRequest(
            url: signed.url,
            method: method,
            headers: Dictionary(uniqueKeysWithValues: headers.map { (Self.displayNames[$0.0] ?? $0.0, $0.1) }),
            expiresAt: signed.expiresAt
        )
    }

    // MARK: - Calls

    /// HEAD an object: its size and type, or nil when there is no such object.
    package func headObject(key: String) async throws(S3Error) -> S3ObjectInfo? {
        let response = try await send(method: .HEAD, key: key, operation: "HeadObject")
        switch response.status {
        case 200:
            let length = response.headers.first(name: "content-length").flatMap { Int64($0) } ?? 0
            return S3ObjectInfo(
                contentLength: length,
                contentType: response.headers.first(name: "content-type"),
                eTag: response.headers.first(name: "etag")
            )
        case 404:
            return nil
        default:
            throw .unexpectedStatus(operation: "HeadObject", status: response.status, code: response.errorCode)
        }
    }

    /// Deletes an object; deleting one that does not exist succeeds too (S3 answers 204 either way).
    package func deleteObject(key: String) async throws(S3Error) {
        let response = try await send(method: .DELETE, key: key, operation: "DeleteObject")
        guard response.status == 204 || response.status == 200 || response.status == 404 else {
            throw .unexpectedStatus(operation: "DeleteObject", status: response.status, code: response.errorCode)
        }
    }

    /// True when the bucket exists and these credentials may use it.
    package func bucketExists() async throws(S3Error) -> Bool {
        let response = try await send(method: .HEAD, key: nil, operation: "HeadBucket")
        switch response.status {
        case 200: return true
        case 404: return false
        default: throw .unexpectedStatus(operation: "HeadBucket", status: response.status, code: response.errorCode)
        }
    }

    /// Creates the bucket (development and test: production buckets are made by infrastructure).
    /// A bucket that already exists and is ours counts as created.
    package func createBucket() async throws(S3Error) {
        var body = Data()
        if configuration.region != "us-east-1" {
            body = Data(
                """
                <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
                <LocationConstraint>\(configuration.region)</LocationConstraint></CreateBucketConfiguration>
                """.utf8
            )
        }
        let response = try await send(method: .PUT, key: nil, body: body, operation: "CreateBucket")
        guard response.status == 200 || response.errorCode == "BucketAlreadyOwnedByYou" else {
            throw .unexpectedStatus(operation: "CreateBucket", status: response.status, code: response.errorCode)
        }
    }

    /// Creates the bucket unless it exists; returns true when it had to be created.
    @discardableResult
    package func createBucketIfMissing() async throws(S3Error) -> Bool {
        if try await bucketExists() { return false }
        try await createBucket()
        return true
    }

    // MARK: - Transport

    private struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: Data

        /// S3's `<Code>…</Code>` from an XML error body.
        var errorCode: String? {
            let text = String(decoding: body, as: UTF8.self)
            guard let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex) else {
                return nil
            }
            return String(text[start.upperBound..<end.lowerBound])
        }
    }

    private func send(method: HTTPMethod, key: String?, body: Data = Data(), operation: String) async throws(S3Error) -> Reply {
        let endpoint = configuration.endpoint
        let address = configuration.address(key: key, on: endpoint)
        let signed = signer.sign(method: method.rawValue, host: address.host, path: address.path, payloadHash: SigV4.sha256Hex(body))
        var request = HTTPClientRequest(url: "\(endpoint.scheme)://\(address.host)\(address.path)")
        request.method = method
        for (name, value) in signed.headers { request.headers.replaceOrAdd(name: name, value: value) }
        if !body.isEmpty {
            request.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return Reply(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
        } catch {
            throw .unreachable(operation: operation, reason: String(describing: error))
        }
    }
}
