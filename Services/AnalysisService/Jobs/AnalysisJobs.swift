import ECGEvents
import ECGPlatform
import Foundation
import Logging

/// The use cases of analysis jobs. Each change runs in one transaction with the event it announces
/// (through the outbox): a request and its `job.requested`, a cancellation and its `job.cancelled`,
/// a worker's report, a deletion and the cancellations of the jobs still running. Controllers and
/// event handlers call these; the repository only runs the statements.
struct AnalysisJobs: Sendable {
    let repository: any JobRepository
    let topics: Topics
    /// Per user, jobs in processing database-wide (review L11).
    let maxProcessingJobsPerUser: Int
    static let source = "analysis-service"

    /// What one job request asks for.
    struct Request: Sendable, Equatable {
        let userID: UserID
        let videoFileKey: VideoKey
        let analysisType: AnalysisType
        let language: String?

        /// The canonical text an Idempotency-Key stands for: the same key with another request is refused (L12).
        var fingerprint: String {
            get throws {
                // Its keys are stored (hashed) with every keyed job: they must never change.
                struct Fingerprint: Encodable {
                    let videoFileKey: VideoKey
                    let analysisType: AnalysisType
                    let language: String?

                    enum CodingKeys: String, CodingKey {
                        case videoFileKey = "video_file_key"
                        case analysisType = "analysis_type"
                        case language
                    }
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                let body = Fingerprint(videoFileKey: videoFileKey, analysisType: analysisType, language: language)
                return String(decoding: try encoder.encode(body), as: UTF8.self)
            }
        }
    }

    // MARK: - Reads

    func job(id: JobID, userID: UserID) async throws -> Job {
        guard let job = try await repository.find(id: id, userID: userID) else { throw JobError.notFound }
        return job
    }

    func jobs(userID: UserID, filter: JobFilter, page: PageRequest) async throws -> [Job] {
        try await repository.list(userID: userID, filter: filter, page: page)
    }

    // MARK: - Changes

    /// Starts a job on the caller's uploaded video, with `job.requested` (carrying a presigned URL from
    /// media-service for the worker) in the same transaction. With `idempotencyKey`, a replay of the
    /// same request answers the job it made; the key with another request is refused.
    ///
    /// A user's requests take turns (a transaction-scoped lock), so concurrent ones cannot pass the
    /// processing-job limit together.
    func request(_ request: Request, idempotencyKey: String?, videos: any VideoLookup, logger: Logger) async throws -> Job {
        let fingerprint = try request.fingerprint
        guard let video = try await videos.video(fileKey: request.videoFileKey), video.ownerID == request.userID else {
            throw JobError.videoNotFound
        }
        guard video.isUploaded, let videoURL = video.downloadURL else { throw JobError.videoNotUploaded }
        let expiresAt = video.downloadURLExpiresAt.flatMap(EventCoding.parseTimestamp) ?? Date().addingTimeInterval(3600)
        let new = NewJob(
            id: JobID(),
            userID: request.userID,
            videoFileKey: request.videoFileKey,
            analysisType: request.analysisType,
            language: request.language
        )
        let limit = maxProcessingJobsPerUser
        let topic = topics.analysisRequests
        return try await repository.transaction { transaction in
            try await transaction.lockJobs(ofUser: request.userID)
            if let idempotencyKey, let existing = try await Self.replay(idempotencyKey, of: request, fingerprint, in: transaction) {
                return existing
            }
            guard try await transaction.processingJobCount(userID: request.userID) < limit else { throw JobError.tooManyJobs(limit: limit) }
            guard try await transaction.insert(new, idempotencyKey: idempotencyKey, request: fingerprint) else {
                // Another request with the key committed between the lookup and the insert.
                guard let idempotencyKey, let existing = try await Self.replay(idempotencyKey, of: request, fingerprint, in: transaction) else {
                    throw JobError.idempotencyConflict
                }
                return existing
            }
            let requested = CloudEvent(
                source: Self.source,
                type: EventType.jobRequested,
                subject: new.id.description,
                data: JobRequested(
                    jobID: new.id,
                    userID: new.userID,
                    videoFileKey: new.videoFileKey,
                    analysisType: new.analysisType.rawValue,
                    videoURL: videoURL,
                    videoURLExpiresAt: expiresAt,
                    requestedAt: Date(),
                    language: new.language
                )
            )
            try await transaction.publish(requested, topic: topic)
            guard let job = try await transaction.job(id: new.id, forUpdate: false) else { throw JobError.idempotencyConflict }
            return job
        }
    }

    /// The job an earlier request with `key` made, when it was this request; `idempotencyKeyReused` when it was another.
    private static func replay(_ key: String, of request: Request, _ fingerprint: String, in transaction: any JobTransaction) async throws -> Job? {
        guard let (job, sameRequest) = try await transaction.job(userID: request.userID, idempotencyKey: key, request: fingerprint) else {
            return nil
        }
        guard sameRequest else { throw JobError.idempotencyKeyReused }
        return job
    }

    /// Starts a new job for the same video and analysis as a failed job whose failure was retryable.
    func retry(id: JobID, userID: UserID, videos: any VideoLookup, logger: Logger) async throws -> Job {
        let failed = try await job(id: id, userID: userID)
        guard failed.state.status == .failed, failed.state.retryable == true else {
            throw JobError.notRetryable(status: failed.state.status, failureCode: failed.state.error?.code)
        }
        let again = Request(userID: userID, videoFileKey: failed.videoFileKey, analysisType: failed.analysisType, language: failed.language)
        return try await request(again, idempotencyKey: nil, videos: videos, logger: logger)
    }

    /// Cancels the caller's running job: it fails with code `cancelled` (retryable) and the workers are
    /// told with `job.cancelled`, keyed like the request so it follows it in the same partition.
    func cancel(id: JobID, userID: UserID) async throws -> Job {
        let topic = topics.analysisRequests
        return try await repository.transaction { transaction in
            guard let job = try await transaction.job(id: id, forUpdate: true), job.userID == userID else { throw JobError.notFound }
            guard !job.state.isTerminal else { throw JobError.finished }
            let failure = JobFailed.Failure(code: "cancelled", message: "The job was cancelled.")
            guard let cancelled = try await Self.apply(.failed(failure, retryable: true), to: job, in: transaction) else {
                throw JobError.finished
            }
            try await transaction.publish(Self.cancelledEvent(id), topic: topic)
            return cancelled
        }
    }

    /// Applies a worker's report to the job under a row lock, inside `transaction` (the idempotent
    /// consumer's). Returns nil for an unknown job.
    func apply(_ event: WorkerEvent, toJob id: JobID, in transaction: any JobTransaction) async throws -> Job? {
        guard let job = try await transaction.job(id: id, forUpdate: true) else { return nil }
        // Any event from a worker shows the job is alive, even one that changes nothing.
        try await transaction.recordWorkerEvent(jobID: id)
        return try await Self.apply(event, to: job, in: transaction) ?? job
    }

    /// Deletes the user's jobs (all, or one video's) inside `transaction`; the ones still running are
    /// cancelled for their workers first. Returns the deleted jobs.
    func deleteJobs(userID: UserID, videoFileKey: VideoKey?, in transaction: any JobTransaction) async throws -> [Job] {
        let deleted = try await transaction.deleteJobs(userID: userID, videoFileKey: videoFileKey)
        for job in deleted where !job.state.isTerminal {
            try await transaction.publish(Self.cancelledEvent(job.id), topic: topics.analysisRequests)
        }
        return deleted
    }

    /// The job after `event`, saved; nil when the state machine says the event changes nothing.
    private static func apply(_ event: WorkerEvent, to job: Job, in transaction: any JobTransaction) async throws -> Job? {
        guard let next = JobStateMachine.apply(event, to: job.state) else { return nil }
        var changed = job
        changed.state = next
        try await transaction.save(changed)
        return changed
    }

    static func cancelledEvent(_ id: JobID) -> CloudEvent<JobCancelled> {
        CloudEvent(source: source, type: EventType.jobCancelled, subject: id.description, data: JobCancelled(jobID: id))
    }
}
