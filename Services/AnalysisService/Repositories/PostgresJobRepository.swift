import ECGDatabase
import ECGEvents
import ECGMessaging
import ECGPlatform
import Foundation
import Logging
import PostgresNIO

/// Jobs in the `analysis` schema (each connection's `search_path`, so the SQL names tables unqualified). Every change also notifies `analysis_job_changed` with the job id,
/// which the stream endpoint and the job-status cache of every replica listen to.
struct PostgresJobRepository: JobRepository {
    static let changeChannel = "analysis_job_changed"

    let postgres: PostgresClient
    /// Where `publish` puts events (this service's outbox).
    let outbox: Outbox
    let logger: Logger

    fileprivate static let columns =
        "id, user_id, video_file_key, analysis_type, status, progress, stage, worker_id, result::text, error::text, created_at, updated_at, retryable, language"

    func transaction<Result: Sendable>(_ body: @Sendable (any JobTransaction) async throws -> Result) async throws -> Result {
        try await postgres.transaction(logger: logger) { connection in
            try await body(transaction(on: connection))
        }
    }

    /// The statements of a transaction someone else opened (the idempotent consumer's, which records
    /// the event as processed in the same transaction).
    func transaction(on connection: PostgresConnection) -> any JobTransaction {
        PostgresJobTransaction(connection: connection, outbox: outbox, logger: logger)
    }

    /// `job-status` runs this on every poll, so it is a prepared statement: each pooled connection
    /// parses and plans it once (docs/performance.md, "What was changed").
    func find(id: JobID, userID: UserID) async throws -> Job? {
        for try await job in try await postgres.execute(FindOwnedJob(id: id.uuid, userID: userID), logger: logger) { return job }
        return nil
    }

    private struct FindOwnedJob: PostgresPreparedStatement {
        static let sql = "SELECT \(PostgresJobRepository.columns) FROM jobs WHERE id = $1 AND user_id = $2"
        typealias Row = Job

        let id: UUID
        let userID: UserID

        func makeBindings() throws -> PostgresBindings { PostgresJobRepository.binds(id, userID.description) }
        func decodeRow(_ row: PostgresRow) throws -> Job { try PostgresJobRepository.decode(row) }
    }

    /// Keyset pagination on (created_at, id), the order of jobs_user_page_idx: no job is repeated or
    /// skipped while new ones are added.
    func list(userID: UserID, filter: JobFilter, page: PageRequest) async throws -> [Job] {
        var binds = PostgresBindings()
        binds.append(userID.description)
        var conditions = ["user_id = $1"]
        if let status = filter.status {
            binds.append(status.rawValue)
            conditions.append("status = $\(binds.count)")
        }
        if let key = filter.videoFileKey {
            binds.append(key.rawValue)
            conditions.append("video_file_key = $\(binds.count)")
        }
        if let after = page.after {
            guard let id = JobID(after.id)?.uuid else { return [] }
            binds.append(after.createdAtMicroseconds)
            binds.append(id)
            conditions.append("(created_at, id) < (timestamptz 'epoch' + $\(binds.count - 1) * interval '1 microsecond', $\(binds.count))")
        }
        binds.append(page.limit + 1)
        let rows = try await postgres.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.columns) FROM jobs WHERE \(conditions.joined(separator: " AND "))
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

    /// Fails jobs without a worker event for `timeout`; returns their ids. One statement, so each job
    /// times out once however many replicas sweep.
    func failTimedOut(after timeout: Duration) async throws -> [JobID] {
        let seconds = Double(timeout.components.seconds)
        let error = #"{"code":"timeout","message":"No worker reported on this job in time."}"#
        let rows = try await postgres.query(
            """
            UPDATE jobs SET status = 'failed', stage = 'failed', error = \(error)::jsonb, retryable = true, updated_at = now()
            WHERE status = 'processing' AND last_event_at < now() - make_interval(secs => \(seconds))
            RETURNING id
            """,
            logger: logger
        )
        var ids: [JobID] = []
        for try await id in rows.decode(UUID.self) { ids.append(JobID(id)) }
        for id in ids {
            try await postgres.query("SELECT pg_notify(\(Self.changeChannel), \(id.description))", logger: logger)
        }
        return ids
    }

    // MARK: - Rows

    fileprivate static func binds(_ first: some PostgresNonThrowingEncodable, _ second: some PostgresNonThrowingEncodable) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(first)
        binds.append(second)
        return binds
    }

    fileprivate static func decode(_ row: PostgresRow) throws -> Job {
        let (id, owner, key, type, status, progress, stage, workerID, result, error, createdAt, updatedAt, retryable, language) = try row.decode(
            (UUID, String, String, String, String, Int, String?, String?, String?, String?, Date, Date, Bool?, String?).self
        )
        guard let analysisType = AnalysisType(rawValue: type) else { throw UnknownAnalysisType(value: type) }
        guard let userID = UserID(owner) else { throw UnknownUserID(value: owner) }
        return Job(
            id: JobID(id),
            userID: userID,
            videoFileKey: VideoKey(key),
            analysisType: analysisType,
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

    /// A stored `analysis_type` this build does not know (the column's CHECK should make it impossible).
    struct UnknownAnalysisType: Error { let value: String }
    struct UnknownUserID: Error { let value: String }
}

/// The statements of `JobTransaction` on one connection inside an open transaction.
private struct PostgresJobTransaction: JobTransaction {
    let connection: PostgresConnection
    let outbox: Outbox
    let logger: Logger

    func lockJobs(ofUser userID: UserID) async throws {
        let lockKey = "analysis-jobs:\(userID)"
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(lockKey), 0))", logger: logger)
    }

    func job(id: JobID, forUpdate: Bool) async throws -> Job? {
        let rows = try await connection.query(
            "SELECT \(unescaped: PostgresJobRepository.columns) FROM jobs WHERE id = \(id.uuid)\(unescaped: forUpdate ? " FOR UPDATE" : "")",
            logger: logger
        )
        for try await row in rows { return try PostgresJobRepository.decode(row) }
        return nil
    }

    /// The stored fingerprint is the SHA-256 of the request's text, so the text itself is not kept.
    func job(userID: UserID, idempotencyKey: String, request: String) async throws -> (job: Job, sameRequest: Bool)? {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: PostgresJobRepository.columns),
                   idempotency_fingerprint IS NULL OR idempotency_fingerprint = encode(sha256(convert_to(\(request)::text, 'UTF8')), 'hex')
            FROM jobs WHERE user_id = \(userID.description) AND idempotency_key = \(idempotencyKey)
            """,
            logger: logger
        )
        for try await row in rows {
            let sameRequest = try row.decode(
                (UUID, String, String, String, String, Int, String?, String?, String?, String?, Date, Date, Bool?, String?, Bool).self
            ).14
            return (try PostgresJobRepository.decode(row), sameRequest)
        }
        return nil
    }

    func processingJobCount(userID: UserID) async throws -> Int {
        let rows = try await connection.query(
            "SELECT count(*) FROM jobs WHERE user_id = \(userID.description) AND status = 'processing'",
            logger: logger
        )
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    func insert(_ job: NewJob, idempotencyKey: String?, request: String?) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO jobs (id, user_id, video_file_key, analysis_type, idempotency_key, language, idempotency_fingerprint)
            VALUES (\(job.id.uuid), \(job.userID.description), \(job.videoFileKey.rawValue), \(job.analysisType.rawValue), \(idempotencyKey), \(job.language),
                    encode(sha256(convert_to(\(idempotencyKey == nil ? nil : request)::text, 'UTF8')), 'hex'))
            ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id
            """,
            logger: logger
        ).collect()
        return !inserted.isEmpty
    }

    func save(_ job: Job) async throws {
        let result = try job.state.result.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let error = try job.state.error.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await connection.query(
            """
            UPDATE jobs SET status = \(job.state.status.rawValue), progress = \(job.state.progress), stage = \(job.state.stage),
                worker_id = \(job.state.workerID), result = \(result)::jsonb, error = \(error)::jsonb,
                retryable = \(job.state.retryable), updated_at = now()
            WHERE id = \(job.id.uuid)
            """,
            logger: logger
        )
        try await notifyChanged(job.id)
    }

    func recordWorkerEvent(jobID: JobID) async throws {
        try await connection.query("UPDATE jobs SET last_event_at = now() WHERE id = \(jobID.uuid)", logger: logger)
    }

    /// Open streams of the deleted jobs end (they find no job).
    func deleteJobs(userID: UserID, videoFileKey: VideoKey?) async throws -> [Job] {
        let rows = try await connection.query(
            """
            DELETE FROM jobs WHERE user_id = \(userID.description) AND (\(videoFileKey?.rawValue)::text IS NULL OR video_file_key = \(videoFileKey?.rawValue))
            RETURNING \(unescaped: PostgresJobRepository.columns)
            """,
            logger: logger
        )
        var jobs: [Job] = []
        for try await row in rows { jobs.append(try PostgresJobRepository.decode(row)) }
        for job in jobs { try await notifyChanged(job.id) }
        return jobs
    }

    func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws {
        try await outbox.add(event, topic: topic, on: connection, logger: logger)
    }

    private func notifyChanged(_ id: JobID) async throws {
        try await connection.query("SELECT pg_notify(\(PostgresJobRepository.changeChannel), \(id.description))", logger: logger)
    }
}
