import ECGDatabase
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// How `StatementBatcher` groups concurrent writes (issue 13, item 4): at once when a lane is free,
/// together when every lane is busy, one outcome per item, answered on the submitter's event loop.
/// generate-url's grouped statement itself is tested against PostgreSQL (`MediaFlowTests`).
@Suite("StatementBatcher")
struct StatementBatcherTests {
    /// Records each group a batcher ran, and holds a group back until released.
    private final class Groups: Sendable {
        private let state = Mutex<(groups: [[Int]], held: [CheckedContinuation<Void, Never>], holding: Bool)>(([], [], false))
        var recorded: [[Int]] { state.withLock { $0.groups } }
        var heldCount: Int { state.withLock { $0.held.count } }

        func hold() { state.withLock { $0.holding = true } }

        func release() {
            let held = state.withLock { state in
                state.holding = false
                defer { state.held = [] }
                return state.held
            }
            for group in held { group.resume() }
        }

        /// Records `group` and waits while groups are held.
        func run(_ group: [Int]) async {
            await withCheckedContinuation { continuation in
                let wait = state.withLock { state in
                    state.groups.append(group)
                    if state.holding { state.held.append(continuation) }
                    return state.holding
                }
                if !wait { continuation.resume() }
            }
        }
    }

    private struct Refused: Error, Equatable { let item: Int }

    /// Runs `body` with `batcher` running as its service would, then stops it.
    private func running<Result: Sendable>(
        _ batcher: StatementBatcher<Int, Int>,
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await batcher.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<1000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        try #require(condition())
    }

    @Test("an item submitted while a lane is free runs at once, alone")
    func loneItem() async throws {
        let groups = Groups()
        let batcher = StatementBatcher<Int, Int>(lanes: 2, maxGroupSize: 64) { items in
            await groups.run(items)
            return items.map { .success($0 * 10) }
        }
        try await running(batcher) { () async throws in
            #expect(try await batcher.submit(7) == 70)
            #expect(try await batcher.submit(8) == 80)
        }
        #expect(groups.recorded == [[7], [8]])
    }

    @Test("items submitted while every lane is busy run together in the next group, each with its own outcome")
    func busyLanesGroup() async throws {
        let groups = Groups()
        let batcher = StatementBatcher<Int, Int>(lanes: 1, maxGroupSize: 64) { items in
            await groups.run(items)
            return items.map { $0 == 3 ? .failure(Refused(item: 3)) : .success($0 * 10) }
        }
        try await running(batcher) { () async throws in
            groups.hold()
            async let first = batcher.submit(0)
            try await waitUntil { groups.heldCount == 1 }
            let rest = (1...5).map { item in Task { try await batcher.submit(item) } }
            try await waitUntil { batcher.waitingCount == 5 }
            groups.release()
            #expect(try await first == 0)
            for (item, task) in zip(1...5, rest) {
                if item == 3 {
                    await #expect(throws: Refused(item: 3)) { try await task.value }
                } else {
                    #expect(try await task.value == item * 10)
                }
            }
        }
        let recorded = groups.recorded
        #expect(recorded.count == 2, "\(recorded)")
        #expect(recorded.first == [0])
        #expect(recorded.last?.sorted() == [1, 2, 3, 4, 5])
    }

    @Test("a group carries at most maxGroupSize items, in the order they were submitted")
    func groupSizeBound() async throws {
        let groups = Groups()
        let batcher = StatementBatcher<Int, Int>(lanes: 1, maxGroupSize: 2) { items in
            await groups.run(items)
            return items.map { .success($0) }
        }
        try await running(batcher) { () async throws in
            groups.hold()
            async let first = batcher.submit(0)
            try await waitUntil { groups.heldCount == 1 }
            var rest: [Task<Int, any Error>] = []
            for item in 1...5 {
                rest.append(Task { try await batcher.submit(item) })
                try await waitUntil { batcher.waitingCount == item }
            }
            groups.release()
            _ = try await first
            for task in rest { _ = try await task.value }
        }
        #expect(groups.recorded == [[0], [1, 2], [3, 4], [5]])
    }

    @Test("an error thrown for a group fails that group's items only")
    func thrownErrorFailsItsGroup() async throws {
        let batcher = StatementBatcher<Int, Int>(lanes: 2, maxGroupSize: 64) { items in
            if items.contains(13) { throw Refused(item: 13) }
            return items.map { .success($0) }
        }
        try await running(batcher) { () async throws in
            await #expect(throws: Refused(item: 13)) { try await batcher.submit(13) }
            #expect(try await batcher.submit(14) == 14)
        }
    }

    /// A task executor on one event loop that records, for each job handed to it, whether the
    /// thread handing it over was that loop's own (a resumed task is handed over by the thread that
    /// resumed it).
    private final class LoopExecutor: TaskExecutor {
        let loop: any EventLoop
        private let handovers = Mutex<[Bool]>([])
        var handedOverOnTheLoop: [Bool] { handovers.withLock { $0 } }

        init(loop: any EventLoop) { self.loop = loop }

        func enqueue(_ job: consuming ExecutorJob) {
            let onTheLoop = loop.inEventLoop
            handovers.withLock { $0.append(onTheLoop) }
            let job = UnownedJob(job)
            loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    @Test("a submitter on an event loop is resumed from that loop, not from the lane's thread")
    func answersOnTheSubmittersLoop() async throws {
        // NIO's singleton loops: this test process does not make them Swift's global executor, so the
        // lane's task runs elsewhere, on Swift's own threads.
        let submitters = LoopExecutor(loop: MultiThreadedEventLoopGroup.singleton.next())
        let batcher = StatementBatcher<Int, Int>(lanes: 1, maxGroupSize: 64) { items in items.map { .success($0 + 1) } }
        let answer = try await running(batcher) { () async throws in
            try await Task(executorPreference: submitters) {
                #expect(submitters.loop.inEventLoop)
                return try await batcher.submit(41)
            }.value
        }
        #expect(answer == 42)
        // The task's start comes from this test's thread; its resumption after the answer must come
        // from the loop (`StatementBatcher.answer`'s hop), where the lane's thread would hand it over otherwise.
        let handovers = submitters.handedOverOnTheLoop
        #expect(handovers.count >= 2 && handovers.dropFirst().allSatisfy { $0 }, "\(handovers)")
    }

    @Test("once the batcher has stopped, a submitted item fails at once instead of waiting")
    func stoppedBatcherRefuses() async throws {
        let batcher = StatementBatcher<Int, Int>(lanes: 2, maxGroupSize: 64) { items in items.map { .success($0) } }
        try await running(batcher) { () async throws in
            #expect(try await batcher.submit(1) == 1)
        }
        await #expect(throws: StatementBatcher<Int, Int>.Stopped.self) { try await batcher.submit(2) }
    }
}
