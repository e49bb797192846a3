import ECGDatabase
import ECGEvents
import ECGMessaging
import ECGPlatform
import Foundation
import Logging
import PostgresNIO

/// A job as stored.
struct Job: Sendable, Equatable {
    let id: UUID
    let userID: String
    let videoFileKey: String
    let analysisType: String
    var state: JobState
    let createdAt: Date
    var updatedAt: Date
    /// The spoken language the job asked for (nil: English).
    var language: String? = nil
}

/// What a repository says when a change cannot be made; controllers map these to HTTP.
enum JobRepositoryError: Error, Equatable {
    /// The job is completed or failed: nothing can cancel it.
    case finished
    /// A concurrent request with the same Idempotency-Key has not committed yet.
    case idempotencyConflict
    /// The Idempotency-Key was first used with another request (review L12).
    case idempotencyKeyReused
    /// The user already has this many jobs in processing (review L11).
    case tooManyJobs(limit: Int)
}

/// Which of a user's jobs a page lists.
struct JobFilter: Sendable, Equatable {
    var status: JobState.Status?
    var videoFileKey: String?
}

/// Jobs in the `analysis` schema. Every change also notifies `analysis_job_changed` with the job id,
/// which the stream endpoint of every replica listens to.
struct JobRepository: Sendable {
    static let changeChannel = "analysis_job_changed"

    let postgres: PostgresClient
    let logger: Logger

    fileprivate static let columns =
        "id, user_id, video_file_key, analysis_type, status, progress, stage, worker_id, result::text, error::text, created_at, updated_at, retryable, language"

    /// Creates the job unless this user already made one with `idempotencyKey`; returns the job and
    /// whether it is new. Runs `inTransaction` (the outbox event) only for a new job.
    ///
    /// - `request` is the request's canonical text; its SHA-256 is stored with the key, and a key first
    ///   used with another request throws `idempotencyKeyReused` (a job stored without one matches any).
    /// - With `maxProcessingJobs`, a new job is refused with `tooManyJobs` while the user has that
    ///   many jobs in processing. A user's creations take turns (a transaction-scoped advisory lock),
    ///   so concurrent requests cannot pass the limit together.
    func create(
        id: UUID,
        userID: String,
        videoFileKey: String,
        analysisType: String,
        language: String?,
        idempotencyKey: String?,
        request: String? = nil,
        maxProcessingJobs: Int? = nil,
        inTransaction: @Sendable (PostgresConnection) async throws -> Void
    ) async throws -> (job: Job, created: Bool) {
        try await postgres.transaction(logger: logger) { connection in
            let lockKey = "analysis-jobs:\(userID)"
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(lockKey), 0))", logger: logger)
            if let idempotencyKey {
                let rows = try await connection.query(
                    """
                    SELECT idempotency_fingerprint IS NULL OR \(request)::text IS NULL
                           OR idempotency_fingerprint = encode(sha256(convert_to(\(request)::text, 'UTF8')), 'hex')
                    FROM analysis.jobs WHERE user_id = \(userID) AND idempotency_key = \(idempotencyKey)
                    """,
                    logger: logger
                )
                for try await sameRequest in rows.decode(Bool.self) {
                    guard sameRequest else { throw JobRepositoryError.idempotencyKeyReused }
                    guard let existing = try await Self.find(userID: userID, idempotencyKey: idempotencyKey, on: connection, logger: logger) else {
                        throw JobRepositoryError.idempotencyConflict
                    }
                    return (existing, false)
                }
            }
            if let maxProcessingJobs {
                let rows = try await connection.query(
                    "SELECT count(*) FROM analysis.jobs WHERE user_id = \(userID) AND status = 'processing'",
                    logger: logger
                )
                for try await count in rows.decode(Int.self) where count >= maxProcessingJobs {
                    throw JobRepositoryError.tooManyJobs(limit: maxProcessingJobs)
                }
            }
            let inserted = try await connection.query(
                """
                INSERT INTO analysis.jobs (id, user_id, video_file_key, analysis_type, idempotency_key, language, idempotency_fingerprint)
                VALUES (\(id), \(userID), \(videoFileKey), \(analysisType), \(idempotencyKey), \(language),
                        encode(sha256(convert_to(\(idempotencyKey == nil ? nil : request)::text, 'UTF8')), 'hex'))
                ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING id
                """,
                logger: logger
            ).collect()
            if inserted.isEmpty, let idempotencyKey {
                guard let existing = try await Self.find(userID: userID, idempotencyKey: idempotencyKey, on: connection, logger: logger) else {
                    throw JobRepositoryError.idempotencyConflict
                }
                return (existing, false)
            }
            try await inTransaction(connection)
            guard let job = try await Self.find(id: id, on: connection, logger: logger, lock: false) else {
                throw JobRepositoryError.idempotencyConflict
            }
            return (job, true)
        }
    }

    /// The caller's job, or nil (someone else's job is indistinguishable from a missing one).
    /// `job-status` runs this on every poll, so it is a prepared statement: each pooled connection
    /// parses and plans it once (measured with pgbench on this query shape: about 2.4× the
    /// PostgreSQL throughput of parsing every time).
    func find(id: UUID, userID: String) async throws -> Job? {
        for try await job in try await postgres.execute(FindOwnedJob(id: id, userID: userID), logger: logger) { return job }
        return nil
    }

    private struct FindOwnedJob: PostgresPreparedStatement {
        static let sql = "SELECT \(JobRepository.columns) FROM analysis.jobs WHERE id = $1 AND user_id = $2"
        typealias Row = Job

        let id: UUID
        let userID: String

        func makeBindings() throws -> PostgresBindings { JobRepository.binds(id, userID) }
        func decodeRow(_ row: PostgresRow) throws -> Job { try JobRepository.decode(row) }
    }

    /// The caller's jobs matching `filter`, newest first, after `page.after`: at most `page.limit + 1`
    /// (one more than a page, so the caller knows whether another follows). Keyset pagination on
    /// (created_at, id), the order of jobs_user_page_idx: no job is repeated or skipped while new
    /// ones are added.
    func list(userID: String, filter: JobFilter = JobFilter(), page: PageRequest) async throws -> [Job] {
        var binds = PostgresBindings()
        binds.append(userID)
        var conditions = ["user_id = $1"]
        if let status = filter.status {
            binds.append(status.rawValue)
            conditions.append("status = $\(binds.count)")
        }
        if let key = filter.videoFileKey {
            binds.append(key)
            conditions.append("video_file_key = $\(binds.count)")
        }
        if let after = page.after {
            guard let id = UUID(uuidString: after.id) else { return [] }
            binds.append(after.createdAtMicroseconds)
            binds.append(id)
            conditions.append("(created_at, id) < (timestamptz 'epoch' + $\(binds.count - 1) * interval '1 microsecond', $\(binds.count))")
        }
        binds.append(page.limit + 1)
        let rows = try await postgres.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.columns) FROM analysis.jobs WHERE \(conditions.joined(separator: " AND "))
                    ORDER BY created_at DESC, id DESC LIMIT $\(binds.count)
                    """,
                binds: binds
            ),
            logger: logger
        )
        var jobs: [Job] = []
        for try await row in rows { jobs.append(try Self.decode(row)) }
        return jobs
    }

    /// Cancels the caller's running job: it fails with code `cancelled` (retryable) and
    /// `inTransaction` (the workers' notice) runs in the same transaction. Nil for an unknown job;
    /// `JobRepositoryError.finished` for a completed or failed one.
    func cancel(id: UUID, userID: String, inTransaction: @Sendable (Job, PostgresConnection) async throws -> Void) async throws -> Job? {
        try await postgres.transaction(logger: logger) { connection -> Job? in
            guard let job = try await Self.find(id: id, on: connection, logger: logger, lock: true), job.userID == userID else { return nil }
            guard !job.state.isTerminal else { throw JobRepositoryError.finished }
            let failure = JobFailed.Failure(code: "cancelled", message: "The job was cancelled.")
            guard let cancelled = try await Self.apply(.failed(failure, retryable: true), toJob: id, on: connection, logger: logger) else {
                return nil
            }
            try await inTransaction(cancelled, connection)
            return cancelled
        }
    }

    /// Deletes jobs inside the caller's transaction: all of a user's, or those of one video. Returns
    /// them as they were, so that running ones can be cancelled for their workers. Open streams of the
    /// deleted jobs end (they find no job).
    static func delete(userID: String, videoFileKey: String?, on connection: PostgresConnection, logger: Logger) async throws -> [Job] {
        var binds = PostgresBindings()
        binds.append(userID)
        var sql = "DELETE FROM analysis.jobs WHERE user_id = $1"
        if let videoFileKey {
            binds.append(videoFileKey)
            sql += " AND video_file_key = $2"
        }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql + " RETURNING \(columns)", binds: binds), logger: logger)
        var jobs: [Job] = []
        for try await row in rows { jobs.append(try decode(row)) }
        for job in jobs {
            try await connection.query("SELECT pg_notify(\(changeChannel), \(job.id.uuidString.lowercased()))", logger: logger)
        }
        return jobs
    }

    /// Applies a worker event under a row lock. Returns nil for an unknown job.
    static func apply(_ event: WorkerEvent, toJob id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Job? {
        guard var job = try await find(id: id, on: connection, logger: logger, lock: true) else { return nil }
        // Any event from a worker shows the job is alive, even one that changes nothing.
        try await connection.query("UPDATE analysis.jobs SET last_event_at = now() WHERE id = \(id)", logger: logger)
        guard let next = JobStateMachine.apply(event, to: job.state) else { return job }
        job.state = next
        try await save(job, on: connection, logger: logger)
        return job
    }

    /// Fails jobs without a worker event for `timeout`; returns their ids.
    func failTimedOut(after timeout: Duration) async throws -> [UUID] {
        let seconds = Double(timeout.components.seconds)
        let error = #"{"code":"timeout","message":"No worker reported on this job in time."}"#
        let rows = try await postgres.query(
            """
            UPDATE analysis.jobs SET status = 'failed', stage = 'failed', error = \(error)::jsonb, retryable = true, updated_at = now()
            WHERE status = 'processing' AND last_event_at < now() - make_interval(secs => \(seconds))
            RETURNING id
            """,
            logger: logger
        )
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        for id in ids {
            try await postgres.query("SELECT pg_notify(\(Self.changeChannel), \(id.uuidString.lowercased()))", logger: logger)
        }
        return ids
    }

    // MARK: - Rows

    private static func save(_ job: Job, on connection: PostgresConnection, logger: Logger) async throws {
        let result = try job.state.result.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let error = try job.state.error.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await connection.query(
            """
            UPDATE analysis.jobs SET status = \(job.state.status.rawValue), progress = \(job.state.progress), stage = \(job.state.stage),
                worker_id = \(job.state.workerID), result = \(result)::jsonb, error = \(error)::jsonb,
                retryable = \(job.state.retryable), updated_at = now()
            WHERE id = \(job.id)
            """,
            logger: logger
        )
        try await connection.query("SELECT pg_notify(\(changeChannel), \(job.id.uuidString.lowercased()))", logger: logger)
    }

    private static func find(id: UUID, on connection: PostgresConnection, logger: Logger, lock: Bool) async throws -> Job? {
        var binds = PostgresBindings()
        binds.append(id)
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(columns) FROM analysis.jobs WHERE id = $1\(lock ? " FOR UPDATE" : "")", binds: binds),
            logger: logger
        )
        for try await row in rows { return try decode(row) }
        return nil
    }

    private static func find(userID: String, idempotencyKey: String, on connection: PostgresConnection, logger: Logger) async throws -> Job? {
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(columns) FROM analysis.jobs WHERE user_id = $1 AND idempotency_key = $2",
                binds: binds(userID, idempotencyKey)
            ),
            logger: logger
        )
        for try await row in rows { return try decode(row) }
        return nil
    }

    fileprivate static func binds(_ first: some PostgresNonThrowingEncodable, _ second: some PostgresNonThrowingEncodable) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(first)
        binds.append(second)
        return binds
    }

    fileprivate static func decode(_ row: PostgresRow) throws -> Job {
        let (id, userID, key, type, status, progress, stage, workerID, result, error, createdAt, updatedAt, retryable, language) = try row.decode(
            (UUID, String, String, String, String, Int, String?, String?, String?, String?, Date, Date, Bool?, String?).self
        )
        return Job(
            id: id,
            userID: userID,
            videoFileKey: key,
            analysisType: type,
            state: JobState(
                status: JobState.Status(rawValue: status) ?? .processing,
                progress: progress,
                stage: stage,
                workerID: workerID,
                result: try result.map { try JSONDecoder().decode(AnalysisResult.self, from: Data($0.utf8)) },
                error: try error.map { try JSONDecoder().decode(JobFailed.Failure.self, from: Data($0.utf8)) },
                retryable: retryable
            ),
            createdAt: createdAt,
            updatedAt: updatedAt,
            language: language
        )
    }
}
