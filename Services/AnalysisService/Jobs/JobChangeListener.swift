import ECGEvents
import Logging
import PostgresNIO
import ServiceLifecycle

/// Listens on `analysis_job_changed` (one connection per replica) and tells the broadcaster which
/// job changed, whichever replica applied the change.
struct JobChangeListener: Service {
    let broadcaster: JobChangeBroadcaster
    let postgres: PostgresClient
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await postgres.withConnection { connection in
                        try await connection.listen(on: PostgresJobRepository.changeChannel) { notifications in
                            broadcaster.everythingMayHaveChanged()  // changes may have happened while not listening
                            for try await notification in notifications {
                                guard let jobID = JobID(notification.payload) else { continue }
                                broadcaster.jobChanged(jobID)
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.debug("job-change LISTEN ended; reconnecting", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
