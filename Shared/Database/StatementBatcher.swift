import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Runs the writes of concurrent requests in groups, one statement and one commit per group (group
/// commit), for a write that every request of a hot route makes (generate-url's pending video).
///
/// - **No added delay**: an item submitted while a lane is idle runs at once, alone. While every lane
///   is running a group, new items wait, and the next lane to finish takes all of them (at most
///   `maxGroupSize`): a group holds what arrived during one round trip, so groups grow with the load.
/// - **One outcome per item**: `runGroup` answers each item separately (an item's own failure is its
///   `.failure`); an error it throws fails every item of the group.
/// - **A `Service`**: `run()` runs the lanes under the application's `ServiceGroup`. On graceful
///   shutdown the lanes finish what is waiting and stop; an item submitted after that fails with
///   `Stopped` instead of waiting forever.
/// - **Answers where they were asked**: when Swift tasks run on SwiftNIO's event loops, each
///   submitter continues on the event loop it submitted from, not on the lane's.
package final class StatementBatcher<Item: Sendable, Outcome: Sendable>: Service, Sendable {
    /// Runs one group; returns one outcome per item, in the items' order.
    package typealias RunGroup = @Sendable ([Item]) async throws -> [Result<Outcome, any Error>]

    /// The batcher is not running any more (the service is shutting down).
    package struct Stopped: Error {}

    private struct Waiter {
        let item: Item
        let continuation: CheckedContinuation<Outcome, any Error>
        /// The event loop the submitter ran on (nil when tasks do not run on the event loops).
        let home: (any EventLoop)?
    }

    private enum Turn {
        case run([Waiter])
        case wake
        case finish
    }

    private struct State {
        var waiting: [Waiter] = []
        var idleLanes: [CheckedContinuation<Turn, Never>] = []
        var stopping = false
        var stopped = false
    }

    package let lanes: Int
    package let maxGroupSize: Int
    private let runGroup: RunGroup
    private let state = Mutex(State())

    /// - Parameters:
    ///   - lanes: how many groups may run at once (each holds one pooled connection while it runs).
    ///   - maxGroupSize: the most items one statement carries.
    ///   - runGroup: runs one group's statement.
    package init(lanes: Int, maxGroupSize: Int, runGroup: @escaping RunGroup) {
        precondition(lanes > 0 && maxGroupSize > 0, "a StatementBatcher needs a lane and room for an item")
        self.lanes = lanes
        self.maxGroupSize = maxGroupSize
        self.runGroup = runGroup
    }

    /// Items submitted and not yet taken into a group.
    package var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Runs `item` in the next group and returns its outcome.
    package func submit(_ item: Item) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let admitted = state.withLock { state -> Result<CheckedContinuation<Turn, Never>?, Stopped> in
                guard !state.stopped else { return .failure(Stopped()) }
                state.waiting.append(Waiter(item: item, continuation: continuation, home: MultiThreadedEventLoopGroup.currentEventLoop))
                return .success(state.idleLanes.popLast())
            }
            switch admitted {
            case .success(let idleLane): idleLane?.resume(returning: .wake)
            case .failure(let stopped): continuation.resume(throwing: stopped)
            }
        }
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    for _ in 0..<lanes {
                        group.addTask { await self.runLane() }
                    }
                }
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        let late = state.withLock { state -> [Waiter] in
            state.stopped = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in late { waiter.continuation.resume(throwing: Stopped()) }
    }

    private func stop() {
        let idle = state.withLock { state -> [CheckedContinuation<Turn, Never>] in
            state.stopping = true
            defer { state.idleLanes = [] }
            return state.idleLanes
        }
        for lane in idle { lane.resume(returning: .wake) }
    }

    private func runLane() async {
        while let group = await nextGroup() {
            let outcomes: [Result<Outcome, any Error>]
            do {
                outcomes = try await runGroup(group.map(\.item))
                precondition(outcomes.count == group.count, "runGroup must answer every item of its group")
            } catch {
                outcomes = Array(repeating: .failure(error), count: group.count)
            }
            answer(group, with: outcomes)
        }
    }

    /// Resumes each waiter from the event loop it submitted from, one hop per loop. A task resumed
    /// on an event loop continues there (with `TASKS_ON_EVENT_LOOPS` the loops are Swift's global
    /// executor, and it keeps a task on the current loop), so resuming the whole group from the lane
    /// ran every request's remaining work (presigning, the response, the access log) on the loop of
    /// the lane's database connection: perf under generate-url put 100% of presigning on one loop,
    /// that loop at 88% of a core and the other at 33%.
    /// A submitter runs in a task, and tasks run only on NIO's singleton group, which never shuts
    /// down, so a hop is never dropped.
    private func answer(_ group: [Waiter], with outcomes: [Result<Outcome, any Error>]) {
        var elsewhere: [ObjectIdentifier: (loop: any EventLoop, answers: [Answer])] = [:]
        for (waiter, outcome) in zip(group, outcomes) {
            guard let home = waiter.home, !home.inEventLoop else {
                waiter.continuation.resume(with: outcome)
                continue
            }
            elsewhere[ObjectIdentifier(home), default: (home, [])].answers.append(Answer(continuation: waiter.continuation, outcome: outcome))
        }
        for (loop, answers) in elsewhere.values {
            loop.execute {
                for answer in answers { answer.continuation.resume(with: answer.outcome) }
            }
        }
    }

    private struct Answer: Sendable {
        let continuation: CheckedContinuation<Outcome, any Error>
        let outcome: Result<Outcome, any Error>
    }

    /// The next group, waiting for items when none wait; nil once stopping with nothing left.
    private func nextGroup() async -> [Waiter]? {
        while true {
            let turn = await withCheckedContinuation { (lane: CheckedContinuation<Turn, Never>) in
                let now = state.withLock { state -> Turn? in
                    if !state.waiting.isEmpty {
                        let count = min(maxGroupSize, state.waiting.count)
                        defer { state.waiting.removeFirst(count) }
                        return .run(Array(state.waiting.prefix(count)))
                    }
                    if state.stopping { return .finish }
                    state.idleLanes.append(lane)
                    return nil
                }
                if let now { lane.resume(returning: now) }
            }
            switch turn {
            case .run(let group): return group
            case .wake: continue
            case .finish: return nil
            }
        }
    }
}
