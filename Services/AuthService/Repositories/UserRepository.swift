import Foundation

/// Accounts. Emails are stored lowercased; usernames are unique by `Validators.usernameKey`.
protocol UserRepository: Sendable {
    /// Stores a new account; throws `UserConflict` when the email, username or Google subject is taken.
    func create(_ user: NewUser) async throws -> User
    func find(id: Int64) async throws -> User?
    func find(email: String) async throws -> User?
    func find(googleSubject: String) async throws -> User?
    /// Which of email and username is taken already, checked before the expensive password hash.
    func conflict(email: String, username: String) async throws -> UserConflict?
    /// Attaches a Google subject to an existing account (only for a verified email); returns the
    /// account, or nil when it already has another Google subject.
    func linkGoogle(userID: Int64, subject: String) async throws -> User?
}
