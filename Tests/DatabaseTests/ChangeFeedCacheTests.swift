import ECGDatabase
import Logging
import Synchronization
import Testing

/// The in-memory rules of `ChangeFeedCache` (issue 13, item 3): filled on a miss, dropped by a
/// notified change, bounded, unused while not listening. The LISTEN connection itself is tested
/// against the stack (`PolledReadCacheTests`).
@Suite("ChangeFeedCache")
struct ChangeFeedCacheTests {
    private func makeCache(capacity: Int = 16, timeToLive: Duration = .seconds(60), listening: Bool = true) -> ChangeFeedCache<Int, String> {
        let cache = ChangeFeedCache<Int, String>(
            channel: "test_changed",
            capacity: capacity,
            timeToLive: timeToLive,
            postgres: nil,
            logger: Logger(label: "test"),
            parseKey: { Int($0) }
        )
        cache.setListening(listening)
        return cache
    }

    /// Counts the loads, which stand for database reads.
    private final class Loads: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func load(_ result: String?) -> String? {
            count.withLock { $0 += 1 }
            return result
        }
    }

    @Test("a second read is served from memory; a notified change makes the next read load again")
    func fillAndInvalidate() async throws {
        let cache = makeCache()
        let loads = Loads()
        #expect(try await cache.value(for: 1) { loads.load("active") } == "active")
        #expect(try await cache.value(for: 1) { loads.load("active") } == "active")
        #expect(loads.value == 1)
        cache.invalidate(1)
        #expect(try await cache.value(for: 1) { loads.load("inactive") } == "inactive")
        #expect(loads.value == 2)
    }

    @Test("a missing row is not kept")
    func missingRowIsReadAgain() async throws {
        let cache = makeCache()
        let loads = Loads()
        #expect(try await cache.value(for: 1) { loads.load(nil) } == nil)
        #expect(try await cache.value(for: 1) { loads.load(nil) } == nil)
        #expect(loads.value == 2)
    }

    @Test("without LISTEN in place nothing is served from memory or kept; losing it drops everything")
    func bypassedWhileNotListening() async throws {
        let cache = makeCache(listening: false)
        let loads = Loads()
        _ = try await cache.value(for: 1) { loads.load("a") }
        _ = try await cache.value(for: 1) { loads.load("a") }
        #expect(loads.value == 2)
        #expect(cache.count == 0)

        cache.setListening(true)
        _ = try await cache.value(for: 1) { loads.load("a") }
        #expect(cache.count == 1)
        cache.setListening(false)
        #expect(cache.count == 0)
        #expect(try await cache.value(for: 1) { loads.load("b") } == "b")
        #expect(loads.value == 4)
    }

    @Test("an entry older than the time to live is read again")
    func expiresAfterTimeToLive() async throws {
        let cache = makeCache(timeToLive: .milliseconds(50))
        let loads = Loads()
        _ = try await cache.value(for: 1) { loads.load("a") }
        try await Task.sleep(for: .milliseconds(80))
        #expect(try await cache.value(for: 1) { loads.load("b") } == "b")
        #expect(loads.value == 2)
    }

    @Test("a read that started before its key's change was notified is served but not kept")
    func readRacingAChangeIsNotKept() async throws {
        let cache = makeCache()
        let stale = try await cache.value(for: 7) {
            cache.invalidate(7)  // the change commits and is notified while the old row is in flight
            return "before the change"
        }
        #expect(stale == "before the change")
        #expect(cache.count == 0)
        let loads = Loads()
        #expect(try await cache.value(for: 7) { loads.load("after the change") } == "after the change")
        #expect(loads.value == 1)

        // A change of another key does not stop this one from being kept.
        _ = try await cache.value(for: 8) {
            cache.invalidate(9)
            return "unrelated"
        }
        #expect(cache.count == 2)

        // Nor is a read kept that straddles a lost LISTEN connection.
        cache.invalidateAll()
        _ = try await cache.value(for: 10) {
            cache.setListening(false)
            cache.setListening(true)
            return "across a reconnect"
        }
        #expect(cache.count == 0)
    }

    @Test("memory stays bounded under 100,000 distinct keys, and recently used entries survive eviction")
    func boundedUnderManyKeys() async throws {
        let capacity = 1_000
        let cache = makeCache(capacity: capacity)
        let loads = Loads()
        _ = try await cache.value(for: -1) { loads.load("hot") }
        for key in 0..<100_000 {
            _ = try await cache.value(for: key) { "user \(key)" }
            #expect(cache.count <= capacity)
            if key % 100 == 0 { _ = try await cache.value(for: -1) { loads.load("hot") } }  // stays referenced
        }
        #expect(cache.count == capacity)
        #expect(loads.value == 1, "the entry read every 100 keys was evicted")
        // Evicted keys load again, and the most recent ones are still held.
        let reloads = Loads()
        _ = try await cache.value(for: 99_999) { reloads.load("x") }
        _ = try await cache.value(for: 0) { reloads.load("x") }
        #expect(reloads.value == 1)
    }
}

extension ChangeFeedCacheTests {
    @Test("the total cost stays under maxCost; a value costing more than maxCost alone is served, not kept")
    func boundedByCost() async throws {
        let cache = ChangeFeedCache<Int, String>(
            channel: "test_changed",
            capacity: 1_000,
            timeToLive: .seconds(60),
            maxCost: 100,
            cost: { $0.utf8.count },
            postgres: nil,
            logger: Logger(label: "test"),
            parseKey: { Int($0) }
        )
        cache.setListening(true)
        for key in 0..<1_000 {
            _ = try await cache.value(for: key) { String(repeating: "x", count: 1 + key % 30) }
            #expect(cache.totalCost <= 100)
        }
        #expect(try await cache.value(for: -1) { String(repeating: "y", count: 101) }?.count == 101)
        let loads = Loads()
        _ = try await cache.value(for: -1) { loads.load("z") }
        #expect(loads.value == 1)
    }
}
