import ECGDatabase
import ECGEvents
import ECGMessaging
import Foundation
import Logging
import PostgresNIO

/// Account changes in the `auth` schema, each in one transaction; events go through the schema's
/// outbox, so `user.deleted` is published exactly when the deletion commits.
struct PostgresAccountRepository: AccountRepository {
    let client: PostgresClient
    let outbox: Outbox
    let logger: Logger

    func transaction<Result: Sendable>(_ body: @Sendable (any AccountTransaction) async throws -> Result) async throws -> Result {
        try await client.transaction(logger: logger) { connection in
            try await body(PostgresAccountTransaction(connection: connection, outbox: outbox, logger: logger))
        }
    }
}

private struct PostgresAccountTransaction: AccountTransaction {
    let connection: PostgresConnection
    let outbox: Outbox
    let logger: Logger

    func setPasswordHash(userID: Int64, _ passwordHash: String, now: Date) async throws -> Bool {
        let updated = try await connection.query(
            "UPDATE users SET password_hash = \(passwordHash), updated_at = \(now) WHERE id = \(userID) RETURNING id",
            logger: logger
        )
        var found = false
        for try await _ in updated.decode(Int64.self) { found = true }
        return found
    }

    func revokeSessions(userID: Int64, reason: RevocationReason, now: Date) async throws -> Int {
        let rows = try await connection.query(
            PostgresRefreshSessionRepository.revokeAllQuery(userID: userID, reason: reason, now: now),
            logger: logger
        )
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    func deleteSessions(userID: Int64) async throws {
        // refresh_tokens go with their families (ON DELETE CASCADE).
        try await connection.query("DELETE FROM refresh_families WHERE user_id = \(userID)", logger: logger)
    }

    func deleteUser(userID: Int64) async throws -> String? {
        let deleted = try await connection.query("DELETE FROM users WHERE id = \(userID) RETURNING email", logger: logger)
        var email: String?
        for try await value in deleted.decode(String.self) { email = value }
        return email
    }

    func deleteLoginAttempts(email: String) async throws {
        try await connection.query("DELETE FROM login_attempts WHERE email = \(email)", logger: logger)
    }

    func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws {
        try await outbox.add(event, topic: topic, on: connection, logger: logger)
    }
}
