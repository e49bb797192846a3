import Synchronization

/// The continuations of messages waiting for their delivery report, keyed by the message id
/// passed to librdkafka as the message opaque. Each continuation is taken out exactly once.
final class DeliveryRegistry: Sendable {
    private struct State {
        var nextID: UInt = 1
        var pending: [UInt: CheckedContinuation<KafkaDeliveryReport, any Error>] = [:]
        var isClosed = false
    }

    private let state = Mutex(State())

    func makeID() -> UInt {
        state.withLock { state in
            defer { state.nextID &+= 1 }
            return state.nextID
        }
    }

    /// Stores the continuation; false when the registry is closed (it is then not stored).
    func register(_ id: UInt, _ continuation: CheckedContinuation<KafkaDeliveryReport, any Error>) -> Bool {
        state.withLock { state in
            guard !state.isClosed else { return false }
            state.pending[id] = continuation
            return true
        }
    }

    func take(_ id: UInt) -> CheckedContinuation<KafkaDeliveryReport, any Error>? {
        state.withLock { $0.pending.removeValue(forKey: id) }
    }

    /// Refuses new messages; true only for the first call.
    func close() -> Bool {
        state.withLock { state in
            defer { state.isClosed = true }
            return !state.isClosed
        }
    }

    /// Everything still waiting, removed from the registry.
    func drain() -> [CheckedContinuation<KafkaDeliveryReport, any Error>] {
        state.withLock { state in
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
    }
}
