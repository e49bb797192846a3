import ECGEvents
import ECGDatabase
import ECGPlatform
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// `GET /api/v1/ml/job-status/{id}` from memory on each replica (issue 13, item 3): clients poll it,
/// so the job's response body is kept, already encoded, in a `ChangeFeedCache` that every change of
/// the job drops through `analysis_job_changed` (every write of `JobRepository` notifies it with the
/// job's id, at commit). Entries are keyed by job id and remember the owner: another user's request
/// for the id finds no job, exactly as the database read does.
///
/// The status stream does not read through it: the stream is woken by its own `LISTEN` connection
/// (`JobChangeBroadcaster`), which may hear of a change before this cache's connection does.
struct JobStatusCache: Sendable {
    struct Entry: Sendable {
        let userID: UserID
        /// The JSON body of job-status, as `JSONResponse<JobResponse>` writes it.
        let body: ByteBuffer
    }

    /// Jobs polled within `timeToLive` on one replica; results make bodies vary in size, so the bytes
    /// held are bounded too.
    static let capacity = 10_000
    static let maxBytes = 32 << 20
    /// The longest a job is served from memory whatever was notified (a silent connection loss).
    static let timeToLive: Duration = .seconds(5)

    let jobs: PostgresJobRepository
    let cache: ChangeFeedCache<UUID, Entry>

    init(jobs: PostgresJobRepository, postgres: PostgresClient, logger: Logger) {
        self.jobs = jobs
        self.cache = ChangeFeedCache(
            channel: PostgresJobRepository.changeChannel,
            capacity: Self.capacity,
            timeToLive: Self.timeToLive,
            maxCost: Self.maxBytes,
            cost: { $0.body.readableBytes + MemoryLayout<Entry>.stride + 64 },
            postgres: postgres,
            logger: logger,
            parseKey: { UUID(uuidString: $0) }
        )
    }

    /// The caller's job as job-status's body, or nil (unknown, or someone else's).
    func body(jobID: UUID, userID: UserID) async throws -> ByteBuffer? {
        let entry = try await cache.value(for: jobID) {
            try await jobs.find(id: JobID(jobID), userID: userID).map { job in
                Entry(userID: job.userID, body: try ResponseJSON.encode(JobResponse(job)))
            }
        }
        guard let entry, entry.userID == userID else { return nil }
        return entry.body
    }
}
