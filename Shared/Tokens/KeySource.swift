import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import Synchronization

/// Where a verifier finds the public key for a `kid`, for one issuer.
package protocol KeySource: Sendable {
    /// The key with this id, whatever its purpose; a remote source refetches the issuer's JWKS once
    /// when the id is unknown.
    func publicKey(kid: String) async throws(TokenError) -> EdDSA.PublicKey
    /// The key with this id if it may verify tokens of `purpose` (security review L1), else
    /// `wrongKeyPurpose`. `TokenVerifier` asks this.
    func publicKey(kid: String, purpose: KeyPurpose) async throws(TokenError) -> EdDSA.PublicKey
}

extension KeySource {
    /// A source that knows no purposes (a test double) serves every key for either.
    package func publicKey(kid: String, purpose: KeyPurpose) async throws(TokenError) -> EdDSA.PublicKey {
        try await publicKey(kid: kid)
    }
}

/// A public key and what it may verify (nil: either, as in a JWKS from before purposes).
struct PurposedKey: Sendable {
    let key: EdDSA.PublicKey
    let purpose: KeyPurpose?

    func checked(kid: String, for wanted: KeyPurpose) throws(TokenError) -> EdDSA.PublicKey {
        guard purpose == nil || purpose == wanted else { throw .wrongKeyPurpose(kid: kid, purpose: wanted) }
        return key
    }
}

/// Keys known in advance: a service's own keys, or keys in tests.
package struct StaticKeySource: KeySource {
    private let keys: [String: PurposedKey]

    /// - Parameter purpose: what the keys may verify; nil, either (tests).
    package init(_ keys: [SigningKey], purpose: KeyPurpose? = nil) {
        self.keys = Dictionary(
            keys.map { ($0.kid, PurposedKey(key: $0.publicKey, purpose: purpose)) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    package init(jwks: JWKSDocument) {
        self.keys = Self.keysByID(jwks)
    }

    static func keysByID(_ jwks: JWKSDocument) -> [String: PurposedKey] {
        var keys: [String: PurposedKey] = [:]
        for jwk in jwks.keys {
            if let key = jwk.publicKey, keys[jwk.kid] == nil { keys[jwk.kid] = PurposedKey(key: key, purpose: jwk.purpose) }
        }
        return keys
    }

    package func publicKey(kid: String) async throws(TokenError) -> EdDSA.PublicKey {
        guard let entry = keys[kid] else { throw .unknownKey(kid) }
        return entry.key
    }

    package func publicKey(kid: String, purpose: KeyPurpose) async throws(TokenError) -> EdDSA.PublicKey {
        guard let entry = keys[kid] else { throw .unknownKey(kid) }
        return try entry.checked(kid: kid, for: purpose)
    }
}

/// An issuer's JWKS fetched over HTTP and cached for a bounded time (SPEC.md §4, security review M2/L4).
///
/// - Keys are trusted for at most `maximumAge` after the fetch that returned them (less when the
///   issuer's `Cache-Control: max-age` says so); the first lookup after that refetches, so a key the
///   issuer withdrew stops being trusted within `maximumAge`.
/// - An unknown `kid` (rotation) refetches at once, but refetches are spaced by
///   `minimumRefetchInterval` so that garbage `kid`s cannot turn into a request flood.
/// - Concurrent lookups that need a fetch share one request (single-flight).
/// - When a refetch fails, the last good keys stay usable for `staleIfError` more (an auth outage
///   does not turn every token into 401); after that lookups fail with `keysUnavailable` (503).
///   A withdrawn key is therefore trusted at most `maximumAge + staleIfError` after its removal.
package final class RemoteJWKSKeySource: KeySource {
    private struct Cache {
        var keys: [String: PurposedKey] = [:]
        /// When the keys above were fetched; nil until the first successful fetch.
        var fetchedAt: Date?
        /// How long those keys count as fresh.
        var freshFor: TimeInterval = 0
        /// The last fetch attempt, successful or not.
        var attemptedAt: Date?
        var lastAttemptFailed = false
        var inFlight: Task<[String: PurposedKey], any Error>?
    }

    package let url: String
    private let httpClient: HTTPClient
    private let cache = Mutex(Cache())
    private let minimumRefetchInterval: TimeInterval
    package let maximumAge: TimeInterval
    package let staleIfError: TimeInterval
    private let logger: Logger
    private let clock: @Sendable () -> Date

    package init(
        url: String,
        httpClient: HTTPClient,
        minimumRefetchInterval: TimeInterval = 10,
        maximumAge: TimeInterval = 300,
        staleIfError: TimeInterval = 600,
        logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.url = url
        self.httpClient = httpClient
        self.minimumRefetchInterval = minimumRefetchInterval
        self.maximumAge = maximumAge
        self.staleIfError = staleIfError
        self.logger = logger
        self.clock = clock
    }

    /// How many fetches have been started (for tests and metrics).
    package var fetchCount: Int { fetches.load(ordering: .relaxed) }
    private let fetches = Atomic<Int>(0)

    package func publicKey(kid: String) async throws(TokenError) -> EdDSA.PublicKey {
        try await entry(kid: kid).key
    }

    /// A key of the wrong purpose is refused without a refetch: its `kid` is known.
    package func publicKey(kid: String, purpose: KeyPurpose) async throws(TokenError) -> EdDSA.PublicKey {
        try await entry(kid: kid).checked(kid: kid, for: purpose)
    }

    private func entry(kid: String) async throws(TokenError) -> PurposedKey {
        let now = clock()
        enum Step {
            case found(PurposedKey)
            case wait(Task<[String: PurposedKey], any Error>)
            case fallBack
        }
        let step: Step = cache.withLock { state in
            let fresh = state.fetchedAt.map { now.timeIntervalSince($0) < state.freshFor } ?? false
            if fresh, let key = state.keys[kid] { return .found(key) }
            if let task = state.inFlight { return .wait(task) }
            if let attemptedAt = state.attemptedAt, now.timeIntervalSince(attemptedAt) < minimumRefetchInterval {
                return .fallBack
            }
            state.attemptedAt = now
            let task = Task { try await self.fetch() }
            state.inFlight = task
            fetches.add(1, ordering: .relaxed)
            return .wait(task)
        }
        switch step {
        case .found(let key):
            return key
        case .wait(let task):
            if let keys = try? await task.value {
                guard let key = keys[kid] else { throw .unknownKey(kid) }
                return key
            }
        case .fallBack:
            break
        }
        // No fetch now (spaced out) or the fetch failed: the last good keys, while not too stale.
        let (key, usable, failed) = cache.withLock { state -> (PurposedKey?, Bool, Bool) in
            guard let fetchedAt = state.fetchedAt else { return (nil, false, state.lastAttemptFailed) }
            let age = clock().timeIntervalSince(fetchedAt)
            let limit = state.lastAttemptFailed ? state.freshFor + staleIfError : max(state.freshFor, minimumRefetchInterval)
            return age < limit ? (state.keys[kid], true, state.lastAttemptFailed) : (nil, false, state.lastAttemptFailed)
        }
        if let key { return key }
        if failed || !usable { throw .keysUnavailable("\(url): no current key set (last fetch failed)") }
        throw .unknownKey(kid)
    }

    private func fetch() async throws -> [String: PurposedKey] {
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            guard response.status == .ok else { throw TokenError.keysUnavailable("\(url) answered \(response.status.code)") }
            let freshFor = Self.freshness(cacheControl: response.headers["Cache-Control"].joined(separator: ","), maximum: maximumAge)
            let body = try await response.body.collect(upTo: 1 << 20)
            let document = try JWKSDocument.decode(Data(body.readableBytesView))
            let keys = StaticKeySource.keysByID(document)
            let now = clock()
            cache.withLock {
                $0.keys = keys
                $0.fetchedAt = now
                $0.freshFor = freshFor
                $0.lastAttemptFailed = false
                $0.inFlight = nil
            }
            logger.debug("fetched JWKS", metadata: ["url": "\(url)", "keys": "\(keys.count)"])
            return keys
        } catch {
            cache.withLock {
                $0.lastAttemptFailed = true
                $0.inFlight = nil
            }
            logger.warning("could not fetch JWKS", metadata: ["url": "\(url)", "error": "\(error)"])
            throw error
        }
    }

    /// `max-age` from a Cache-Control value, capped at `maximum`; `no-store`/`no-cache` count as 0.
    static func freshness(cacheControl: String, maximum: TimeInterval) -> TimeInterval {
        var result = maximum
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            switch parts.first {
            case "no-store", "no-cache": result = 0
            case "max-age":
                if parts.count == 2, let seconds = Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))), seconds >= 0 {
                    result = min(result, seconds)
                }
            default: break
            }
        }
        return result
    }
}
