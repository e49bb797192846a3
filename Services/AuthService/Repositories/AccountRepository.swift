import ECGEvents
import Foundation

/// Changes to an account that span its tables, each all or nothing: a password change ends every
/// session of the old password, and a deleted account leaves no session, login attempt or row
/// behind, with its `ecg.auth.user.deleted.v1` in the outbox of the same transaction. SQL only:
/// `AccountService` runs the statements of each change in `transaction` and adds its event.
protocol AccountRepository: Sendable {
    /// Runs `body` in one transaction: its changes and events commit together or not at all.
    func transaction<Result: Sendable>(_ body: @Sendable (any AccountTransaction) async throws -> Result) async throws -> Result
}

/// The statements a use case runs inside one account transaction.
protocol AccountTransaction: Sendable {
    /// Replaces the user's password hash; false when the user no longer exists. The user row is
    /// written first: a deletion running at the same time makes this wait, then find nothing.
    func setPasswordHash(userID: Int64, _ passwordHash: String, now: Date) async throws -> Bool
    /// Revokes every refresh family of the user not yet revoked; returns how many.
    @discardableResult
    func revokeSessions(userID: Int64, reason: RevocationReason, now: Date) async throws -> Int
    /// Deletes the user's refresh families with their tokens.
    func deleteSessions(userID: Int64) async throws
    /// Deletes the user row; returns its email, or nil when there was no such user.
    func deleteUser(userID: Int64) async throws -> String?
    /// Deletes the login attempts of `email`.
    func deleteLoginAttempts(email: String) async throws
    /// Adds `event` to the outbox, published to `topic` once the transaction commits.
    func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws
}
