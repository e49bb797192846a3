import ECGEvents
import ECGMessaging
import Synchronization

/// Wakes the status streams open on this replica when their job changes. Told by
/// `JobChangeListener` (PostgreSQL `LISTEN`, whichever replica made the change) in the service,
/// directly by the in-memory repository in the route tests.
final class JobChangeBroadcaster: Sendable {
    final class Subscription: Sendable {
        let jobID: JobID
        let id = JobID()
        private let signal = WakeSignal()

        init(jobID: JobID) { self.jobID = jobID }

        func notify() { signal.signal() }

        /// True when the job changed, false when `timeout` passed first.
        func wait(upTo timeout: Duration) async -> Bool { await signal.wait(upTo: timeout) }
    }

    private let subscriptions = Mutex<[JobID: [JobID: Subscription]]>([:])

    init() {}

    func subscribe(jobID: JobID) -> Subscription {
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

    /// Wakes the streams of `jobID`.
    func jobChanged(_ jobID: JobID) {
        let waiting = subscriptions.withLock { $0[jobID].map { Array($0.values) } ?? [] }
        for subscription in waiting { subscription.notify() }
    }

    /// Wakes every stream (changes may have been missed).
    func everythingMayHaveChanged() {
        for subscription in subscriptions.withLock({ $0.values.flatMap(\.values) }) { subscription.notify() }
    }
}
