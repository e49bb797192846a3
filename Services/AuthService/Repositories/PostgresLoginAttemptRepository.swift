import Foundation
import Logging
import PostgresNIO

/// Login attempts in `login_attempts` (the connection's `search_path` is the service's schema). The check and the insert happen in one transaction
/// under an advisory lock on the email and client, so replicas cannot together let more than `limit` through.
struct PostgresLoginAttemptRepository: LoginAttemptRepository {
    let client: PostgresClient
    let logger: Logger

    func reserve(email: String, client: String, limit: Int, window: TimeInterval, now: Date) async throws -> LoginAttemptDecision {
        let logger = self.logger
        let cutoff = now.addingTimeInterval(-window)
        // Two keys that hash alike only share a lock (serialize), which is harmless.
        let lockKey = "ecg.login_attempts.\(email) \(client)"
        return try await PostgresRefreshSessionRepository.unwrapping {
            try await self.client.withTransaction(logger: logger) { connection -> LoginAttemptDecision in
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(lockKey), 0))", logger: logger)
                try await connection.query(
                    "DELETE FROM login_attempts WHERE email = \(email) AND client = \(client) AND attempted_at <= \(cutoff)",
                    logger: logger
                )
                var recent: [Date] = []
                for try await time in try await connection.query(
                    "SELECT attempted_at FROM login_attempts WHERE email = \(email) AND client = \(client) ORDER BY attempted_at",
                    logger: logger
                ).decode(Date.self) {
                    recent.append(time)
                }
                let decision = LoginAttemptDecision.decide(recent: recent, limit: limit, window: window, now: now)
                if decision == .allowed {
                    try await connection.query(
                        "INSERT INTO login_attempts (email, client, attempted_at) VALUES (\(email), \(client), \(now))",
                        logger: logger
                    )
                }
                return decision
            }
        }
    }

    func reset(email: String, client: String) async throws {
        try await self.client.query("DELETE FROM login_attempts WHERE email = \(email) AND client = \(client)", logger: logger)
    }

    func reset(email: String) async throws {
        try await client.query("DELETE FROM login_attempts WHERE email = \(email)", logger: logger)
    }

    func deleteOlder(than cutoff: Date) async throws -> Int {
        let rows = try await client.query(
            """
            WITH deleted AS (DELETE FROM login_attempts WHERE attempted_at < \(cutoff) RETURNING 1)
            SELECT count(*) FROM deleted
            """,
            logger: logger
        )
        for try await count in rows.decode(Int64.self) {
            return Int(count)
        }
        return 0
    }
}
