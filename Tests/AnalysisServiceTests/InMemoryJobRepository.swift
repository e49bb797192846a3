import ECGEvents
import ECGPlatform
import Foundation
import Synchronization
import TestSupport

@testable import AnalysisService

/// Jobs in memory, with transactions that commit or roll back as a whole and take turns (like the
/// per-user lock of PostgreSQL, but for everyone). Keeps the events the outbox would have published.
final class InMemoryJobRepository: JobRepository {
    struct Stored: Sendable {
        var job: Job
        var idempotencyKey: String?
        var request: String?
        var lastWorkerEvent = Date()
    }

    struct State: Sendable {
        var jobs: [JobID: Stored] = [:]
        /// (topic, event type, subject, the event's JSON) in the order published.
        var published: [Published] = []
        var clock = Date(timeIntervalSince1970: 1_750_000_000)
    }

    struct Published: Sendable {
        let topic: String
        let type: String
        let subject: String
        let json: String

        /// The event's `data` object.
        var data: [String: Any] {
            let event = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            return event?["data"] as? [String: Any] ?? [:]
        }
    }

    let state = Mutex(State())
    private let turn = TransactionTurn()
    /// Told of every change, as PostgreSQL's NOTIFY tells the listener.
    let changes: JobChangeBroadcaster

    init(changes: JobChangeBroadcaster) { self.changes = changes }

    var published: [Published] { state.withLock { $0.published } }

    func find(id: JobID, userID: UserID) async throws -> Job? {
        state.withLock { state in state.jobs[id].map(\.job).flatMap { $0.userID == userID ? $0 : nil } }
    }

    func list(userID: UserID, filter: JobFilter, page: PageRequest) async throws -> [Job] {
        let all = state.withLock { state in state.jobs.values.map(\.job) }
            .filter { job in job.userID == userID && (filter.status == nil || job.state.status == filter.status) }
            .filter { job in filter.videoFileKey == nil || job.videoFileKey == filter.videoFileKey }
            .sorted { ($0.createdAt, $0.id.description) > ($1.createdAt, $1.id.description) }
        let after = all.filter { job in
            guard let after = page.after else { return true }
            let cursor = PageCursor(createdAt: job.createdAt, id: job.id.description)
            return (cursor.createdAtMicroseconds, cursor.id) < (after.createdAtMicroseconds, after.id)
        }
        return Array(after.prefix(page.limit + 1))
    }

    func transaction<Result: Sendable>(_ body: @Sendable (any JobTransaction) async throws -> Result) async throws -> Result {
        try await turn.take {
            let working = InMemoryJobTransaction(state: state.withLock { $0 })
            let result = try await body(working)
            let (committed, changed) = working.committed()
            state.withLock { $0 = committed }
            for id in changed { changes.jobChanged(id) }
            return result
        }
    }

    /// Applies a worker's event as the consumer would (in a transaction of its own).
    func apply(_ event: WorkerEvent, toJob id: JobID, with jobs: AnalysisJobs) async throws {
        _ = try await transaction { try await jobs.apply(event, toJob: id, in: $0) }
    }
}

/// A working copy of the state; `committed()` hands it back when the body did not throw.
private final class InMemoryJobTransaction: JobTransaction, @unchecked Sendable {
    private let lock = NSLock()
    private var state: InMemoryJobRepository.State
    private var changed: Set<JobID> = []

    init(state: InMemoryJobRepository.State) { self.state = state }

    func committed() -> (InMemoryJobRepository.State, Set<JobID>) { lock.withLock { (state, changed) } }

    func lockJobs(ofUser userID: UserID) async throws {}

    func job(id: JobID, forUpdate: Bool) async throws -> Job? { lock.withLock { state.jobs[id]?.job } }

    func job(userID: UserID, idempotencyKey: String, request: String) async throws -> (job: Job, sameRequest: Bool)? {
        lock.withLock {
            state.jobs.values.first { $0.job.userID == userID && $0.idempotencyKey == idempotencyKey }
                .map { ($0.job, $0.request == nil || $0.request == request) }
        }
    }

    func processingJobCount(userID: UserID) async throws -> Int {
        lock.withLock { state.jobs.values.filter { $0.job.userID == userID && $0.job.state.status == .processing }.count }
    }

    func insert(_ new: NewJob, idempotencyKey: String?, request: String?) async throws -> Bool {
        lock.withLock {
            if let idempotencyKey, state.jobs.values.contains(where: { $0.job.userID == new.userID && $0.idempotencyKey == idempotencyKey }) {
                return false
            }
            // Each new job a microsecond later than the last, so pages have a strict order.
            state.clock = state.clock.addingTimeInterval(0.001)
            let job = Job(
                id: new.id,
                userID: new.userID,
                videoFileKey: new.videoFileKey,
                analysisType: new.analysisType,
                state: .new,
                createdAt: state.clock,
                updatedAt: state.clock,
                language: new.language
            )
            state.jobs[new.id] = .init(job: job, idempotencyKey: idempotencyKey, request: idempotencyKey == nil ? nil : request)
            return true
        }
    }

    func save(_ job: Job) async throws {
        lock.withLock {
            var job = job
            job.updatedAt = Date()
            state.jobs[job.id]?.job = job
            changed.insert(job.id)
        }
    }

    func recordWorkerEvent(jobID: JobID) async throws { lock.withLock { state.jobs[jobID]?.lastWorkerEvent = Date() } }

    func deleteJobs(userID: UserID, videoFileKey: VideoKey?) async throws -> [Job] {
        lock.withLock {
            let gone = state.jobs.values.map(\.job).filter { job in
                job.userID == userID && (videoFileKey == nil || job.videoFileKey == videoFileKey)
            }
            for job in gone {
                state.jobs[job.id] = nil
                changed.insert(job.id)
            }
            return gone
        }
    }

    func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws {
        let json = String(decoding: try EventCoding.encoder().encode(event), as: UTF8.self)
        lock.withLock { state.published.append(.init(topic: topic, type: event.type, subject: event.subject, json: json)) }
    }
}
