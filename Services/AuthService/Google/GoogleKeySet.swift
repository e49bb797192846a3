import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import Synchronization

/// Where the RS256 public keys that sign Google's id_tokens come from.
protocol GoogleKeySource: Sendable {
    func publicKey(kid: String) async throws(GoogleSignInError) -> Insecure.RSA.PublicKey
}

/// Google's JWKS (`GOOGLE_JWKS_URL`), cached for an hour and refetched on an unknown `kid` (Google
/// rotates its keys), at most once per `minimumRefetchInterval`.
final class RemoteGoogleKeySet: GoogleKeySource {
    private struct Cache {
        var keys: [String: Insecure.RSA.PublicKey] = [:]
        var fetchedAt: Date?
    }

    let url: String
    private let httpClient: HTTPClient
    private let logger: Logger
    private let maximumAge: TimeInterval
    private let minimumRefetchInterval: TimeInterval
    private let cache = Mutex(Cache())

    init(url: String, httpClient: HTTPClient, logger: Logger, maximumAge: TimeInterval = 3600, minimumRefetchInterval: TimeInterval = 10) {
        self.url = url
        self.httpClient = httpClient
        self.logger = logger
        self.maximumAge = maximumAge
        self.minimumRefetchInterval = minimumRefetchInterval
    }

    func publicKey(kid: String) async throws(GoogleSignInError) -> Insecure.RSA.PublicKey {
        let now = Date()
        let (cached, fetchedAt) = cache.withLock { ($0.keys[kid], $0.fetchedAt) }
        let age = fetchedAt.map { now.timeIntervalSince($0) }
        if let cached, let age, age < maximumAge { return cached }
        if cached == nil, let age, age < minimumRefetchInterval { throw .invalidIDToken("unknown kid \(kid)") }
        let keys = try await fetch()
        guard let key = keys[kid] else { throw .invalidIDToken("unknown kid \(kid)") }
        return key
    }

    private func fetch() async throws(GoogleSignInError) -> [String: Insecure.RSA.PublicKey] {
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await httpClient.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw GoogleSignInError.invalidIDToken("JWKS answered \(response.status.code)") }
            let keys = try Self.rsaKeys(fromJWKS: Data(body.readableBytesView))
            cache.withLock { $0 = Cache(keys: keys, fetchedAt: Date()) }
            logger.debug("fetched Google JWKS", metadata: ["url": "\(url)", "keys": "\(keys.count)"])
            return keys
        } catch let error as GoogleSignInError {
            cache.withLock { $0.fetchedAt = $0.fetchedAt ?? Date.distantPast }
            throw error
        } catch {
            logger.warning("could not fetch Google JWKS", metadata: ["url": "\(url)", "error": "\(error)"])
            throw .invalidIDToken("JWKS unavailable")
        }
    }

    /// The RSA signing keys of a JWKS by `kid`; other key types are ignored.
    static func rsaKeys(fromJWKS data: Data) throws -> [String: Insecure.RSA.PublicKey] {
        struct Document: Decodable {
            struct Key: Decodable {
                var kty: String?
                var kid: String?
                var n: String?
                var e: String?
                var use: String?
                var alg: String?
            }
            var keys: [Key]
        }
        var result: [String: Insecure.RSA.PublicKey] = [:]
        for key in try JSONDecoder().decode(Document.self, from: data).keys {
            guard key.kty == "RSA", key.use == nil || key.use == "sig", key.alg == nil || key.alg == "RS256",
                let kid = key.kid, let n = key.n, let e = key.e, let publicKey = try? Insecure.RSA.PublicKey(modulus: n, exponent: e)
            else { continue }
            result[kid] = publicKey
        }
        return result
    }
}

/// Keys known in advance, for tests.
struct StaticGoogleKeySource: GoogleKeySource {
    let keys: [String: Insecure.RSA.PublicKey]

    func publicKey(kid: String) async throws(GoogleSignInError) -> Insecure.RSA.PublicKey {
        guard let key = keys[kid] else { throw .invalidIDToken("unknown kid \(kid)") }
        return key
    }
}
