import ECGEvents

/// A job's mutable state (SPEC.md §3 row 11).
struct JobState: Sendable, Equatable {
    enum Status: String, Codable, Sendable, CaseIterable { case processing, completed, failed }

    var status: Status
    var progress: Int
    var stage: String?
    var workerID: String?
    var result: AnalysisResult?
    var error: JobFailed.Failure?
    /// For a failed job: whether trying again may succeed (the worker's word; timeouts and
    /// cancellations may be retried).
    var retryable: Bool?

    static let new = JobState(status: .processing, progress: 0)

    init(
        status: Status,
        progress: Int,
        stage: String? = nil,
        workerID: String? = nil,
        result: AnalysisResult? = nil,
        error: JobFailed.Failure? = nil,
        retryable: Bool? = nil
    ) {
        self.status = status
        self.progress = progress
        self.stage = stage
        self.workerID = workerID
        self.result = result
        self.error = error
        self.retryable = retryable
    }

    var isTerminal: Bool { status != .processing }
}

/// What a worker reports about a job (`ecg.analysis.job.*.v1`).
enum WorkerEvent: Sendable, Equatable {
    case started(workerID: String)
    case progress(Int, stage: String)
    case completed(AnalysisResult)
    case failed(JobFailed.Failure, retryable: Bool)
}

/// Moves a job forward only: progress never decreases and stays below 100 until completion,
/// a terminal state is final, and a duplicate or late event changes nothing.
enum JobStateMachine {
    /// The new state, or nil when the event changes nothing.
    static func apply(_ event: WorkerEvent, to state: JobState) -> JobState? {
        guard !state.isTerminal else { return nil }
        var next = state
        switch event {
        case .started(let workerID):
            guard state.workerID != workerID else { return nil }
            next.workerID = workerID
            if next.stage == nil { next.stage = "started" }
        case .progress(let reported, let stage):
            let progress = min(max(reported, 0), 99)
            guard progress > state.progress else { return nil }
            next.progress = progress
            next.stage = stage
        case .completed(let result):
            next.status = .completed
            next.progress = 100
            next.stage = "completed"
            next.result = result
        case .failed(let failure, let retryable):
            next.status = .failed
            next.stage = "failed"
            next.error = failure
            next.retryable = retryable
        }
        return next
    }
}
