import Logging
import ServiceLifecycle

/// Fails jobs that no worker reported on for `JOB_TIMEOUT_SECONDS`. Safe on every replica at once:
/// the update is one statement, so each job times out once.
struct JobTimeoutSweeper: Service {
    let jobs: PostgresJobRepository
    let timeout: Duration
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let failed = try await jobs.failTimedOut(after: timeout)
                    if !failed.isEmpty { logger.notice("jobs timed out", metadata: ["jobs": "\(failed)"]) }
                } catch {
                    logger.warning("timeout sweep failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
