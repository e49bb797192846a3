import ECGDatabase
import ECGEvents
import ECGKafka
import ECGMessaging
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

/// A throwaway schema with the messaging tables and an `applied` table that test handlers write to,
/// and an in-process embedded Kafka cluster (so tests can take brokers down).
struct MessagingFixture {
    let schema: SchemaName
    let postgres: PostgresClient
    let cluster: KafkaMockCluster
    let logger: Logger

    var kafka: KafkaConfiguration { KafkaConfiguration(bootstrapServers: cluster.bootstrapServers) }

    /// Consumers with a short session: the embedded broker rebalances a group only after a departed
    /// member's session has timed out.
    var consumerKafka: KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"])
    }

    var outbox: Outbox { Outbox(schema: schema) }

    static func with(_ body: (MessagingFixture) async throws -> Void) async throws {
        var logger = Logger(label: "messaging-tests")
        logger.logLevel = .warning
        let url = try #require(ProcessInfo.processInfo.environment["ECG_TEST_PG_URL"])
        let postgres = PostgresClient(configuration: try .fromURL(url), backgroundLogger: logger)
        let schema = try SchemaName("msg_\(UUID().uuidString.prefix(8).lowercased())")
        let cluster = try KafkaMockCluster(logger: logger)
        let fixture = MessagingFixture(schema: schema, postgres: postgres, cluster: cluster, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await postgres.run() }
            let migrations =
                [
                    Migration(
                        version: 1,
                        name: "applied",
                        sql: "CREATE TABLE applied (event_id text NOT NULL, body text NOT NULL, applied_at timestamptz DEFAULT clock_timestamp())"
                    )
                ]
                + MessagingMigrations.all
            try await MigrationRunner(schema: schema.rawValue, migrations: migrations).run(on: postgres, logger: logger)
            do {
                try await body(fixture)
            } catch {
                try? await postgres.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: logger)
                await cluster.shutdown()
                group.cancelAll()
                throw error
            }
            try await postgres.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: logger)
            await cluster.shutdown()
            group.cancelAll()
        }
    }

    /// The handler every test uses: records the event id and its data in `applied`.
    var recordingHandler: IdempotentEventProcessor.Handler {
        let schema = self.schema
        let logger = self.logger
        return { event, connection in
            var binds = PostgresBindings()
            binds.append(event.header.id)
            binds.append(String(decoding: event.message.value, as: UTF8.self))
            try await connection.query(
                PostgresQuery(unsafeSQL: "INSERT INTO \(schema).applied (event_id, body) VALUES ($1, $2)", binds: binds),
                logger: logger
            )
        }
    }

    func processor(handler: IdempotentEventProcessor.Handler? = nil) -> IdempotentEventProcessor {
        IdempotentEventProcessor(schema: schema, postgres: postgres, logger: logger, handler: handler ?? recordingHandler)
    }

    func count(_ sql: String) async throws -> Int {
        let rows = try await postgres.query(PostgresQuery(unsafeSQL: sql.replacingOccurrences(of: "$schema", with: schema.rawValue)), logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// Commits `count` events for `keys` (round robin) through the outbox, each in its own transaction.
    @discardableResult
    func enqueue(_ count: Int, keys: [String], topic: String) async throws -> [CloudEvent<JobProgress>] {
        var events: [CloudEvent<JobProgress>] = []
        for index in 0..<count {
            let key = keys[index % keys.count]
            let event = CloudEvent(
                source: "tests",
                type: EventType.jobProgress,
                subject: key,
                data: JobProgress(jobID: JobID(), progress: index, stage: "s")
            )
            try await postgres.withTransaction(logger: logger) { connection in
                try await outbox.add(event, topic: topic, on: connection, logger: logger)
            }
            events.append(event)
        }
        return events
    }

    /// Reads `count` messages from `topic` with a fresh group (fewer when `within` runs out), then
    /// keeps reading for `linger` so that duplicates would show up too.
    func read(_ count: Int, from topic: String, within seconds: Double = 30, linger: Double = 1) async throws -> [KafkaMessage] {
        let consumer = try await KafkaConsumer(configuration: kafka, groupID: "reader-\(UUID())", topics: [topic], logger: logger)
        var messages = try await collect(count, from: consumer, within: seconds, stopAfter: false)
        if messages.count == count {
            messages += try await collect(Int.max, from: consumer, within: linger)
        }
        consumer.stop()
        await consumer.close()
        return messages
    }
}

func collect(_ count: Int, from consumer: KafkaConsumer, within seconds: Double, stopAfter: Bool = true) async throws -> [KafkaMessage] {
    final class Received: Sendable { let messages = Mutex<[KafkaMessage]>([]) }
    let received = Received()
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            for await message in consumer.messages {
                let total = received.messages.withLock { messages in
                    messages.append(message)
                    return messages.count
                }
                if total >= count { break }
            }
        }
        group.addTask { try? await Task.sleep(for: .seconds(seconds)) }
        await group.next()
        group.cancelAll()
    }
    if stopAfter { consumer.stop() }
    return received.messages.withLock { $0 }
}

/// Waits until `condition` holds, polling; fails the test when it does not within the deadline.
func eventually(within seconds: Double = 30, _ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("timed out waiting until \(what)")
}
