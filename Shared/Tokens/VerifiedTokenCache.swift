import Foundation
import Synchronization

/// Tokens this process has already verified, by their exact text, until they expire.
///
/// A client sends the same access token with every request for its whole lifetime (15 minutes),
/// and checking an Ed25519 signature was the largest single cost of an authenticated request
/// (about 140 µs of CPU here, measured with `perf` under `make bench`). A hit skips decoding and
/// the signature check; expiry is still checked against the caller's clock on every hit.
///
/// Only tokens that passed every check are stored, keyed by the whole token, so a hit means these
/// exact bytes were verified. What a hit cannot notice is a signing key withdrawn from the
/// issuer's JWKS after the token was verified; `RemoteJWKSKeySource` keeps fetched keys until
/// restart anyway, so the cache widens nothing. Bounded: when full, expired entries go first,
/// then everything (a refill costs one verification per live token).
public final class VerifiedTokenCache: Sendable {
    private let entries = Mutex([String: VerifiedToken]())
    public let capacity: Int

    public init(capacity: Int = 10_000) {
        precondition(capacity > 0, "a cache needs room for one token")
        self.capacity = capacity
    }

    /// The verified identity of `token` while it has not expired (`expiresAt + leeway > now`).
    func lookup(_ token: String, now: Date, leeway: TimeInterval) -> VerifiedToken? {
        guard let verified = entries.withLock({ $0[token] }) else { return nil }
        guard verified.expiresAt.addingTimeInterval(leeway) > now else {
            entries.withLock { _ = $0.removeValue(forKey: token) }
            return nil
        }
        return verified
    }

    func store(_ verified: VerifiedToken, for token: String, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = verified
        }
    }

    public var count: Int { entries.withLock { $0.count } }
}
