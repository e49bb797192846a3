import Foundation

/// One refresh token, known by its SHA-256 only. Every token descends from one login, its family.
struct RefreshSession: Sendable, Equatable {
    let id: Int64
    let familyID: UUID
    let parentID: Int64?
    let userID: Int64
    let createdAt: Date
    let expiresAt: Date
    /// When this token was exchanged for its first successor.
    var rotatedAt: Date?
    /// When its family was revoked (logout, or reuse detected).
    var revokedAt: Date?
    /// When its family ends, however often it was rotated (`REFRESH_FAMILY_MAX_AGE_SECONDS` after the login).
    var familyExpiresAt: Date = .distantFuture
}

/// How the login that started a family was proven.
enum AuthenticationMethod: String, Sendable, Equatable {
    /// Signup, login, or a password change (which proves the current password).
    case password
    /// Google sign-in (the OpenID Connect callback).
    case google
}

/// A login and every refresh token descended from it.
struct RefreshFamily: Sendable, Equatable {
    let id: UUID
    let userID: Int64
    /// When the login happened: the family's first token was issued then, and rotation keeps it.
    let createdAt: Date
    let authenticatedWith: AuthenticationMethod
    var revokedAt: Date?
}

/// The rules of `POST /api/auth/refresh` (SPEC.md §3 row 4), kept apart from storage so that the
/// PostgreSQL and in-memory repositories decide identically.
struct RefreshPolicy: Sendable {
    /// How long a rotated token may still be exchanged (two tabs refreshing at once).
    var graceWindow: TimeInterval = 10
    /// The lifetime of each new token (`REFRESH_TOKEN_TTL_SECONDS`).
    var lifetime: TimeInterval
    /// The absolute lifetime of a family from its login (`REFRESH_FAMILY_MAX_AGE_SECONDS`): rotation
    /// never extends a token past it.
    var maxFamilyAge: TimeInterval = TimeInterval(AuthSettings.Defaults.refreshFamilyMaxAge)

    /// When a family started at `loginAt` ends.
    func familyExpiry(loginAt: Date) -> Date { loginAt.addingTimeInterval(maxFamilyAge) }

    /// The expiry of a token issued at `now` in a family that ends at `familyExpiresAt`.
    func tokenExpiry(now: Date, familyExpiresAt: Date) -> Date { min(now.addingTimeInterval(lifetime), familyExpiresAt) }

    enum Decision: Equatable, Sendable {
        /// First use: mark rotated, issue a successor.
        case rotate
        /// Rotated less than `graceWindow` ago: hand out the successor it already has (security review M3:
        /// never a second successor, which would fork the family).
        case reissueWithinGrace
        /// Rotated longer ago: someone replays an old token; revoke the whole family.
        case reuseDetected
        /// The family was revoked (logout or earlier reuse).
        case revoked
        /// The token, or its whole family, is past its expiry.
        case expired
    }

    func decide(_ session: RefreshSession, now: Date) -> Decision {
        if let rotatedAt = session.rotatedAt, now.timeIntervalSince(rotatedAt) >= graceWindow {
            return .reuseDetected
        }
        if session.revokedAt != nil { return .revoked }
        if session.expiresAt <= now || session.familyExpiresAt <= now { return .expired }
        return session.rotatedAt == nil ? .rotate : .reissueWithinGrace
    }
}

/// What an exchange did.
enum RefreshExchange: Equatable, Sendable {
    /// A successor was stored (`.rotate`).
    case issued(RefreshSession, decision: RefreshPolicy.Decision)
    /// Within the grace window: the token's existing successor, sealed under a key derived from the
    /// presented token (nil for a token rotated before successors were kept); nothing was stored.
    case repeated(userID: Int64, sealedSuccessor: Data?)
    /// No token has this hash.
    case unknown
    /// Refused; for `.reuseDetected` the family has been revoked.
    case refused(RefreshPolicy.Decision)
}
