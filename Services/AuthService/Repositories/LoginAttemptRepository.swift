import Foundation
import Synchronization

/// Password checks per email, for the brute-force limit (SPEC.md §3 row 2): at most `limit` within
/// `window`. An attempt is recorded before the password is checked; a successful login clears them.
protocol LoginAttemptRepository: Sendable {
    /// Records an attempt for `email`, unless `limit` attempts were recorded within `window` before `now`.
    func reserve(email: String, limit: Int, window: TimeInterval, now: Date) async throws -> LoginAttemptDecision
    /// Forgets the email's attempts (after a successful login).
    func reset(email: String) async throws
    /// Forgets every attempt older than `cutoff`.
    @discardableResult
    func deleteOlder(than cutoff: Date) async throws -> Int
}

/// The brute-force limit of SPEC.md §3 row 2, per email (so per account): login, and the routes
/// that check a signed-in user's password (change password, delete account), count against it.
enum LoginLimit {
    /// Failed password checks allowed per email within `window`.
    static let attempts = 5
    static let window: TimeInterval = 15 * 60
}

enum LoginAttemptDecision: Equatable, Sendable {
    case allowed
    /// Too many attempts: the next one is allowed in `retryAfter` seconds (at least 1).
    case blocked(retryAfter: Int)

    /// The decision for attempts at `times` (oldest first, all within the window).
    static func decide(recent times: [Date], limit: Int, window: TimeInterval, now: Date) -> LoginAttemptDecision {
        guard times.count >= limit else { return .allowed }
        // The count drops below the limit when the attempt `count - limit` places from the oldest leaves the window.
        let freedAt = times[times.count - limit].addingTimeInterval(window)
        return .blocked(retryAfter: max(1, Int(freedAt.timeIntervalSince(now).rounded(.up))))
    }
}

/// Login attempts in memory, for unit tests.
final class InMemoryLoginAttemptRepository: LoginAttemptRepository {
    private let attempts = Mutex<[String: [Date]]>([:])

    init() {}

    func reserve(email: String, limit: Int, window: TimeInterval, now: Date) async throws -> LoginAttemptDecision {
        attempts.withLock { attempts in
            let recent = (attempts[email] ?? []).filter { now.timeIntervalSince($0) < window }.sorted()
            let decision = LoginAttemptDecision.decide(recent: recent, limit: limit, window: window, now: now)
            attempts[email] = decision == .allowed ? recent + [now] : recent
            return decision
        }
    }

    func reset(email: String) async throws {
        _ = attempts.withLock { $0.removeValue(forKey: email) }
    }

    func deleteOlder(than cutoff: Date) async throws -> Int {
        attempts.withLock { attempts in
            var removed = 0
            for (email, times) in attempts {
                let kept = times.filter { $0 >= cutoff }
                removed += times.count - kept.count
                attempts[email] = kept.isEmpty ? nil : kept
            }
            return removed
        }
    }
}
