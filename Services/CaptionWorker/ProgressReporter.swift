import ECGEvents
import Foundation
import Synchronization

/// Turns the analysis's stages into `job.progress` events: one when a stage begins, then at most one
/// every `interval` while it runs, published in order by one task. Overall progress per stage:
/// downloading 5, decoding_audio 10, recognising 10–90 by the share of audio done, building_captions 95.
final class ProgressReporter: Sendable {
    private let jobID: JobID
    private let continuation: AsyncStream<JobProgress>.Continuation
    private let publisher: Task<Void, Never>
    private let interval: Duration
    private let state = Mutex(State())

    private struct State {
        var stage: CaptionAnalysis.Stage?
        var lastSent: ContinuousClock.Instant?
        var lastProgress = 0
    }

    init(jobID: JobID, interval: Duration = .milliseconds(300), publish: @escaping @Sendable (JobProgress) async -> Void) {
        self.jobID = jobID
        self.interval = interval
        let (stream, continuation) = AsyncStream.makeStream(of: JobProgress.self, bufferingPolicy: .bufferingNewest(16))
        self.continuation = continuation
        self.publisher = Task {
            for await progress in stream { await publish(progress) }
        }
    }

    static func progress(_ stage: CaptionAnalysis.Stage, _ share: Double) -> Int {
        switch stage {
        case .downloading: 5
        case .decodingAudio: 10
        case .recognising: 10 + Int((min(max(share, 0), 1) * 80).rounded(.down))
        case .buildingCaptions: 95
        }
    }

    /// Queues a progress event unless one was sent for this stage less than `interval` ago.
    func enqueue(_ stage: CaptionAnalysis.Stage, _ share: Double) {
        let now = ContinuousClock.now
        let progress = Self.progress(stage, share)
        let send = state.withLock { state -> Bool in
            let newStage = state.stage != stage
            let due = state.lastSent.map { now - $0 >= interval } ?? true
            guard newStage || (due && progress > state.lastProgress) else { return false }
            state.stage = stage
            state.lastSent = now
            state.lastProgress = max(progress, state.lastProgress)
            return true
        }
        if send { continuation.yield(JobProgress(jobID: jobID, progress: progress, stage: stage.rawValue)) }
    }

    /// Publishes what is queued and stops.
    func drain() async {
        continuation.finish()
        await publisher.value
    }
}
