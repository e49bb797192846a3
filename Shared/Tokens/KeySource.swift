import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import Synchronization

/// Where a verifier finds the public key for a `kid`, for one issuer.
public protocol KeySource: Sendable {
    /// The key with this id; a remote source refetches the issuer's JWKS once when the id is unknown.
    func publicKey(kid: String) async throws(TokenError) -> EdDSA.PublicKey
}

/// Keys known in advance: a service's own keys, or keys in tests.
public struct StaticKeySource: KeySource {
    private let keys: [String: EdDSA.PublicKey]

    public init(_ keys: [SigningKey]) {
        self.keys = Dictionary(keys.map { ($0.kid, $0.publicKey) }, uniquingKeysWith: { first, _ in first })
    }

    public init(jwks: JWKSDocument) {
        self.keys = Self.keysByID(jwks)
    }

    static func keysByID(_ jwks: JWKSDocument) -> [String: EdDSA.PublicKey] {
        var keys: [String: EdDSA.PublicKey] = [:]
        for jwk in jwks.keys {
            if let key = jwk.publicKey, keys[jwk.kid] == nil { keys[jwk.kid] = key }
        }
        return keys
    }

    public func publicKey(kid: String) async throws(TokenError) -> EdDSA.PublicKey {
        guard let key = keys[kid] else { throw .unknownKey(kid) }
        return key
    }
}

/// An issuer's JWKS fetched over HTTP, cached, and refetched when a token names an unknown `kid`
/// (key rotation). Refetches are spaced by `minimumRefetchInterval` so that garbage `kid`s cannot
/// turn into a request flood against the issuer.
public final class RemoteJWKSKeySource: KeySource {
    private struct Cache {
        var keys: [String: EdDSA.PublicKey] = [:]
        var fetchedAt: Date?
    }

    public let url: String
    private let httpClient: HTTPClient
    private let cache = Mutex(Cache())
    private let minimumRefetchInterval: TimeInterval
    private let logger: Logger

    public init(url: String, httpClient: HTTPClient, minimumRefetchInterval: TimeInterval = 10, logger: Logger) {
        self.url = url
        self.httpClient = httpClient
        self.minimumRefetchInterval = minimumRefetchInterval
        self.logger = logger
    }

    public func publicKey(kid: String) async throws(TokenError) -> EdDSA.PublicKey {
        let (cached, fetchedAt) = cache.withLock { ($0.keys[kid], $0.fetchedAt) }
        if let cached { return cached }
        if let fetchedAt, Date().timeIntervalSince(fetchedAt) < minimumRefetchInterval {
            throw .unknownKey(kid)
        }
        let keys = try await fetch()
        guard let key = keys[kid] else { throw .unknownKey(kid) }
        return key
    }

    private func fetch() async throws(TokenError) -> [String: EdDSA.PublicKey] {
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { throw TokenError.keysUnavailable("\(url) answered \(response.status.code)") }
            let body = try await response.body.collect(upTo: 1 << 20)
            let document = try JWKSDocument.decode(Data(body.readableBytesView))
            let keys = StaticKeySource.keysByID(document)
            cache.withLock { $0 = Cache(keys: keys, fetchedAt: Date()) }
            logger.debug("fetched JWKS", metadata: ["url": "\(url)", "keys": "\(keys.count)"])
            return keys
        } catch let error as TokenError {
            cache.withLock { $0.fetchedAt = Date() }
            throw error
        } catch {
            cache.withLock { $0.fetchedAt = Date() }
            logger.warning("could not fetch JWKS", metadata: ["url": "\(url)", "error": "\(error)"])
            throw .keysUnavailable("\(url): \(error)")
        }
    }
}
