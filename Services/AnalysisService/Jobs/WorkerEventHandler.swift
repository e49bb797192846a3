import ECGEvents
import ECGMessaging
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Applies worker events (`ecg.analysis.job.*.v1`) to jobs through `AnalysisJobs.apply`, inside the
/// idempotent consumer's transaction.
enum WorkerEventHandler {
    static func handler(jobs: AnalysisJobs, repository: PostgresJobRepository, logger: Logger) -> IdempotentEventProcessor.Handler {
        { event, connection in
            let (jobID, workerEvent) = try decode(event)
            if try await jobs.apply(workerEvent, toJob: jobID, in: repository.transaction(on: connection)) == nil {
                logger.warning("worker event for an unknown job dropped", metadata: ["job_id": "\(jobID)", "type": "\(event.header.type)"])
            }
        }
    }

    static func decode(_ event: ReceivedEvent) throws -> (jobID: JobID, event: WorkerEvent) {
        switch event.header.type {
        case EventType.jobStarted:
            let data = try event.decode(JobStarted.self).data
            return (data.jobID, .started(workerID: data.workerID))
        case EventType.jobProgress:
            let data = try event.decode(JobProgress.self).data
            return (data.jobID, .progress(data.progress, stage: data.stage))
        case EventType.jobCompleted:
            let data = try event.decode(JobCompleted.self).data
            return (data.jobID, .completed(data.result))
        case EventType.jobFailed:
            let data = try event.decode(JobFailed.self).data
            return (data.jobID, .failed(data.error, retryable: data.retryable))
        default:
            throw EventRejected("unexpected event type \(event.header.type) on the worker-events topic")
        }
    }
}
