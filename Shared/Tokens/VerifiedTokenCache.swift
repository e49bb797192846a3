import Foundation
import Synchronization

/// Tokens this process has already verified, by their exact text, for a short while.
///
/// A client sends the same access token with every request for its whole lifetime (15 minutes),
/// and checking an Ed25519 signature was the largest single cost of an authenticated request
/// (about 140 µs of CPU here, measured with `perf` under `make bench`). A hit skips decoding and
/// the signature check; expiry is still checked against the caller's clock on every hit.
///
/// Only tokens that passed every check are stored, keyed by the whole token, so a hit means these
/// exact bytes were verified. What a hit cannot notice is a signing key withdrawn from the
/// issuer's JWKS after the token was verified, so an entry is kept at most `maximumAge` (60 s)
/// after its verification: then the token is verified again against the key source, whose own
/// bound (`RemoteJWKSKeySource.maximumAge`) applies. A withdrawn key's tokens are thus refused at
/// most `maximumAge` after the key source stops trusting it. Bounded in size: when full, expired
/// entries go first, then everything (a refill costs one verification per live token).
package final class VerifiedTokenCache: Sendable {
    private struct Entry {
        var token: VerifiedToken
        var verifiedAt: Date
    }

    private let entries = Mutex([String: Entry]())
    package let capacity: Int
    package let maximumAge: TimeInterval

    package init(capacity: Int = 10_000, maximumAge: TimeInterval = 60) {
        precondition(capacity > 0, "a cache needs room for one token")
        self.capacity = capacity
        self.maximumAge = maximumAge
    }

    /// The verified identity of `token` while it has not expired (`expiresAt + leeway > now`) and
    /// was verified less than `maximumAge` ago.
    func lookup(_ token: String, now: Date, leeway: TimeInterval) -> VerifiedToken? {
        guard let entry = entries.withLock({ $0[token] }) else { return nil }
        guard entry.token.expiresAt.addingTimeInterval(leeway) > now, now.timeIntervalSince(entry.verifiedAt) < maximumAge else {
            entries.withLock { _ = $0.removeValue(forKey: token) }
            return nil
        }
        return entry.token
    }

    func store(_ verified: VerifiedToken, for token: String, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.token.expiresAt > now && now.timeIntervalSince($0.value.verifiedAt) < maximumAge }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = Entry(token: verified, verifiedAt: now)
        }
    }

    package var count: Int { entries.withLock { $0.count } }
}
