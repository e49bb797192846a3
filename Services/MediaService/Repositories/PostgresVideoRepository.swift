import ECGDatabase
import ECGEvents
import ECGMessaging
import ECGPlatform
import Foundation
import Logging
import PostgresNIO

/// Video records in the `media` schema (each connection's `search_path`, so tables are unqualified); events go through the schema's outbox (`publish`).
struct PostgresVideoRepository: VideoRepository {
    let postgres: PostgresClient
    let outbox: Outbox
    let logger: Logger
    /// generate-url's inserts, grouped into one statement per round trip (`create`); a `Service` the
    /// application runs.
    let pendingVideos: StatementBatcher<PendingVideo, Bool>

    init(postgres: PostgresClient, outbox: Outbox, logger: Logger) {
        self.postgres = postgres
        self.outbox = outbox
        self.logger = logger
        self.pendingVideos = Self.pendingVideoBatcher(postgres: postgres, logger: logger)
    }

    struct UnknownStatus: Error { let value: String }

    fileprivate typealias Row = (String, Int64, String, String, Int64?, Int64?, String, Date, Date?, String?)
    fileprivate static let columns = "file_key, owner_id, filename, content_type, declared_size_bytes, size_bytes, status, created_at, uploaded_at, etag"

    func transaction<Result: Sendable>(_ body: @Sendable (any VideoTransaction) async throws -> Result) async throws -> Result {
        try await postgres.transaction(logger: logger) { connection in
            try await body(transaction(on: connection))
        }
    }

    /// The statements of a transaction someone else opened (the idempotent consumer's).
    func transaction(on connection: PostgresConnection) -> any VideoTransaction {
        PostgresVideoTransaction(connection: connection, outbox: outbox, logger: logger)
    }

    func find(fileKey: VideoKey) async throws -> Video? {
        let rows = try await postgres.query(
            """
            SELECT file_key, owner_id, filename, content_type, declared_size_bytes, size_bytes, status, created_at, uploaded_at, etag
            FROM videos WHERE file_key = \(fileKey.rawValue)
            """,
            logger: logger
        )
        for try await row in rows.decode(Row.self) { return try Self.video(row) }
        return nil
    }

    func list(ownerID: UserID, page: PageRequest) async throws -> [Video] {
        // Keyset pagination on (created_at, file_key), the order of videos_owner_created_idx: a page
        // never repeats or skips a video however many are added meanwhile.
        let rows: PostgresRowSequence
        if let after = page.after {
            rows = try await postgres.query(
                """
                SELECT file_key, owner_id, filename, content_type, declared_size_bytes, size_bytes, status, created_at, uploaded_at, etag
                FROM videos
                WHERE owner_id = \(ownerID.rawValue)
                  AND (created_at, file_key) < (timestamptz 'epoch' + \(after.createdAtMicroseconds) * interval '1 microsecond', \(after.id))
                ORDER BY created_at DESC, file_key DESC LIMIT \(page.limit + 1)
                """,
                logger: logger
            )
        } else {
            rows = try await postgres.query(
                """
                SELECT file_key, owner_id, filename, content_type, declared_size_bytes, size_bytes, status, created_at, uploaded_at, etag
                FROM videos WHERE owner_id = \(ownerID.rawValue)
                ORDER BY created_at DESC, file_key DESC LIMIT \(page.limit + 1)
                """,
                logger: logger
            )
        }
        var videos: [Video] = []
        for try await row in rows.decode(Row.self) { videos.append(try Self.video(row)) }
        return videos
    }

    fileprivate static func video(_ row: Row) throws -> Video {
        guard let status = Video.Status(rawValue: row.6) else { throw UnknownStatus(value: row.6) }
        return Video(
            fileKey: VideoKey(row.0),
            ownerID: UserID(row.1),
            filename: row.2,
            contentType: row.3,
            declaredSizeBytes: row.4,
            sizeBytes: row.5,
            status: status,
            createdAt: row.7,
            uploadedAt: row.8,
            eTag: row.9
        )
    }
}

/// The statements of `VideoTransaction` on one connection inside an open transaction.
private struct PostgresVideoTransaction: VideoTransaction {
    let connection: PostgresConnection
    let outbox: Outbox
    let logger: Logger

    func find(fileKey: VideoKey) async throws -> Video? {
        let rows = try await connection.query(
            "SELECT \(unescaped: PostgresVideoRepository.columns) FROM videos WHERE file_key = \(fileKey.rawValue)",
            logger: logger
        )
        for try await row in rows.decode(PostgresVideoRepository.Row.self) { return try PostgresVideoRepository.video(row) }
        return nil
    }

    func markUploaded(fileKey: VideoKey, sizeBytes: Int64, eTag: String?) async throws -> Video? {
        // The row lock makes a racing second caller wait here, then find the row no longer pending.
        // A pending row counts its declared size (it has no size_bytes yet); now it counts size_bytes.
        let updated = try await connection.query(
            """
            WITH updated AS (
                UPDATE videos SET status = 'uploaded', size_bytes = \(sizeBytes), etag = \(eTag), uploaded_at = now(), updated_at = now()
                WHERE file_key = \(fileKey.rawValue) AND status = 'pending'
                RETURNING \(unescaped: PostgresVideoRepository.columns)
            ),
            \(unescaped: StorageUsageSQL.adjust(by: "sum(size_bytes - coalesce(declared_size_bytes, 0))", from: "updated"))
            SELECT \(unescaped: PostgresVideoRepository.columns) FROM updated
            """,
            logger: logger
        )
        for try await row in updated.decode(PostgresVideoRepository.Row.self) { return try PostgresVideoRepository.video(row) }
        return nil
    }

    func delete(fileKey: VideoKey, ownerID: UserID) async throws -> Video? {
        let deleted = try await connection.query(
            """
            WITH deleted AS (
                DELETE FROM videos WHERE file_key = \(fileKey.rawValue) AND owner_id = \(ownerID.rawValue)
                RETURNING \(unescaped: PostgresVideoRepository.columns)
            ),
            \(unescaped: StorageUsageSQL.release(from: "deleted"))
            SELECT \(unescaped: PostgresVideoRepository.columns) FROM deleted
            """,
            logger: logger
        )
        for try await row in deleted.decode(PostgresVideoRepository.Row.self) { return try PostgresVideoRepository.video(row) }
        return nil
    }

    func deleteAll(ownerID: UserID) async throws -> [Video] {
        let deleted = try await connection.query(
            """
            WITH deleted AS (
                DELETE FROM videos WHERE owner_id = \(ownerID.rawValue) RETURNING \(unescaped: PostgresVideoRepository.columns)
            ),
            -- The user is gone (user.deleted): their usage row goes too, not a 0 left behind.
            usage_forgotten AS (DELETE FROM storage_usage WHERE owner_id = \(ownerID.rawValue))
            SELECT \(unescaped: PostgresVideoRepository.columns) FROM deleted
            """,
            logger: logger
        )
        var videos: [Video] = []
        for try await row in deleted.decode(PostgresVideoRepository.Row.self) { videos.append(try PostgresVideoRepository.video(row)) }
        return videos
    }

    func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws {
        try await outbox.add(event, topic: topic, on: connection, logger: logger)
    }
}

/// The `media.storage_usage` side of a statement that changes video rows (a data-modifying CTE,
/// which PostgreSQL runs whether or not the statement reads it): the owner's reserved bytes follow
/// the rows in the same statement, so they commit or roll back together. The usage row is locked
/// after the video rows, the order every statement here takes; generate-url locks only the usage row.
enum StorageUsageSQL {
    /// Gives back what the deleted rows counted (`coalesce(size_bytes, declared_size_bytes, 0)`).
    static func release(from rows: String) -> String {
        adjust(by: "-sum(coalesce(size_bytes, declared_size_bytes, 0))", from: rows)
    }

    /// Adds `delta` (an aggregate over `rows`) to each owner's reserved bytes; nothing when no row
    /// changed or the change is 0 (complete with the declared size: no lock on the usage row).
    /// Never below 0 (a usage row that somehow under-counted does not fail a deletion).
    static func adjust(by delta: String, from rows: String) -> String {
        """
        usage_change AS (
            UPDATE storage_usage AS usage SET reserved_bytes = greatest(usage.reserved_bytes + change.delta, 0)
            FROM (SELECT owner_id, \(delta) AS delta FROM \(rows) GROUP BY owner_id) AS change
            WHERE usage.owner_id = change.owner_id AND change.delta <> 0
        )
        """
    }
}
