import Foundation

/// Starts, refreshes and ends sessions: an access token plus a rotating refresh token (SPEC.md §3 rows 1, 2, 4, 5).
struct SessionService: Sendable {
    let users: any UserRepository
    let sessions: any RefreshSessionRepository
    let accessTokens: AccessTokenIssuer
    let policy: RefreshPolicy

    /// What a client receives: the access token for its `Authorization` header, the refresh token for the cookie.
    struct Issued: Sendable {
        let accessToken: String
        let refreshToken: String
    }

    /// Why a refresh was refused; each is a 401.
    enum RefreshFailure: Error, Equatable {
        /// No cookie, or a value this service never issued.
        case missing
        case unknown
        case expired
        /// The family was revoked (logout, earlier reuse, deactivated account).
        case revoked
        /// A rotated token presented after the grace window: its family has just been revoked.
        case reused
    }

    /// A new family for a login, signup or password change, remembering how the login was proven.
    func start(for user: User, authenticatedWith method: AuthenticationMethod = .password, now: Date = Date()) async throws -> Issued {
        let refreshToken = RefreshToken.generate()
        let familyExpiresAt = policy.familyExpiry(loginAt: now)
        _ = try await sessions.start(
            userID: user.id,
            tokenHash: RefreshToken.hash(refreshToken),
            expiresAt: policy.tokenExpiry(now: now, familyExpiresAt: familyExpiresAt),
            familyExpiresAt: familyExpiresAt,
            method: method,
            now: now
        )
        return Issued(accessToken: try await accessTokens.issue(for: user.id, now: now), refreshToken: refreshToken)
    }

    /// Exchanges a refresh token for a new access token and a successor refresh token.
    func refresh(_ presented: String?, now: Date = Date()) async throws -> Issued {
        guard let presented else { throw RefreshFailure.missing }
        guard RefreshToken.isWellFormed(presented) else { throw RefreshFailure.unknown }
        let successor = RefreshToken.generate()
        let outcome = try await sessions.exchange(
            presentedHash: RefreshToken.hash(presented),
            replacementHash: RefreshToken.hash(successor),
            sealedReplacement: try RefreshToken.seal(successor, under: presented),
            policy: policy,
            now: now
        )
        switch outcome {
        case .unknown:
            throw RefreshFailure.unknown
        case .refused(.reuseDetected):
            throw RefreshFailure.reused
        case .refused(.expired):
            throw RefreshFailure.expired
        case .refused:
            throw RefreshFailure.revoked
        case .issued(let session, _):
            guard let user = try await users.find(id: session.userID), user.isActive else {
                try await sessions.revokeFamily(containing: RefreshToken.hash(successor), reason: .inactive, now: now)
                throw RefreshFailure.revoked
            }
            return Issued(accessToken: try await accessTokens.issue(for: user.id, now: now), refreshToken: successor)
        case .repeated(let userID, let sealed):
            // Within the grace window (two tabs): the successor already issued, so the family stays one chain.
            guard let sealed, let existing = RefreshToken.open(sealed, under: presented) else { throw RefreshFailure.revoked }
            guard let user = try await users.find(id: userID), user.isActive else {
                try await sessions.revokeFamily(containing: RefreshToken.hash(presented), reason: .inactive, now: now)
                throw RefreshFailure.revoked
            }
            return Issued(accessToken: try await accessTokens.issue(for: user.id, now: now), refreshToken: existing)
        }
    }

    /// Revokes the family of the presented token, if any. Idempotent.
    func logout(_ presented: String?, now: Date = Date()) async throws {
        guard let presented, RefreshToken.isWellFormed(presented) else { return }
        try await sessions.revokeFamily(containing: RefreshToken.hash(presented), reason: .logout, now: now)
    }
}
