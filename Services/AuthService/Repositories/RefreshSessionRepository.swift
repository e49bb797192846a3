import Foundation

/// Refresh-token families and their tokens (by SHA-256). Implementations apply `RefreshPolicy`
/// atomically: one exchange at a time per family.
protocol RefreshSessionRepository: Sendable {
    /// Starts a family for a login proven by `method`, ending at `familyExpiresAt`, with its first token.
    func start(userID: Int64, tokenHash: Data, expiresAt: Date, familyExpiresAt: Date, method: AuthenticationMethod, now: Date) async throws
        -> RefreshSession
    /// Looks up the presented token, decides with `policy`, and applies the decision: on first use a
    /// successor stored under `replacementHash` and `sealedReplacement` kept with the presented token;
    /// within the grace window that kept successor returned (`.repeated`), nothing stored; on reuse, the
    /// family revoked.
    func exchange(presentedHash: Data, replacementHash: Data, sealedReplacement: Data, policy: RefreshPolicy, now: Date) async throws
        -> RefreshExchange
    /// Revokes the family of the presented token (logout); false when no token has this hash.
    @discardableResult
    func revokeFamily(containing tokenHash: Data, reason: RevocationReason, now: Date) async throws -> Bool
    /// Revokes every family of the user not yet revoked (sign out everywhere, password change);
    /// returns how many it revoked.
    @discardableResult
    func revokeAll(userID: Int64, reason: RevocationReason, now: Date) async throws -> Int
    /// The family of the presented token, revoked or not; nil when no token has this hash.
    func family(containing tokenHash: Data) async throws -> RefreshFamily?
    /// Forgets families whose every token expired before `cutoff`; returns how many.
    @discardableResult
    func deleteExpired(before cutoff: Date) async throws -> Int
}

enum RevocationReason: String, Sendable {
    case logout
    case reuse
    /// The account was deactivated.
    case inactive
    /// `POST /api/auth/logout-all`.
    case logoutAll = "logout_all"
    /// `POST /api/auth/password`: every session of the old password ends.
    case passwordChange = "password_change"
}
