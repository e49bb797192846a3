import Foundation

/// `ecg.auth.user.deleted.v1` on `ecg.auth.events`, keyed by user id: every service deletes the
/// user's data and refuses the user's access tokens issued before `deleted_at`.
package struct UserDeleted: Codable, Sendable, Equatable {
    package var userID: UserID
    package var deletedAt: Date

    package init(userID: UserID, deletedAt: Date) {
        self.userID = userID
        self.deletedAt = deletedAt
    }

    private enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case deletedAt = "deleted_at"
    }
}
