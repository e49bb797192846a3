import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Rows that clients poll (`/api/auth/me`'s user, `job-status`'s job), kept in memory on each replica
/// and kept coherent by PostgreSQL `LISTEN/NOTIFY` (issue 13, item 3).
///
/// - **Filled on a miss**: `value(for:load:)` runs `load` (the database read) when the key is not held,
///   and keeps what it found (a missing row is not kept: it is read again on the next request).
/// - **Invalidated by `NOTIFY`**: `run()` holds one connection in `LISTEN` on `channel`; every
///   notification whose payload parses as a key drops that key, on every replica, within milliseconds
///   of the commit that changed the row.
/// - **Never later than `timeToLive`**: an entry older than that is read again, whatever was notified.
///   This bounds the damage of a write path that forgets to notify or of a connection that dies
///   without the socket closing.
/// - **Only while listening**: until `LISTEN` is in place, and from the moment its connection is lost
///   until it is back, nothing is served from memory or kept: every read goes to the database. On
///   (re)connecting, everything held is dropped, since notifications sent meanwhile reached no one.
/// - **Bounded**: at most `capacity` entries and at most `maxCost` in total by `cost` (e.g. bytes, for
///   values whose size varies); a full cache evicts with the clock (second chance) algorithm, so the
///   memory held does not grow with the number of distinct keys. A value costing more than `maxCost`
///   on its own is served but not kept.
///
/// A read that started before an invalidation of its key (or of everything) is served but not kept:
/// it may have seen the row before the change was committed.
package final class ChangeFeedCache<Key: Hashable & Sendable, Value: Sendable>: Service, Sendable {
    package let channel: String
    package let capacity: Int
    package let timeToLive: Duration
    package let maxCost: Int
    private let cost: @Sendable (Value) -> Int
    private let postgres: PostgresClient?
    private let logger: Logger
    private let parseKey: @Sendable (String) -> Key?
    private let reconnectDelay: Duration
    private let state: Mutex<State>

    /// - Parameters:
    ///   - channel: the `NOTIFY` channel whose payload names a changed row.
    ///   - capacity: the most entries held (memory is about this many keys and values).
    ///   - timeToLive: the longest an entry is served without being read again.
    ///   - maxCost, cost: the most the entries held may cost together, and what one costs (by default
    ///     1 each, so only `capacity` bounds the cache).
    ///   - postgres: the pool that lends `run()` its `LISTEN` connection; nil for a cache that is told
    ///     about changes and connection state by hand (`setListening`, `invalidate`), as in unit tests.
    ///   - parseKey: the key named by a notification's payload; nil ignores the notification.
    package init(
        channel: String,
        capacity: Int,
        timeToLive: Duration,
        maxCost: Int = .max,
        cost: @escaping @Sendable (Value) -> Int = { _ in 1 },
        postgres: PostgresClient?,
        logger: Logger,
        reconnectDelay: Duration = .seconds(1),
        parseKey: @escaping @Sendable (String) -> Key?
    ) {
        precondition(capacity > 0, "a ChangeFeedCache needs room for at least one entry")
        self.channel = channel
        self.capacity = capacity
        self.timeToLive = timeToLive
        self.maxCost = maxCost
        self.cost = cost
        self.postgres = postgres
        self.logger = logger
        self.reconnectDelay = reconnectDelay
        self.parseKey = parseKey
        self.state = Mutex(State(capacity: capacity, maxCost: maxCost))
    }

    // MARK: - Reads

    /// The value for `key`: from memory when held, fresh and listening; otherwise from `load`.
    package func value(for key: Key, load: () async throws -> Value?) async throws -> Value? {
        let now = ContinuousClock.now
        let lookup = state.withLock { $0.lookup(key, now: now) }
        let started: UInt64
        switch lookup {
        case .hit(let value): return value
        case .bypass: return try await load()
        case .miss(let generation): started = generation
        }
        let loaded: Value?
        do {
            loaded = try await load()
        } catch {
            state.withLock { $0.finishLoad(key, startedAt: started, value: nil, cost: 0, expires: now) }
            throw error
        }
        let expires = ContinuousClock.now + timeToLive
        let weight = loaded.map(cost) ?? 0
        state.withLock { $0.finishLoad(key, startedAt: started, value: loaded, cost: weight, expires: expires) }
        return loaded
    }

    // MARK: - Changes

    /// Drops `key` (a change of its row was notified or made here).
    package func invalidate(_ key: Key) {
        state.withLock { $0.invalidate(key) }
    }

    /// Drops everything held.
    package func invalidateAll() {
        state.withLock { $0.invalidateAll() }
    }

    /// Whether the cache is in use: true once `LISTEN` is in place. Turning it off or on drops
    /// everything held.
    package func setListening(_ listening: Bool) {
        state.withLock { state in
            state.listening = listening
            state.invalidateAll()
        }
    }

    package var isListening: Bool { state.withLock { $0.listening } }

    /// Entries held now (for tests and metrics).
    package var count: Int { state.withLock { $0.index.count } }

    /// The cost of the entries held now (for tests and metrics).
    package var totalCost: Int { state.withLock { $0.totalCost } }

    // MARK: - The LISTEN connection

    /// Holds one pooled connection in `LISTEN` on `channel` until cancelled or graceful shutdown,
    /// reconnecting after `reconnectDelay` when it is lost. The cache is in use only meanwhile.
    package func run() async throws {
        guard let postgres else { return }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await postgres.withConnection { connection in
                        try await connection.listen(on: self.channel) { notifications in
                            self.setListening(true)
                            defer { self.setListening(false) }
                            for try await notification in notifications {
                                if let key = self.parseKey(notification.payload) { self.invalidate(key) }
                            }
                        }
                    }
                } catch {
                    self.setListening(false)
                    if Task.isCancelled { return }
                    self.logger.warning(
                        "LISTEN connection lost; reading from the database until it is back",
                        metadata: ["channel": "\(self.channel)", "error": "\(String(reflecting: type(of: error)))"]
                    )
                }
                self.setListening(false)
                try? await Task.sleep(for: self.reconnectDelay)
            }
        }
        setListening(false)
    }
}

// MARK: - State

extension ChangeFeedCache {
    fileprivate enum Lookup {
        case hit(Value)
        case miss(generation: UInt64)
        case bypass
    }

    fileprivate struct Entry {
        var key: Key
        var value: Value
        var cost: Int
        var expires: ContinuousClock.Instant
        /// The clock algorithm's second chance: set by a hit, cleared by the passing hand.
        var referenced: Bool
    }

    /// Reads of a key in flight, and the generation of the last invalidation of the key meanwhile.
    fileprivate struct Loading {
        var count: Int
        var invalidatedAt: UInt64
    }

    fileprivate struct State {
        let capacity: Int
        let maxCost: Int
        var totalCost = 0
        var listening = false
        var entries: [Entry] = []
        var index: [Key: Int] = [:]
        var hand = 0
        /// Counts invalidations; a read remembers it when it starts.
        var generation: UInt64 = 0
        var everythingInvalidatedAt: UInt64 = 0
        var loading: [Key: Loading] = [:]

        init(capacity: Int, maxCost: Int) {
            self.capacity = capacity
            self.maxCost = maxCost
            entries.reserveCapacity(min(capacity, 1024))
        }

        mutating func lookup(_ key: Key, now: ContinuousClock.Instant) -> Lookup {
            guard listening else { return .bypass }
            if let slot = index[key] {
                if entries[slot].expires > now {
                    entries[slot].referenced = true
                    return .hit(entries[slot].value)
                }
                remove(at: slot)
            }
            loading[key, default: Loading(count: 0, invalidatedAt: 0)].count += 1
            return .miss(generation: generation)
        }

        mutating func finishLoad(_ key: Key, startedAt: UInt64, value: Value?, cost: Int, expires: ContinuousClock.Instant) {
            guard var pending = loading[key] else { return }
            pending.count -= 1
            loading[key] = pending.count == 0 ? nil : pending
            guard let value, listening, pending.invalidatedAt <= startedAt, everythingInvalidatedAt <= startedAt, cost <= maxCost else { return }
            store(Entry(key: key, value: value, cost: cost, expires: expires, referenced: false))
        }

        mutating func invalidate(_ key: Key) {
            generation &+= 1
            if let slot = index[key] { remove(at: slot) }
            loading[key]?.invalidatedAt = generation
        }

        mutating func invalidateAll() {
            generation &+= 1
            everythingInvalidatedAt = generation
            entries.removeAll(keepingCapacity: true)
            index.removeAll(keepingCapacity: true)
            totalCost = 0
            hand = 0
        }

        private mutating func store(_ entry: Entry) {
            if let slot = index[entry.key] { remove(at: slot) }
            while !entries.isEmpty, entries.count >= capacity || totalCost > maxCost - entry.cost {
                evictOne()
            }
            index[entry.key] = entries.count
            entries.append(entry)
            totalCost += entry.cost
        }

        /// Clock: the hand passes referenced entries once (clearing the mark) and evicts the first
        /// unreferenced one; at most one full turn. The last entry moves into the freed slot, and the
        /// hand moves past it, so the newest entries are not the next ones looked at.
        private mutating func evictOne() {
            if hand >= entries.count { hand = 0 }
            while entries[hand].referenced {
                entries[hand].referenced = false
                hand = (hand + 1) % entries.count
            }
            remove(at: hand)
            if !entries.isEmpty { hand = (hand + 1) % entries.count }
        }

        /// Removes the entry in `slot` by moving the last entry into it.
        private mutating func remove(at slot: Int) {
            index[entries[slot].key] = nil
            totalCost -= entries[slot].cost
            let last = entries.count - 1
            if slot != last {
                entries[slot] = entries[last]
                index[entries[slot].key] = slot
            }
            entries.removeLast()
            if hand >= entries.count { hand = 0 }
        }
    }
}
