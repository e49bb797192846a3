import ECGEvents
import ECGPlatform
import Foundation

/// The use cases of accounts (docs/auth-account.md): sign up, log in with a password, read the signed-in
/// account, change the password, sign out everywhere, delete the account. It checks the proof each asks
/// for (the password, counted against the login limit, or a fresh Google sign-in), starts the session a
/// sign-in gives, and runs each account change in one transaction with the event that announces it.
struct AccountService: Sendable {
    /// Accounts in the database: sign-in and the account routes read them fresh.
    let users: any UserRepository
    /// What `GET /api/auth/me` reads accounts from: the `/me` cache in production.
    let profiles: any UserRepository
    let accounts: any AccountRepository
    let refreshSessions: any RefreshSessionRepository
    let attempts: any LoginAttemptRepository
    let hasher: PasswordHasher
    let sessions: SessionService
    /// The `source` of the events this service writes (`auth-service`).
    let eventSource: String
    /// Where `user.deleted` is published: `ecg.auth.events` (or its `TOPIC_AUTH_EVENTS` override).
    let eventsTopic: String
    /// How recent a Google sign-in must be for a Google-only account to be deleted.
    var reauthenticationWindow: TimeInterval = Self.defaultReauthenticationWindow

    static let defaultReauthenticationWindow: TimeInterval = 5 * 60

    /// Why a request was refused; `AuthErrors.swift` gives each its status.
    enum Failure: Error, Equatable {
        /// Login: unknown email, wrong password or a deactivated account, all alike.
        case invalidCredentials
        /// Login: an address no account can have (malformed, or too long for the index); answered as `invalidCredentials`.
        case malformedEmail
        /// The token's account was deleted or deactivated meanwhile.
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

    /// A signed-in account and the session its sign-in started.
    struct SignedIn: Sendable {
        let user: User
        let issued: SessionService.Issued
    }

    // MARK: - Sign up and log in

    /// Creates a local account from raw input (validated and normalized here) and starts its session.
    /// Throws `UserConflict` when the email or username is taken.
    func signUp(username rawUsername: String, email rawEmail: String, password: String) async throws -> SignedIn {
        let username = try Validators.username(rawUsername)
        let email = try Validators.email(rawEmail)
        try Validators.password(password)
        // Cheap check first, so that a taken email costs no bcrypt; the unique indexes decide races.
        if let conflict = try await users.conflict(email: email, username: username) { throw conflict }
        let hash = try await hasher.hash(password)
        let user = try await users.create(NewUser(username: username, email: email, passwordHash: hash, authProvider: .local, googleSubject: nil))
        return SignedIn(user: user, issued: try await sessions.start(for: user))
    }

    /// Checks an email and password (counted toward the login limit of the email and `client`, at
    /// `now`) and starts a session. Unknown email, wrong password and a deactivated account fail alike.
    func logIn(email rawEmail: String, password: String, client: String, now: Date = Date()) async throws -> SignedIn {
        let email = rawEmail.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        // No account has a malformed address (signup checks it), and one of kilobytes or with NUL would
        // not fit PostgreSQL's index or text (security review L5): refused before any database work.
        guard Validators.isValidEmail(email) else { throw Failure.malformedEmail }
        try await reserveAttempt(email: email, client: client, now: now)
        // The same work whether or not the email exists: a lookup, then one bcrypt check.
        let user = try await users.find(email: email)
        let passwordMatches = try await hasher.verify(password, against: user?.passwordHash)
        guard let user, passwordMatches, user.isActive else { throw Failure.invalidCredentials }
        try await attempts.reset(email: email, client: client)
        return SignedIn(user: user, issued: try await sessions.start(for: user))
    }

    // MARK: - The signed-in account

    /// The active account with this id, read from the database: a deleted or deactivated account is
    /// `accountGone` even for a token that verifies (and may sit in the verified-token cache).
    func account(id: Int64) async throws -> User {
        guard let user = try await users.find(id: id), user.isActive else { throw Failure.accountGone }
        return user
    }

    /// The active account with this id as `GET /api/auth/me` shows it, read through `profiles`.
    func profile(id: Int64) async throws -> User {
        guard let user = try await profiles.find(id: id), user.isActive else { throw Failure.accountGone }
        return user
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
        let changed = try await accounts.transaction { transaction in
            guard try await transaction.setPasswordHash(userID: user.id, hash, now: now) else { return false }
            try await transaction.revokeSessions(userID: user.id, reason: .passwordChange, now: now)
            return true
        }
        guard changed else { throw Failure.accountGone }
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
            data: UserDeleted(userID: UserID(user.id), deletedAt: now)
        )
        let topic = eventsTopic
        let deleted = try await accounts.transaction { transaction in
            // Sessions first, explicitly (the foreign keys would cascade too).
            try await transaction.deleteSessions(userID: user.id)
            guard let email = try await transaction.deleteUser(userID: user.id) else { return false }
            try await transaction.deleteLoginAttempts(email: email)
            try await transaction.publish(event, topic: topic)
            return true
        }
        guard deleted else { throw Failure.accountGone }
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
        try await reserveAttempt(email: user.email, client: client, now: now)
        guard try await hasher.verify(password, against: user.passwordHash) else { throw Failure.wrongPassword }
        try await attempts.reset(email: user.email, client: client)
    }

    /// Records a password check of `email` from `client`; `tooManyAttempts` past the login limit.
    private func reserveAttempt(email: String, client: String, now: Date) async throws {
        let decision = try await attempts.reserve(email: email, client: client, limit: LoginLimit.attempts, window: LoginLimit.window, now: now)
        if case .blocked(let retryAfter) = decision { throw Failure.tooManyAttempts(retryAfter: retryAfter) }
    }
}
