import ECGEvents
import ECGPlatform

/// Where jobs live. Reads answer on their own; every change runs inside `transaction`, whose changes
/// and outbox events commit together or not at all. PostgreSQL in the service
/// (`PostgresJobRepository`), memory in the route tests. SQL only: the rules are `AnalysisJobs`'.
protocol JobRepository: Sendable {
    /// The caller's job, or nil (someone else's job is indistinguishable from a missing one).
    func find(id: JobID, userID: UserID) async throws -> Job?
    /// The caller's jobs matching `filter`, newest first, after `page.after`: at most `page.limit + 1`
    /// (one more than a page, so the caller knows whether another follows).
    func list(userID: UserID, filter: JobFilter, page: PageRequest) async throws -> [Job]
    /// Runs `body` in one transaction.
    func transaction<Result: Sendable>(_ body: @Sendable (any JobTransaction) async throws -> Result) async throws -> Result
}

/// The statements a use case runs inside one transaction. Every change to a job also tells the
/// job's open streams (on every replica) that it changed.
protocol JobTransaction: Sendable {
    /// Makes the user's job creations take turns until the transaction ends.
    func lockJobs(ofUser userID: UserID) async throws
    /// The job, locked for update when `forUpdate`.
    func job(id: JobID, forUpdate: Bool) async throws -> Job?
    /// The job the user created with `idempotencyKey`, and whether it was created for the same
    /// `request` (a job stored without a request text matches any).
    func job(userID: UserID, idempotencyKey: String, request: String) async throws -> (job: Job, sameRequest: Bool)?
    /// How many of the user's jobs are in processing.
    func processingJobCount(userID: UserID) async throws -> Int
    /// Stores a new job in processing; false (nothing stored) when the user already has a job with
    /// `idempotencyKey`. `request` is kept with the key, to tell a replay from a reused key.
    func insert(_ job: NewJob, idempotencyKey: String?, request: String?) async throws -> Bool
    /// Stores the job's state.
    func save(_ job: Job) async throws
    /// Records that a worker reported on the job (the timeout sweeper's clock).
    func recordWorkerEvent(jobID: JobID) async throws
    /// Deletes all of a user's jobs, or those of one video; returns them as they were.
    func deleteJobs(userID: UserID, videoFileKey: VideoKey?) async throws -> [Job]
    /// Adds `event` to the outbox, published to `topic` once the transaction commits.
    func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws
}
