import Foundation

/// Password checks per email and client, for the brute-force limit (SPEC.md §3 row 2): at most `limit`
/// within `window`. An attempt is recorded before the password is checked; a successful login clears
/// that client's attempts. Counting per client (security review M4) means that failures sent from an
/// attacker's address never lock the account's owner out at theirs.
protocol LoginAttemptRepository: Sendable {
    /// Records an attempt for `email` from `client`, unless `limit` attempts of that pair were recorded
    /// within `window` before `now`.
    func reserve(email: String, client: String, limit: Int, window: TimeInterval, now: Date) async throws -> LoginAttemptDecision
    /// Forgets the attempts of `email` from `client` (after a successful password check there).
    func reset(email: String, client: String) async throws
    /// Forgets every attempt for `email` (the account is deleted).
    func reset(email: String) async throws
    /// Forgets every attempt older than `cutoff`.
    @discardableResult
    func deleteOlder(than cutoff: Date) async throws -> Int
}

/// The brute-force limit of SPEC.md §3 row 2, per email (so per account) and client address: login,
/// and the routes that check a signed-in user's password (change password, delete account), count
/// against it.
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
