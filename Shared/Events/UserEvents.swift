import Foundation

/// `ecg.auth.user.deleted.v1` on `ecg.auth.events`, keyed by user id: every service deletes the
/// user's data and refuses the user's access tokens issued before `deleted_at`.
package struct UserDeleted: Codable, Sendable, Equatable {
    package var user_id: String
    package var deleted_at: Date

    package init(user_id: String, deleted_at: Date) {
        self.user_id = user_id
        self.deleted_at = deleted_at
    }
}
