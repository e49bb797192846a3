import ECGDatabase
import ECGEvents
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Users deleted through `ecg.auth.user.deleted.v1`, whose access tokens issued before the deletion
/// must stop working at once. A service that honours deletions keeps them in its own schema
/// (`deleted_users`, written in the same transaction as the deletion of the user's data) and every
/// replica holds the current list in memory, reloaded every `refreshInterval`, so the bearer-token
/// middleware refuses such a token without a database round trip.
///
/// Entries are kept for `retention` (a day: far longer than any access token lives); user ids are
/// never reused, so a longer stay harms no one.
package final class DeletedUsers: Sendable {
    package static let retention: Duration = .seconds(86_400)

    private let ids = Mutex<Set<UserID>>([])

    package init() {}

    package func contains(_ userID: UserID) -> Bool {
        ids.withLock { $0.contains(userID) }
    }

    package func insert(_ userID: UserID) {
        ids.withLock { _ = $0.insert(userID) }
    }

    func replace(with current: Set<UserID>) {
        ids.withLock { $0 = current }
    }

    /// The table's migration (shared version 910, like the messaging tables' 900s).
    package static let migration = Migration(
        version: 910,
        name: "deleted_users",
        sql: """
            CREATE TABLE deleted_users (
                user_id text PRIMARY KEY,
                deleted_at timestamptz NOT NULL,
                keep_until timestamptz NOT NULL
            );
            CREATE INDEX deleted_users_keep_until_idx ON deleted_users (keep_until);
            """
    )

    /// Records a deletion inside the caller's transaction. Idempotent.
    package static func record(_ userID: UserID, deletedAt: Date, on connection: PostgresConnection, logger: Logger) async throws {
        let seconds = Double(retention.components.seconds)
        try await connection.query(
            """
            INSERT INTO deleted_users (user_id, deleted_at, keep_until)
            VALUES (\(userID.description), \(deletedAt), now() + make_interval(secs => \(seconds)))
            ON CONFLICT (user_id) DO NOTHING
            """,
            logger: logger
        )
    }
}

/// Reloads `DeletedUsers` from the schema's table on every replica, and prunes expired rows.
package struct DeletedUsersRefresher: Service {
    let deletedUsers: DeletedUsers
    let postgres: PostgresClient
    let logger: Logger
    var refreshInterval: Duration = .milliseconds(500)

    package init(deletedUsers: DeletedUsers, postgres: PostgresClient, logger: Logger) {
        self.deletedUsers = deletedUsers
        self.postgres = postgres
        self.logger = logger
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            var rounds = 0
            while !Task.isCancelled {
                do {
                    if rounds % 7_200 == 0 {
                        try await postgres.query("DELETE FROM deleted_users WHERE keep_until < now()", logger: logger)
                    }
                    var current = Set<UserID>()
                    let rows = try await postgres.query("SELECT user_id FROM deleted_users", logger: logger)
                    for try await text in rows.decode(String.self) {
                        if let id = UserID(text) { current.insert(id) }
                    }
                    deletedUsers.replace(with: current)
                } catch {
                    // Keep the last list: a deleted user stays refused while the database is away.
                    logger.debug("deleted-users refresh failed", metadata: ["error": "\(error)"])
                }
                rounds += 1
                try? await Task.sleep(for: refreshInterval)
            }
        }
    }
}
