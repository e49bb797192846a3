import ECGDatabase
import ECGEvents
import Logging
import PostgresNIO

/// A video record `create` was asked for, waiting for its group's statement.
struct PendingVideo: Sendable {
    let video: Video
    let quotaBytes: Int64
}

// MARK: - create: generate-url's reservation and insert

extension PostgresVideoRepository {
    func create(_ video: Video, quotaBytes: Int64) async throws -> Bool {
        try await pendingVideos.submit(PendingVideo(video: video, quotaBytes: quotaBytes))
    }

    /// generate-url inserts a row on every request. Concurrent requests are grouped (issue 13, item 4):
    /// while a group is in PostgreSQL, new videos gather and go in the next statement together, one
    /// round trip and one commit for the group. A lone request runs at once, alone. pgbench here,
    /// one client: 5,700 single inserts/s (175 µs each), 34,000 rows/s in groups of 16 (29 µs a row).
    ///
    /// One lane: every group raises its owners' `storage_usage` rows, so a second group running at the
    /// same time for the same owners only waits on their row locks; meanwhile its requests are not
    /// gathering into a larger group. Measured under generate-url (one user, alternating builds): one
    /// lane 7,959-8,047 req/s on media-service's port and 25-26 µs of PostgreSQL CPU per request,
    /// two lanes 6,806-7,263 and 32-34 µs (groups of 11 rows on average).
    static func pendingVideoBatcher(postgres: PostgresClient, logger: Logger) -> StatementBatcher<PendingVideo, Bool> {
        StatementBatcher(lanes: 1, maxGroupSize: 64) { group in
            try await create(group, postgres: postgres, logger: logger)
        }
    }

    /// Creates a group's videos with the outcome each would have had alone, in the group's order.
    ///
    /// The group's statement reserves each owner's videos together: all of an owner's videos fit the
    /// quota, or none is inserted. An owner whose videos did not fit together, with more than one
    /// video in the group, gets each video decided alone, in order (some may fit); with one video, its
    /// refusal is the answer. A statement the server refuses (a deadlock, a key already taken) is run
    /// again video by video, so that only the video at fault fails its request; an outage fails the
    /// whole group.
    static func create(_ group: [PendingVideo], postgres: PostgresClient, logger: Logger) async throws -> [Result<Bool, any Error>] {
        guard group.count > 1, let quotaBytes = group.first?.quotaBytes, group.allSatisfy({ $0.quotaBytes == quotaBytes }) else {
            return await createOneByOne(group, postgres: postgres, logger: logger)
        }
        var reservedOwners: Set<Int64> = []
        do {
            for try await owner in try await postgres.execute(ReserveAndInsertVideos(group: group, quotaBytes: quotaBytes), logger: logger) {
                reservedOwners.insert(owner)
            }
        } catch let error as PSQLError where error.serverInfo != nil {
            return await createOneByOne(group, postgres: postgres, logger: logger)
        }
        let videosPerOwner = Dictionary(group.map { ($0.video.ownerID.rawValue, 1) }, uniquingKeysWith: +)
        var outcomes = group.map { pending -> Result<Bool, any Error>? in
            let owner = pending.video.ownerID.rawValue
            if reservedOwners.contains(owner) { return .success(true) }
            return videosPerOwner[owner] == 1 ? .success(false) : nil
        }
        let undecided = outcomes.indices.filter { outcomes[$0] == nil }
        let decidedAlone = await createOneByOne(undecided.map { group[$0] }, postgres: postgres, logger: logger)
        for (index, outcome) in zip(undecided, decidedAlone) { outcomes[index] = outcome }
        return outcomes.map { $0! }
    }

    private static func createOneByOne(_ videos: [PendingVideo], postgres: PostgresClient, logger: Logger) async -> [Result<Bool, any Error>] {
        var outcomes: [Result<Bool, any Error>] = []
        for pending in videos {
            do {
                var created = false
                for try await _ in try await postgres.execute(ReserveAndInsertVideo(pending: pending), logger: logger) { created = true }
                outcomes.append(.success(created))
            } catch {
                outcomes.append(.failure(error))
            }
        }
        return outcomes
    }
}

// MARK: - The statements

/// One video: the owner's usage row (`media.storage_usage`, migration 0003) is raised by the declared
/// size only if the sum stays within the quota, and the video row is inserted only if it was. Two
/// racing statements of one owner take turns on the usage row's lock (ON CONFLICT DO UPDATE re-checks
/// its WHERE against the row the other committed), so they cannot both fit the last bytes.
///
/// Both statements commit without waiting for their WAL flush (issue 13, item 4:
/// `synchronous_commit` off for their transaction only). What a PostgreSQL crash can lose: rows
/// committed in the last moments before it (at most three `wal_writer_delay`s, 600 ms by default),
/// a reservation and its pending row together, never a completed video (`complete` commits
/// synchronously) and never one without the other. Such a pending row is only a reservation for an
/// upload that has not happened yet: the client's `complete` then answers 404 and it asks for a new
/// URL; an object already PUT under the lost key is left unreferenced in S3, as an abandoned upload is.
private struct ReserveAndInsertVideo: PostgresPreparedStatement {
    static let sql = """
        WITH commit_mode AS (SELECT set_config('synchronous_commit', 'off', true)),
        reserved AS (
            INSERT INTO storage_usage AS usage (owner_id, reserved_bytes)
            SELECT $2::bigint, $6::bigint WHERE $6::bigint <= $8::bigint
            ON CONFLICT (owner_id) DO UPDATE SET reserved_bytes = usage.reserved_bytes + excluded.reserved_bytes
            WHERE usage.reserved_bytes + excluded.reserved_bytes <= $8::bigint
            RETURNING owner_id
        )
        INSERT INTO videos (file_key, owner_id, filename, content_type, declared_size_bytes, status, created_at, updated_at)
        SELECT $1::text, reserved.owner_id, $3::text, $4::text, $5::bigint, $7::text, $9::timestamptz, $9::timestamptz
        FROM reserved, commit_mode
        RETURNING 1
        """
    typealias Row = Int32

    let pending: PendingVideo

    func makeBindings() throws -> PostgresBindings {
        let video = pending.video
        var bindings = PostgresBindings()
        bindings.append(video.fileKey.rawValue)
        bindings.append(video.ownerID.rawValue)
        bindings.append(video.filename)
        bindings.append(video.contentType)
        bindings.append(video.declaredSizeBytes)
        bindings.append(video.declaredSizeBytes ?? 0)  // what the usage row reserves
        bindings.append(video.status.rawValue)
        bindings.append(pending.quotaBytes)
        bindings.append(video.createdAt)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int32 { try row.decode(Int32.self) }
}

/// A group of videos: each owner's usage row is raised by the sum of the owner's declared sizes if it
/// stays within the quota, and that owner's rows are inserted only if it was. Usage rows are locked in
/// owner order, so two groups running at once wait for each other instead of deadlocking. Returns the
/// owner of each inserted row.
private struct ReserveAndInsertVideos: PostgresPreparedStatement {
    static let sql = """
        WITH commit_mode AS (SELECT set_config('synchronous_commit', 'off', true)),
        requested AS (
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[])
                AS requested (file_key, owner_id, filename, content_type, declared_size_bytes, status, created_at)
        ),
        per_owner AS (
            SELECT owner_id, sum(greatest(declared_size_bytes, 0))::bigint AS bytes FROM requested GROUP BY owner_id
        ),
        reserved AS (
            INSERT INTO storage_usage AS usage (owner_id, reserved_bytes)
            SELECT owner_id, bytes FROM per_owner WHERE bytes <= $8::bigint ORDER BY owner_id
            ON CONFLICT (owner_id) DO UPDATE SET reserved_bytes = usage.reserved_bytes + excluded.reserved_bytes
            WHERE usage.reserved_bytes + excluded.reserved_bytes <= $8::bigint
            RETURNING owner_id
        )
        INSERT INTO videos (file_key, owner_id, filename, content_type, declared_size_bytes, status, created_at, updated_at)
        SELECT requested.file_key, requested.owner_id, requested.filename, requested.content_type,
               nullif(requested.declared_size_bytes, -1), requested.status, requested.created_at, requested.created_at
        FROM requested JOIN reserved USING (owner_id), commit_mode
        RETURNING owner_id
        """
    typealias Row = Int64

    let group: [PendingVideo]
    let quotaBytes: Int64

    func makeBindings() throws -> PostgresBindings {
        let videos = group.map(\.video)
        var bindings = PostgresBindings()
        bindings.append(videos.map(\.fileKey.rawValue))
        bindings.append(videos.map(\.ownerID.rawValue))
        bindings.append(videos.map(\.filename))
        bindings.append(videos.map(\.contentType))
        // An array holds no NULL here: -1 stands for "no size declared" (the column's CHECK keeps real sizes ≥ 0).
        bindings.append(videos.map { $0.declaredSizeBytes ?? -1 })
        bindings.append(videos.map(\.status.rawValue))
        bindings.append(videos.map(\.createdAt))
        bindings.append(quotaBytes)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}
