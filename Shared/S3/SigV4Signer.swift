import Crypto
import Foundation
import Synchronization

/// Signs requests with AWS Signature Version 4 for one set of credentials, region and service.
///
/// Two forms: `presign` puts the authentication in the query string (a URL a browser or worker can use
/// until it expires); `sign` puts it in the `Authorization` header (this service's own calls).
/// The derived signing key is cached per (date, region, service) as an HMAC already keyed with it
/// (keying hashes two blocks), so a signature costs one keyed HMAC over the string to sign and a hash.
package final class SigV4Signer: Sendable {
    package let credentials: S3Credentials
    package let region: String
    package let service: String
    private let keyCache = Mutex<[String: HMAC<SHA256>]>([:])
    private let derivationCount = Atomic<Int>(0)

    package init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What a signature was computed from, for tests and for debugging a mismatch.
    package struct Signature: Sendable {
        package let canonicalRequest: String
        package let stringToSign: String
        /// Lower-case hex.
        package let signature: String
        package let signedHeaders: String
        package let credentialScope: String
    }

    /// A URL whose query string carries the signature.
    package struct PresignedURL: Sendable {
        package let url: String
        package let expiresAt: Date
        package let details: Signature
    }

    /// Headers to send with a request whose `Authorization` header carries the signature.
    package struct SignedHeaders: Sendable {
        /// `Host`, `X-Amz-Date`, `X-Amz-Content-SHA256`, `X-Amz-Security-Token` when there is one, `Authorization`,
        /// and the caller's own headers.
        package let headers: [(name: String, value: String)]
        package let authorization: String
        package let details: Signature
    }

    // MARK: - Query-string authentication

    /// - Parameters:
    ///   - host: the `Host` header the client will send (with the port when it is not the default).
    ///   - path: the canonical, already encoded path (`/bucket/my%20key.mp4`).
    ///   - query: further query parameters, unencoded; they are signed too.
    ///   - headers: headers beside `host` that the client must send with exactly these values (`content-type`, `content-length`).
    ///   - expires: seconds the URL stays valid, 1...604800.
    package func presign(
        method: String,
        scheme: String,
        host: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        expires: Int,
        date: Date = Date()
    ) -> PresignedURL {
        let (timestamp, day) = SigV4.timestamp(date)
        let scope = credentialScope(day: day)
        let canonicalHeaders = SigV4.canonicalHeaders([("host", host)] + headers)
        var parameters = query
        parameters.append(("X-Amz-Algorithm", SigV4.algorithm))
        parameters.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"))
        parameters.append(("X-Amz-Date", timestamp))
        parameters.append(("X-Amz-Expires", String(min(max(expires, 1), 604_800))))
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        parameters.append(("X-Amz-SignedHeaders", canonicalHeaders.signedHeaders))
        let canonicalQuery = SigV4.canonicalQuery(parameters)
        let details = signature(
            method: method,
            path: path,
            query: canonicalQuery,
            headers: canonicalHeaders,
            payloadHash: SigV4.unsignedPayload,
            timestamp: timestamp,
            day: day,
            scope: scope
        )
        let url = "\(scheme)://\(host)\(path)?\(canonicalQuery)&X-Amz-Signature=\(details.signature)"
        let expiresAt = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down) + Double(min(max(expires, 1), 604_800)))
        return PresignedURL(url: url, expiresAt: expiresAt, details: details)
    }

    // MARK: - Header authentication

    /// - Parameters:
    ///   - headers: the caller's headers to sign and send (e.g. `Range`); `host`, `x-amz-date`,
    ///     `x-amz-content-sha256` and the session token are added here.
    ///   - payloadHash: hex SHA-256 of the body (`SigV4.emptyPayloadHash` for none).
    package func sign(
        method: String,
        host: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        payloadHash: String,
        date: Date = Date()
    ) -> SignedHeaders {
        let (timestamp, day) = SigV4.timestamp(date)
        let scope = credentialScope(day: day)
        var all = headers
        all.append(("Host", host))
        all.append(("X-Amz-Date", timestamp))
        all.append(("X-Amz-Content-SHA256", payloadHash))
        if let token = credentials.sessionToken { all.append(("X-Amz-Security-Token", token)) }
        let canonicalHeaders = SigV4.canonicalHeaders(all)
        let details = signature(
            method: method,
            path: path,
            query: SigV4.canonicalQuery(query),
            headers: canonicalHeaders,
            payloadHash: payloadHash,
            timestamp: timestamp,
            day: day,
            scope: scope
        )
        let authorization =
            "\(SigV4.algorithm) Credential=\(credentials.accessKeyID)/\(scope),SignedHeaders=\(details.signedHeaders),Signature=\(details.signature)"
        return SignedHeaders(headers: all + [("Authorization", authorization)], authorization: authorization, details: details)
    }

    // MARK: - Signing

    private func credentialScope(day: String) -> String {
        "\(day)/\(region)/\(service)/aws4_request"
    }

    private func signature(
        method: String,
        path: String,
        query: String,
        headers: (block: String, signedHeaders: String),
        payloadHash: String,
        timestamp: String,
        day: String,
        scope: String
    ) -> Signature {
        let canonicalRequest = SigV4.canonicalRequest(method: method, path: path, query: query, headers: headers, payloadHash: payloadHash)
        let stringToSign = SigV4.stringToSign(canonicalRequest: canonicalRequest, timestamp: timestamp, scope: scope)
        var hmac = keyedHMAC(day: day)
        var text = stringToSign
        text.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
        let mac = hmac.finalize()
        return Signature(
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signature: SigV4.hex(mac),
            signedHeaders: headers.signedHeaders,
            credentialScope: scope
        )
    }

    /// An HMAC keyed with `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request")`,
    /// cached; each signature continues a copy.
    private func keyedHMAC(day: String) -> HMAC<SHA256> {
        let cacheKey = "\(day)/\(region)/\(service)"
        if let cached = keyCache.withLock({ $0[cacheKey] }) { return cached }
        derivationCount.add(1, ordering: .relaxed)
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let keyed = HMAC<SHA256>(key: key)
        keyCache.withLock { cache in
            // Keys of other days are no longer needed once the date has moved on.
            if cache.count >= 8 { cache = cache.filter { $0.key.hasPrefix(day) } }
            cache[cacheKey] = keyed
        }
        return keyed
    }

    /// How many signing keys were derived (not taken from the cache).
    package var signingKeyDerivations: Int { derivationCount.load(ordering: .relaxed) }
}
