import ECGEvents
import Foundation

/// Changes to an account that span its tables, each all or nothing: a password change ends every
/// session of the old password, and a deleted account leaves no session, login attempt or row
/// behind, with its `ecg.auth.user.deleted.v1` in the outbox of the same transaction.
protocol AccountRepository: Sendable {
    /// Replaces the user's password hash and revokes every refresh family of the user
    /// (`password_change`); false, and nothing changed, when the user no longer exists.
    func changePassword(userID: Int64, passwordHash: String, now: Date) async throws -> Bool
    /// Deletes the user with its refresh families and tokens and the login attempts of its email,
    /// and adds `event` to the outbox; false, and nothing written, when the user no longer exists.
    func delete(userID: Int64, announcing event: CloudEvent<UserDeleted>) async throws -> Bool
}
