import ECGEvents
import ECGKafka
import ECGMessaging
import Logging
import ServiceLifecycle
import Synchronization

/// Jobs cancelled while this worker runs (`ecg.analysis.job.cancelled.v1`), the most recent 10,000.
final class CancelledJobs: Sendable {
    private static let capacity = 10_000
    private let state = Mutex<(ids: Set<JobID>, order: [JobID])>(([], []))

    func insert(_ jobID: JobID) {
        state.withLock { state in
            guard state.ids.insert(jobID).inserted else { return }
            state.order.append(jobID)
            if state.order.count > Self.capacity {
                state.ids.remove(state.order.removeFirst())
            }
        }
    }

    func contains(_ jobID: JobID) -> Bool {
        state.withLock { $0.ids.contains(jobID) }
    }
}

/// Reads the requests topic in a consumer group of this worker alone (every worker sees every
/// cancellation, whichever worker holds the job) from the newest offset on, and records the
/// cancellations; the running analysis checks them between chunks of audio and stops.
struct CancellationWatcher: Service {
    let consumer: KafkaConsumer
    let cancelled: CancelledJobs
    let logger: Logger

    func run() async throws {
        await withGracefulShutdownHandler {
            for await message in consumer.messages {
                guard message.header(EventHeader.type) == EventType.jobCancelled,
                    let event = try? ReceivedEvent(message: message).decode(JobCancelled.self)
                else { continue }
                cancelled.insert(event.data.jobID)
                logger.info("job cancelled", metadata: ["job_id": "\(event.data.jobID)"])
            }
        } onGracefulShutdown: {
            consumer.stop()
        }
        await consumer.close()
    }
}
