import ECGEvents
import ECGKafka
import ECGMessaging
import Foundation
import Synchronization
import Testing

@Suite("Idempotent consumer", .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_PG_URL"] != nil), .timeLimit(.minutes(3)))
struct IdempotentConsumerTests {
    private func event(_ key: String, progress: Int) throws -> (id: String, bytes: [UInt8]) {
        let event = CloudEvent(
            source: "tests",
            type: EventType.jobProgress,
            subject: key,
            data: JobProgress(jobID: JobID(), progress: progress, stage: "s")
        )
        return (event.id, Array(try EventCoding.encoder().encode(event)))
    }

    @Test("two consumers in one group split the partitions and together apply every event once")
    func twoConsumersSplitPartitions() async throws {
        try await MessagingFixture.with { fixture in
            try fixture.cluster.createTopic("group.split", partitions: 4)
            let producer = try KafkaProducer(configuration: fixture.kafka, logger: fixture.logger)
            let partitionsSeen = Mutex<[Int: Set<Int32>]>([:])
            var services: [IdempotentConsumer] = []
            for index in 0..<2 {
                let consumer = try await KafkaConsumer(
                    configuration: fixture.consumerKafka,
                    groupID: "split",
                    topics: ["group.split"],
                    logger: fixture.logger
                )
                let recording = fixture.recordingHandler
                let processor = fixture.processor { event, connection in
                    partitionsSeen.withLock { _ = $0[index, default: []].insert(event.message.partition) }
                    try await recording(event, connection)
                }
                services.append(IdempotentConsumer(consumer: consumer, processor: processor, deadLetters: producer, logger: fixture.logger))
            }
            let running = services.map { service in Task { try await service.run() } }
            try await Task.sleep(for: .seconds(8))  // both members join and the group settles

            var ids: [String] = []
            for index in 0..<80 {
                let (id, bytes) = try event("job-\(index % 16)", progress: index)
                ids.append(id)
                try await producer.send(topic: "group.split", key: "job-\(index % 16)", value: bytes)
            }
            try await eventually(within: 40, "every event is applied") { try await fixture.count("SELECT count(*) FROM $schema.applied") >= 80 }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await fixture.count("SELECT count(*) FROM $schema.applied") == 80)
            #expect(try await fixture.count("SELECT count(DISTINCT event_id) FROM $schema.applied") == 80)
            let seen = partitionsSeen.withLock { $0 }
            #expect(seen[0]?.isEmpty == false && seen[1]?.isEmpty == false, "both members got partitions: \(seen)")
            #expect(seen[0, default: []].isDisjoint(with: seen[1, default: []]), "no partition was consumed by both: \(seen)")
            for task in running { task.cancel() }
            await producer.shutdown()
        }
    }

    @Test("a consumer killed after its transaction but before its commit: the next one reprocesses nothing and loses nothing")
    func crashBeforeCommit() async throws {
        try await MessagingFixture.with { fixture in
            try fixture.cluster.createTopic("crash.commit", partitions: 1)
            let producer = try KafkaProducer(configuration: fixture.kafka, logger: fixture.logger)
            let first = try event("job-1", progress: 10)
            let second = try event("job-1", progress: 20)
            try await producer.send(topic: "crash.commit", key: "job-1", value: first.bytes)
            try await producer.send(topic: "crash.commit", key: "job-1", value: second.bytes)

            // The first consumer applies the first event and dies before committing its offset.
            let doomed = try await KafkaConsumer(
                configuration: fixture.consumerKafka,
                groupID: "crashy",
                topics: ["crash.commit"],
                logger: fixture.logger
            )
            let message = try #require(try await collect(1, from: doomed, within: 20).first)
            #expect(try await fixture.processor().process(message) == .processed)
            await doomed.close()

            // Its successor sees the first event again, skips it, and applies the second.
            let successor = try await KafkaConsumer(
                configuration: fixture.consumerKafka,
                groupID: "crashy",
                topics: ["crash.commit"],
                logger: fixture.logger
            )
            let service = IdempotentConsumer(consumer: successor, processor: fixture.processor(), deadLetters: producer, logger: fixture.logger)
            let running = Task { try await service.run() }
            try await eventually(within: 30, "the second event is applied") { try await fixture.count("SELECT count(*) FROM $schema.applied") == 2 }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await fixture.count("SELECT count(*) FROM $schema.applied") == 2)
            #expect(try await fixture.count("SELECT count(*) FROM $schema.processed_events") == 2)
            running.cancel()
            await producer.shutdown()
        }
    }

    @Test("a malformed message goes to the .dlq topic with an error header, and the next valid one is processed")
    func deadLetters() async throws {
        try await MessagingFixture.with { fixture in
            try fixture.cluster.createTopic("dlq.source", partitions: 1)
            let producer = try KafkaProducer(configuration: fixture.kafka, logger: fixture.logger)
            try await producer.send(
                topic: "dlq.source",
                key: "job-9",
                value: Array("{not json".utf8),
                headers: [KafkaHeader(key: "ce_id", value: "x")]
            )
            let rejected = try event("job-9", progress: 1)
            try await producer.send(topic: "dlq.source", key: "job-9", value: rejected.bytes)
            let valid = try event("job-9", progress: 2)
            try await producer.send(topic: "dlq.source", key: "job-9", value: valid.bytes)

            let consumer = try await KafkaConsumer(
                configuration: fixture.consumerKafka,
                groupID: "dlq-test",
                topics: ["dlq.source"],
                logger: fixture.logger
            )
            let recording = fixture.recordingHandler
            let processor = fixture.processor { event, connection in
                if event.header.id == rejected.id { throw EventRejected("progress 1 is not allowed here") }
                try await recording(event, connection)
            }
            let service = IdempotentConsumer(consumer: consumer, processor: processor, deadLetters: producer, logger: fixture.logger)
            let running = Task { try await service.run() }
            try await eventually(within: 30, "the valid event is applied") { try await fixture.count("SELECT count(*) FROM $schema.applied") == 1 }

            let parked = try await fixture.read(2, from: "dlq.source.dlq")
            #expect(parked.count == 2)
            #expect(String(decoding: parked.first?.value ?? [], as: UTF8.self) == "{not json")
            #expect(parked.first?.keyString == "job-9")
            #expect(parked.first?.header("ce_id") == "x")
            #expect(parked.allSatisfy { ($0.header("error") ?? "").isEmpty == false })
            #expect(parked.last?.header("error") == "progress 1 is not allowed here")
            running.cancel()
            await producer.shutdown()
        }
    }
}
