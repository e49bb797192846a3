import ECGKafka
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Publishes outbox rows to Kafka and marks them published once the broker acknowledged them.
///
/// Safe with many replicas: each round locks the oldest pending row of every key with
/// `FOR UPDATE SKIP LOCKED`, so replicas share the work, a key's next row is only taken after its
/// predecessor is published (order per key), and a row is marked published only after its delivery
/// report. Woken by `LISTEN/NOTIFY` at commit, with a slow poll as a safety net.
package final class OutboxRelay: Service, Sendable {
    private let outbox: Outbox
    private let postgres: PostgresClient
    private let producer: KafkaProducer
    private let logger: Logger
    private let batchSize: Int
    private let pollInterval: Duration
    private let backlogGauge: Gauge
    private let wake = WakeSignal()
    private let isStopping = Atomic<Bool>(false)

    package init(
        outbox: Outbox,
        postgres: PostgresClient,
        producer: KafkaProducer,
        logger: Logger,
        batchSize: Int = 200,
        pollInterval: Duration = .seconds(1)
    ) {
        self.outbox = outbox
        self.postgres = postgres
        self.producer = producer
        self.logger = logger
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.backlogGauge = Gauge(label: "outbox_backlog", dimensions: [("schema", outbox.schema.rawValue)])
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.listenForCommits() }
                await self.relayLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.isStopping.store(true, ordering: .releasing)
            self.wake.signal()
        }
    }

    /// Publishes what is pending now, batch after batch, until nothing is left. Returns the rows published.
    @discardableResult
    package func drain() async throws -> Int {
        var total = 0
        while true {
            let published = try await publishBatch()
            total += published.count
            if published.isEmpty || isStopping.load(ordering: .acquiring) { break }
        }
        if let backlog = try? await outbox.backlog(on: postgres, logger: logger) {
            backlogGauge.record(backlog)
        }
        return total
    }

    // MARK: - Loop

    private func relayLoop() async {
        var failures = 0
        while !isStopping.load(ordering: .acquiring), !Task.isCancelled {
            do {
                try await drain()
                failures = 0
            } catch {
                failures += 1
                logger.warning("outbox relay round failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            if isStopping.load(ordering: .acquiring) || Task.isCancelled { break }
            // Back off while PostgreSQL or Kafka is unavailable; otherwise wait for a commit or the poll.
            let wait = failures == 0 ? pollInterval : min(pollInterval * (1 << min(failures, 4)), .seconds(15))
            await wake.wait(upTo: wait)
        }
    }

    /// Holds one connection in `LISTEN` and turns every notification into a wake-up; reconnects if it drops.
    private func listenForCommits() async {
        while !Task.isCancelled {
            do {
                try await postgres.withConnection { connection in
                    try await connection.listen(on: outbox.channel) { notifications in
                        self.wake.signal()  // rows may have been committed while we were not listening
                        for try await _ in notifications { self.wake.signal() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("outbox LISTEN connection ended; reconnecting", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - One batch

    private func publishBatch() async throws -> [Int64] {
        let schema = outbox.schema
        let batchSize = self.batchSize
        let producer = self.producer
        let logger = self.logger
        return try await postgres.withTransaction(logger: logger) { connection -> [Int64] in
            let rows = try await connection.query(
                """
                SELECT id, topic, key, payload, headers::text FROM \(unescaped: schema.rawValue).outbox
                WHERE published_at IS NULL
                  AND id IN (SELECT min(id) FROM \(unescaped: schema.rawValue).outbox WHERE published_at IS NULL GROUP BY key)
                ORDER BY id LIMIT \(batchSize)
                FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            )
            var batch: [OutboxRow] = []
            for try await (id, topic, key, payload, headers) in rows.decode((Int64, String, String, ByteBuffer, String).self) {
                let pairs = (try? JSONDecoder().decode([[String]].self, from: Data(headers.utf8))) ?? []
                batch.append(
                    OutboxRow(
                        id: id,
                        topic: topic,
                        key: key,
                        payload: Array(payload.readableBytesView),
                        headers: pairs.compactMap { $0.count == 2 ? KafkaHeader(key: $0[0], value: $0[1]) : nil }
                    )
                )
            }
            guard !batch.isEmpty else { return [] }

            // Each key appears once per batch, so the sends may run concurrently without reordering a key.
            let outcomes = await withTaskGroup(of: (Int64, String?).self) { group in
                for row in batch {
                    group.addTask {
                        do {
                            try await producer.send(topic: row.topic, key: row.key, value: row.payload, headers: row.headers)
                            return (row.id, nil)
                        } catch {
                            return (row.id, "\(error)")
                        }
                    }
                }
                var outcomes: [(Int64, String?)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let published = outcomes.filter { $0.1 == nil }.map(\.0)
            if !published.isEmpty {
                try await connection.query(
                    "UPDATE \(unescaped: schema.rawValue).outbox SET published_at = now() WHERE id = ANY(\(published))",
                    logger: logger
                )
            }
            for case let (id, reason?) in outcomes {
                try await connection.query(
                    "UPDATE \(unescaped: schema.rawValue).outbox SET attempts = attempts + 1, last_error = \(reason) WHERE id = \(id)",
                    logger: logger
                )
                logger.warning("outbox row not delivered; will retry", metadata: ["outbox_id": "\(id)", "error": "\(reason)"])
            }
            return published
        }
    }
}
