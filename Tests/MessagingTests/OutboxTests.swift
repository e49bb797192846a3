import ECGEvents
import ECGKafka
import ECGMessaging
import Foundation
import Testing

@Suite("Transactional outbox", .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_PG_URL"] != nil), .timeLimit(.minutes(3)))
struct OutboxTests {
    @Test("an event committed before a crash is published exactly once by the next relay, with SPEC.md's envelope, key and headers")
    func survivesCrash() async throws {
        try await MessagingFixture.with { fixture in
            // No relay is running: as if the process died right after the commit.
            let events = try await fixture.enqueue(1, keys: ["job-1"], topic: "outbox.crash")
            #expect(try await fixture.count("SELECT count(*) FROM $schema.outbox WHERE published_at IS NULL") == 1)

            let producer = try KafkaProducer(configuration: fixture.kafka, logger: fixture.logger)
            let relay = OutboxRelay(outbox: fixture.outbox, postgres: fixture.postgres, producer: producer, logger: fixture.logger)
            #expect(try await relay.drain() == 1)
            #expect(try await relay.drain() == 0)

            let messages = try await fixture.read(1, from: "outbox.crash")
            #expect(messages.count == 1)
            let message = try #require(messages.first)
            #expect(message.keyString == "job-1")
            #expect(message.header("ce_id") == events[0].id)
            #expect(message.header("ce_type") == "ecg.analysis.job.progress.v1")
            let envelope = try #require(try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any])
            #expect(envelope["specversion"] as? String == "1.0")
            #expect(envelope["datacontenttype"] as? String == "application/json")
            #expect(envelope["subject"] as? String == "job-1")
            #expect(envelope["source"] as? String == "tests")
            #expect((envelope["time"] as? String)?.hasSuffix("Z") == true)
            #expect((envelope["data"] as? [String: Any])?["job_id"] as? String == events[0].data.jobID.description)
            await producer.shutdown()
        }
    }

    @Test("two relays on one outbox publish every row once, in order per key")
    func twoRelays() async throws {
        try await MessagingFixture.with { fixture in
            try fixture.cluster.createTopic("outbox.pair", partitions: 4)
            let keys = (0..<10).map { "job-\($0)" }
            let events = try await fixture.enqueue(120, keys: keys, topic: "outbox.pair")
            let producers = try (0..<2).map { _ in try KafkaProducer(configuration: fixture.kafka, logger: fixture.logger) }
            let relays = producers.map {
                OutboxRelay(outbox: fixture.outbox, postgres: fixture.postgres, producer: $0, logger: fixture.logger, batchSize: 7)
            }
            let published = try await withThrowingTaskGroup(of: Int.self) { group in
                for relay in relays { group.addTask { try await relay.drain() } }
                return try await group.reduce(0, +)
            }
            #expect(published == 120)
            #expect(try await fixture.count("SELECT count(*) FROM $schema.outbox WHERE published_at IS NULL") == 0)

            let messages = try await fixture.read(120, from: "outbox.pair")
            let ids = messages.compactMap { $0.header("ce_id") }
            #expect(ids.count == 120)
            #expect(Set(ids) == Set(events.map(\.id)))
            for key in keys {
                let sent = events.filter { $0.subject == key }.map(\.id)
                let received = messages.filter { $0.keyString == key }.sorted { $0.offset < $1.offset }.compactMap { $0.header("ce_id") }
                #expect(received == sent, "order of \(key)")
            }
            for producer in producers { await producer.shutdown() }
        }
    }

    @Test("a running relay is woken by the commit, not by its poll")
    func wokenByNotify() async throws {
        try await MessagingFixture.with { fixture in
            let producer = try KafkaProducer(configuration: fixture.kafka, logger: fixture.logger)
            // A poll interval far beyond the test's patience: only LISTEN/NOTIFY can wake it in time.
            let relay = OutboxRelay(
                outbox: fixture.outbox,
                postgres: fixture.postgres,
                producer: producer,
                logger: fixture.logger,
                pollInterval: .seconds(300)
            )
            let running = Task { try await relay.run() }
            try await Task.sleep(for: .seconds(1))
            try await fixture.enqueue(1, keys: ["job-n"], topic: "outbox.notify")
            let started = ContinuousClock.now
            try await eventually(within: 5, "the row is published") {
                try await fixture.count("SELECT count(*) FROM $schema.outbox WHERE published_at IS NOT NULL") == 1
            }
            #expect(ContinuousClock.now - started < .seconds(5))
            running.cancel()
            _ = try? await running.value
            await producer.shutdown()
        }
    }
}

@Suite("Outbox while Kafka is unreachable", .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_PG_URL"] != nil), .timeLimit(.minutes(2)))
struct OutboxKafkaDownTests {
    @Test("an undeliverable row stays pending with its error, and is published once Kafka is reachable")
    func staysPending() async throws {
        try await MessagingFixture.with { fixture in
            let events = try await fixture.enqueue(1, keys: ["job-r"], topic: "outbox.unreachable")
            // Nothing listens on port 1: every delivery times out after 2 s.
            let unreachable = try KafkaProducer(
                configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1", properties: ["message.timeout.ms": "2000"]),
                logger: fixture.logger,
                flushTimeoutMilliseconds: 100
            )
            let stranded = OutboxRelay(outbox: fixture.outbox, postgres: fixture.postgres, producer: unreachable, logger: fixture.logger)
            #expect(try await stranded.drain() == 0)
            #expect(
                try await fixture.count("SELECT count(*) FROM $schema.outbox WHERE published_at IS NULL AND attempts = 1 AND last_error IS NOT NULL")
                    == 1
            )
            await unreachable.shutdown()

            let producer = try KafkaProducer(configuration: fixture.kafka, logger: fixture.logger)
            let relay = OutboxRelay(outbox: fixture.outbox, postgres: fixture.postgres, producer: producer, logger: fixture.logger)
            #expect(try await relay.drain() == 1)
            let messages = try await fixture.read(1, from: "outbox.unreachable")
            #expect(messages.compactMap { $0.header("ce_id") } == [events[0].id])
            await producer.shutdown()
        }
    }
}
