import Foundation
import Synchronization

/// What a rate limiter said about one request.
enum RateLimitDecision: Equatable, Sendable {
    case allowed
    /// Refused: a request will be allowed again in `retryAfter` seconds (at least 1).
    case limited(retryAfter: Int)
}

/// Token buckets, one per key, in this process: each holds at most `capacity` tokens, refills at
/// `capacity` per `period`, and a request takes one. So a key gets a burst of `capacity` requests,
/// then `capacity` per `period` on average.
///
/// The caller passes the time (`now`), so tests move a clock instead of sleeping. The table is
/// bounded: past `maximumKeys`, buckets that have refilled completely (idle keys) are dropped, at
/// most once a second; when every bucket is still in use, a new key is let through unlimited and
/// the caller's other limits (the global bucket) bound the cost.
final class RateLimiter: Sendable {
    let capacity: Double
    let period: TimeInterval
    let maximumKeys: Int

    private struct Bucket {
        var tokens: Double
        var updatedAt: Date
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var prunedAt: Date = .distantPast
    }

    private let state = Mutex(State())

    init(capacity: Int, period: TimeInterval, maximumKeys: Int = 100_000) {
        precondition(capacity > 0 && period > 0 && maximumKeys > 0)
        self.capacity = Double(capacity)
        self.period = period
        self.maximumKeys = maximumKeys
    }

    private var refillPerSecond: Double { capacity / period }

    /// Takes a token from `key`'s bucket at `now`, or says when one will be there.
    func acquire(_ key: String, now: Date) -> RateLimitDecision {
        state.withLock { state in
            var bucket: Bucket
            if let existing = state.buckets[key] {
                bucket = existing
                // A clock that went backwards refills nothing.
                let elapsed = max(0, now.timeIntervalSince(bucket.updatedAt))
                bucket.tokens = min(capacity, bucket.tokens + elapsed * refillPerSecond)
                bucket.updatedAt = max(bucket.updatedAt, now)
            } else {
                if state.buckets.count >= maximumKeys {
                    prune(&state, now: now)
                    if state.buckets.count >= maximumKeys { return .allowed }
                }
                bucket = Bucket(tokens: capacity, updatedAt: now)
            }
            guard bucket.tokens >= 1 else {
                state.buckets[key] = bucket
                let wait = (1 - bucket.tokens) / refillPerSecond
                return .limited(retryAfter: max(1, Int(wait.rounded(.up))))
            }
            bucket.tokens -= 1
            state.buckets[key] = bucket
            return .allowed
        }
    }

    /// How many keys have a bucket (for tests).
    var keyCount: Int { state.withLock { $0.buckets.count } }

    private func prune(_ state: inout State, now: Date) {
        guard now.timeIntervalSince(state.prunedAt) >= 1 else { return }
        state.prunedAt = now
        let refill = refillPerSecond
        state.buckets = state.buckets.filter { _, bucket in
            bucket.tokens + max(0, now.timeIntervalSince(bucket.updatedAt)) * refill < capacity
        }
    }
}

/// The rate limits of the routes that cost a bcrypt hash (login, signup; security review M4): per
/// client address, then for this replica as a whole. A bcrypt hash at cost 12 takes about 0.3 s of a
/// core, so the global bucket is what keeps the hashing queue, and the latency of honest logins,
/// bounded; it is per replica on purpose, since the CPU it protects is.
struct PasswordRouteLimits: Sendable {
    let perClient: RateLimiter
    let global: RateLimiter

    init(_ limits: AuthSettings.RateLimits) {
        perClient = RateLimiter(capacity: limits.perClientPerMinute, period: 60)
        global = RateLimiter(capacity: limits.globalPerSecond, period: 1)
    }

    enum Refusal: Equatable, Sendable {
        case client(retryAfter: Int)
        case global(retryAfter: Int)
    }

    /// nil when the request may go on. A request refused for its client takes nothing from the global bucket.
    func admit(client: String, now: Date) -> Refusal? {
        if case .limited(let retryAfter) = perClient.acquire(client, now: now) { return .client(retryAfter: retryAfter) }
        if case .limited(let retryAfter) = global.acquire("", now: now) { return .global(retryAfter: retryAfter) }
        return nil
    }
}
