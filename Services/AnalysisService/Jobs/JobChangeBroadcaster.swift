import ECGMessaging
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Fans PostgreSQL notifications about changed jobs out to the streams open on this replica.
/// One `LISTEN` connection per replica, whichever replica applied the change.
final class JobChangeBroadcaster: Service, Sendable {
    final class Subscription: Sendable {
        let jobID: UUID
        let id = UUID()
        private let signal = WakeSignal()

        init(jobID: UUID) { self.jobID = jobID }

        func notify() { signal.signal() }

        /// True when the job changed, false when `timeout` passed first.
        func wait(upTo timeout: Duration) async -> Bool { await signal.wait(upTo: timeout) }
    }

    private let postgres: PostgresClient
    private let logger: Logger
    private let subscriptions = Mutex<[UUID: [UUID: Subscription]]>([:])

    init(postgres: PostgresClient, logger: Logger) {
        self.postgres = postgres
        self.logger = logger
    }

    func subscribe(jobID: UUID) -> Subscription {
        let subscription = Subscription(jobID: jobID)
        subscriptions.withLock { $0[jobID, default: [:]][subscription.id] = subscription }
        return subscription
    }

    func unsubscribe(_ subscription: Subscription) {
        subscriptions.withLock { all in
            all[subscription.jobID]?[subscription.id] = nil
            if all[subscription.jobID]?.isEmpty == true { all[subscription.jobID] = nil }
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.postgres.withConnection { connection in
                        try await connection.listen(on: JobRepository.changeChannel) { notifications in
                            self.notifyAll()  // changes may have happened while not listening
                            for try await notification in notifications {
                                guard let jobID = UUID(uuidString: notification.payload) else { continue }
                                let waiting = self.subscriptions.withLock { $0[jobID].map { Array($0.values) } ?? [] }
                                for subscription in waiting { subscription.notify() }
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    self.logger.debug("job-change LISTEN ended; reconnecting", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func notifyAll() {
        for subscription in subscriptions.withLock({ $0.values.flatMap(\.values) }) { subscription.notify() }
    }
}
