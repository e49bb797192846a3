import ECGDatabase
import ECGEvents
import ECGMessaging
import ECGPlatform
import Foundation
import Logging
import PostgresNIO

/// Video records in the `media` schema; events go through the schema's outbox (`publish`).
struct PostgresVideoRepository: VideoRepository {
    let postgres: PostgresClient
    let outbox: Outbox
    let logger: Logger

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

    func create(_ video: Video) async throws {
        try await postgres.query(
            """
            INSERT INTO media.videos (file_key, owner_id, filename, content_type, declared_size_bytes, status, created_at, updated_at)
            VALUES (\(video.fileKey), \(video.ownerID), \(video.filename), \(video.contentType), \(video.declaredSizeBytes),
                    \(video.status.rawValue), \(video.createdAt), \(video.createdAt))
            """,
            logger: logger
        )
    }

    func create(_ video: Video, quotaBytes: Int64) async throws -> Bool {
        let logger = self.logger
        return try await postgres.transaction(logger: logger) { connection -> Bool in
            // One owner's generate-url calls take turns here, so two cannot both fit the last bytes.
            //
            // The pending row commits without waiting for its WAL flush (issue 13, item 4:
            // `synchronous_commit` off for this transaction only, set in the same round trip as the
            // lock). What a PostgreSQL crash can lose: pending rows committed in the last moments
            // before it (at most three `wal_writer_delay`s, 600 ms by default), never a completed
            // video (`complete` commits synchronously) and never a half-written row. Such a pending
            // row is only a reservation for an upload that has not happened yet: the client's
            // `complete` then answers 404 and it asks for a new URL; an object already PUT under the
            // lost key is left unreferenced in S3, as an abandoned upload is. The row's quota bytes
            // are freed, which errs on the user's side.
            let lockKey = "media-quota:\(video.ownerID)"
            try await connection.query(
                "SELECT set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock(hashtextextended(\(lockKey), 0))",
                logger: logger
            )
            let declared = video.declaredSizeBytes ?? 0
            let inserted = try await connection.query(
                """
                INSERT INTO media.videos (file_key, owner_id, filename, content_type, declared_size_bytes, status, created_at, updated_at)
                SELECT \(video.fileKey), \(video.ownerID), \(video.filename), \(video.contentType), \(video.declaredSizeBytes),
                       \(video.status.rawValue), \(video.createdAt), \(video.createdAt)
                WHERE (SELECT coalesce(sum(coalesce(size_bytes, declared_size_bytes, 0)), 0) FROM media.videos WHERE owner_id = \(video.ownerID))
                      + \(declared) <= \(quotaBytes)
                RETURNING 1
                """,
                logger: logger
            ).collect()
            return !inserted.isEmpty
        }
    }

    func find(fileKey: String) async throws -> Video? {
        let rows = try await postgres.query(
            """
            SELECT file_key, owner_id, filename, content_type, declared_size_bytes, size_bytes, status, created_at, uploaded_at, etag
            FROM media.videos WHERE file_key = \(fileKey)
            """,
            logger: logger
        )
        for try await row in rows.decode(Row.self) { return try Self.video(row) }
        return nil
    }

    func list(ownerID: Int64, page: PageRequest) async throws -> [Video] {
        // Keyset pagination on (created_at, file_key), the order of videos_owner_created_idx: a page
        // never repeats or skips a video however many are added meanwhile.
        let rows: PostgresRowSequence
        if let after = page.after {
            rows = try await postgres.query(
                """
                SELECT file_key, owner_id, filename, content_type, declared_size_bytes, size_bytes, status, created_at, uploaded_at, etag
                FROM media.videos
                WHERE owner_id = \(ownerID)
                  AND (created_at, file_key) < (timestamptz 'epoch' + \(after.createdAtMicroseconds) * interval '1 microsecond', \(after.id))
                ORDER BY created_at DESC, file_key DESC LIMIT \(page.limit + 1)
                """,
                logger: logger
            )
        } else {
            rows = try await postgres.query(
                """
                SELECT file_key, owner_id, filename, content_type, declared_size_bytes, size_bytes, status, created_at, uploaded_at, etag
                FROM media.videos WHERE owner_id = \(ownerID)
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
            fileKey: row.0,
            ownerID: row.1,
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

    func find(fileKey: String) async throws -> Video? {
        let rows = try await connection.query(
            "SELECT \(unescaped: PostgresVideoRepository.columns) FROM media.videos WHERE file_key = \(fileKey)",
            logger: logger
        )
        for try await row in rows.decode(PostgresVideoRepository.Row.self) { return try PostgresVideoRepository.video(row) }
        return nil
    }

    func markUploaded(fileKey: String, sizeBytes: Int64, eTag: String?) async throws -> Video? {
        // The row lock makes a racing second caller wait here, then find the row no longer pending.
        let updated = try await connection.query(
            """
            UPDATE media.videos SET status = 'uploaded', size_bytes = \(sizeBytes), etag = \(eTag), uploaded_at = now(), updated_at = now()
            WHERE file_key = \(fileKey) AND status = 'pending'
            RETURNING \(unescaped: PostgresVideoRepository.columns)
            """,
            logger: logger
        )
        for try await row in updated.decode(PostgresVideoRepository.Row.self) { return try PostgresVideoRepository.video(row) }
        return nil
    }

    func delete(fileKey: String, ownerID: Int64) async throws -> Video? {
        let deleted = try await connection.query(
            """
            DELETE FROM media.videos WHERE file_key = \(fileKey) AND owner_id = \(ownerID)
            RETURNING \(unescaped: PostgresVideoRepository.columns)
            """,
            logger: logger
        )
        for try await row in deleted.decode(PostgresVideoRepository.Row.self) { return try PostgresVideoRepository.video(row) }
        return nil
    }

    func deleteAll(ownerID: Int64) async throws -> [Video] {
        let deleted = try await connection.query(
            "DELETE FROM media.videos WHERE owner_id = \(ownerID) RETURNING \(unescaped: PostgresVideoRepository.columns)",
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
