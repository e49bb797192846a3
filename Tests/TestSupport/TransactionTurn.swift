/// One transaction at a time, for the in-memory repositories of the route tests: PostgreSQL's row
/// locks, taken by every transaction on everything.
package actor TransactionTurn {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    package init() {}

    /// Runs `body` once no other transaction is running, then lets the next one in.
    package func take<Result: Sendable>(_ body: @Sendable () async throws -> Result) async throws -> Result {
        while busy { await withCheckedContinuation { waiting.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
