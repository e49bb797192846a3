import ECGEvents
import ECGPlatform
import Foundation

/// What signed-in users may do to their own account (docs/auth-account.md): change the password,
/// sign out everywhere, delete the account. It checks the proof each asks for (the password, counted
/// against the login limit, or a fresh Google sign-in) and builds the `user.deleted` event; the
/// repositories run each change in one transaction.
struct AccountService: Sendable {
    let accounts: any AccountRepository
    let refreshSessions: any RefreshSessionRepository
    let attempts: any LoginAttemptRepository
    let hasher: PasswordHasher
    let sessions: SessionService
    /// The `source` of the events this service writes (`auth-service`).
    let eventSource: String
    /// How recent a Google sign-in must be for a Google-only account to be deleted.
    var reauthenticationWindow: TimeInterval = Self.defaultReauthenticationWindow

    static let defaultReauthenticationWindow: TimeInterval = 5 * 60

    /// Why a request was refused; `AuthController.apiError(_:)` gives each its status.
    enum Failure: Error, Equatable {
        /// The token's account was deleted meanwhile.
        case accountGone
        case wrongPassword
        /// The login limit of the account's email is reached.
        case tooManyAttempts(retryAfter: Int)
        /// A Google-only account has no password to change.
        case noPassword
        /// An account with a password must give it to be deleted.
        case passwordRequired
        /// A Google-only account is deleted only within `reauthenticationWindow` of a Google sign-in,
        /// proven by the refresh cookie of that sign-in.
        case reauthenticationRequired
    }

    // MARK: - Change password

    /// Checks `current` (a failure counts toward the login limit of the email and `client`), stores
    /// `new`, revokes every refresh family of the user, and starts a new one for this device.
    func changePassword(of user: User, current: String, new: String, client: String, now: Date = Date()) async throws
        -> SessionService.Issued
    {
        guard user.passwordHash != nil else { throw Failure.noPassword }
        // Checked before the attempt is counted: a too-short new password costs no attempt.
        try Validators.password(new, field: "new_password")
        try await checkPassword(current, of: user, client: client, now: now)
        let hash = try await hasher.hash(new)
        guard try await accounts.changePassword(userID: user.id, passwordHash: hash, now: now) else { throw Failure.accountGone }
        return try await sessions.start(for: user, authenticatedWith: .password, now: now)
    }

    // MARK: - Sign out everywhere

    /// Revokes every refresh family of the user; returns how many were still live.
    @discardableResult
    func signOutEverywhere(_ user: User, now: Date = Date()) async throws -> Int {
        try await refreshSessions.revokeAll(userID: user.id, reason: .logoutAll, now: now)
    }

    // MARK: - Delete the account

    /// Deletes the account once it is proven: its password for an account that has one, else a
    /// Google sign-in less than `reauthenticationWindow` ago whose refresh token is `refreshToken`.
    /// Sessions, login attempts and the user row go in one transaction with `ecg.auth.user.deleted.v1`.
    func delete(_ user: User, password: String?, refreshToken: String?, client: String, now: Date = Date()) async throws {
        if user.passwordHash != nil {
            guard let password else { throw Failure.passwordRequired }
            try await checkPassword(password, of: user, client: client, now: now)
        } else {
            guard try await hasFreshGoogleSignIn(user, refreshToken: refreshToken, now: now) else { throw Failure.reauthenticationRequired }
        }
        let event = CloudEvent(
            source: eventSource,
            type: EventType.userDeleted,
            time: now,
            subject: String(user.id),
            data: UserDeleted(user_id: String(user.id), deleted_at: now)
        )
        guard try await accounts.delete(userID: user.id, announcing: event) else { throw Failure.accountGone }
    }

    /// True when `refreshToken` belongs to a live family of this user that a Google sign-in started
    /// less than `reauthenticationWindow` ago. The access token cannot prove this: refreshing issues
    /// new ones without any sign-in, so its `iat` says nothing about when the user last signed in.
    func hasFreshGoogleSignIn(_ user: User, refreshToken: String?, now: Date) async throws -> Bool {
        guard let refreshToken, RefreshToken.isWellFormed(refreshToken),
            let family = try await refreshSessions.family(containing: RefreshToken.hash(refreshToken))
        else { return false }
        let age = now.timeIntervalSince(family.createdAt)
        return family.userID == user.id && family.revokedAt == nil && family.authenticatedWith == .google
            && age >= -5 && age < reauthenticationWindow
    }

    // MARK: - Helpers

    /// A password check with the login's rules, counted with the logins of the same email and client
    /// (its address): the attempt is recorded first (blocked past the limit), a success clears them.
    private func checkPassword(_ password: String, of user: User, client: String, now: Date) async throws {
        let decision = try await attempts.reserve(
            email: user.email,
            client: client,
            limit: LoginLimit.attempts,
            window: LoginLimit.window,
            now: now
        )
        if case .blocked(let retryAfter) = decision { throw Failure.tooManyAttempts(retryAfter: retryAfter) }
        guard try await hasher.verify(password, against: user.passwordHash) else { throw Failure.wrongPassword }
        try await attempts.reset(email: user.email, client: client)
    }
}
