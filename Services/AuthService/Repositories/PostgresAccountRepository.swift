import ECGEvents
import ECGMessaging
import Foundation
import Logging
import PostgresNIO

/// Account changes in the `auth` schema, each in one transaction; `user.deleted` goes through the
/// schema's outbox, so it is published exactly when the deletion commits.
struct PostgresAccountRepository: AccountRepository {
    let client: PostgresClient
    let outbox: Outbox
    /// `ecg.auth.events` (or its `TOPIC_AUTH_EVENTS` override).
    let topic: String
    let logger: Logger

    func changePassword(userID: Int64, passwordHash: String, now: Date) async throws -> Bool {
        let logger = self.logger
        return try await PostgresRefreshSessionRepository.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                // The user row first: a deletion running at the same time makes this wait, then find nothing.
                let updated = try await connection.query(
                    "UPDATE users SET password_hash = \(passwordHash), updated_at = \(now) WHERE id = \(userID) RETURNING id",
                    logger: logger
                )
                var found = false
                for try await _ in updated.decode(Int64.self) { found = true }
                guard found else { return false }
                try await connection.query(
                    """
                    UPDATE refresh_families SET revoked_at = \(now), revoked_reason = \(RevocationReason.passwordChange.rawValue)
                    WHERE user_id = \(userID) AND revoked_at IS NULL
                    """,
                    logger: logger
                )
                return true
            }
        }
    }

    func delete(userID: Int64, announcing event: CloudEvent<UserDeleted>) async throws -> Bool {
        let logger = self.logger
        let outbox = self.outbox
        let topic = self.topic
        return try await PostgresRefreshSessionRepository.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                // Sessions first, explicitly (the foreign keys would cascade too): refresh_tokens go with their families.
                try await connection.query("DELETE FROM refresh_families WHERE user_id = \(userID)", logger: logger)
                let deleted = try await connection.query("DELETE FROM users WHERE id = \(userID) RETURNING email", logger: logger)
                var email: String?
                for try await value in deleted.decode(String.self) { email = value }
                guard let email else { return false }
                try await connection.query("DELETE FROM login_attempts WHERE email = \(email)", logger: logger)
                try await outbox.add(event, topic: topic, on: connection, logger: logger)
                return true
            }
        }
    }
}
