import ECGKafka
import Foundation
import Logging
import Testing

@Suite("librdkafka through the embedded broker", .serialized, .timeLimit(.minutes(2)))
struct KafkaRoundTripTests {
    let logger: Logger = {
        var logger = Logger(label: "kafka-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// The test stack's broker process when `make test` runs, else one in this process.
    private func withBroker(_ body: (String) async throws -> Void) async throws {
        if let brokers = ProcessInfo.processInfo.environment["ECG_TEST_KAFKA_BROKERS"] {
            try await body(brokers)
            return
        }
        let cluster = try KafkaMockCluster(logger: logger)
        do {
            try await body(cluster.bootstrapServers)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    private func uniqueTopic() -> String { "test.roundtrip.\(UUID().uuidString.prefix(8))" }

    /// Reads until `count` messages arrived or the deadline passed.
    private func receive(_ count: Int, from consumer: KafkaConsumer, commit: Bool, within seconds: Double = 30) async throws -> [KafkaMessage] {
        try await withThrowingTaskGroup(of: [KafkaMessage].self) { group in
            group.addTask {
                var received: [KafkaMessage] = []
                for await message in consumer.messages {
                    received.append(message)
                    if commit { try await consumer.commit(message) }
                    if received.count == count { break }
                }
                return received
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return []
            }
            let first = try await group.next() ?? []
            group.cancelAll()
            return first
        }
    }

    @Test("a message produced through librdkafka is acknowledged and consumed back with key, value and headers")
    func roundTrip() async throws {
        try await withBroker { brokers in
            let configuration = KafkaConfiguration(bootstrapServers: brokers)
            let topic = uniqueTopic()
            let producer = try KafkaProducer(configuration: configuration, logger: logger)
            let report = try await producer.send(
                topic: topic,
                key: "job-1",
                value: Array(#"{"hello":"kafka"}"#.utf8),
                headers: [KafkaHeader(key: "ce_id", value: "e-1"), KafkaHeader(key: "ce_type", value: "ecg.test.v1")]
            )
            #expect(report.topic == topic)
            #expect(report.offset >= 0)

            let consumer = try await KafkaConsumer(configuration: configuration, groupID: "test-\(topic)", topics: [topic], logger: logger)
            let messages = try await receive(1, from: consumer, commit: true)
            let message = try #require(messages.first)
            #expect(message.keyString == "job-1")
            #expect(String(decoding: message.value, as: UTF8.self) == #"{"hello":"kafka"}"#)
            #expect(message.header("ce_id") == "e-1")
            #expect(message.header("ce_type") == "ecg.test.v1")
            #expect(message.offset == report.offset)
            await consumer.close()
            await producer.shutdown()
        }
    }

    @Test("committed messages are not redelivered to the next consumer of the group; uncommitted ones are")
    func commitsAreHonoured() async throws {
        try await withBroker { brokers in
            // librdkafka's mock broker rebalances a group only after the departed member's session
            // times out, even when it left cleanly; a short session keeps the hand-over quick.
            let configuration = KafkaConfiguration(
                bootstrapServers: brokers,
                properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
            )
            let topic = uniqueTopic()
            let group = "test-group-\(topic)"
            let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: brokers), logger: logger)
            for index in 0..<3 {
                try await producer.send(topic: topic, key: "k", value: Array("m\(index)".utf8))
            }

            let first = try await KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
            let firstBatch = try await receive(2, from: first, commit: true)
            #expect(firstBatch.map { String(decoding: $0.value, as: UTF8.self) } == ["m0", "m1"])
            await first.close()

            let second = try await KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
            let secondBatch = try await receive(1, from: second, commit: false)
            #expect(secondBatch.map { String(decoding: $0.value, as: UTF8.self) } == ["m2"])
            await second.close()

            let third = try await KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
            let thirdBatch = try await receive(1, from: third, commit: true)
            #expect(thirdBatch.map { String(decoding: $0.value, as: UTF8.self) } == ["m2"])
            await third.close()
            await producer.shutdown()
        }
    }

    @Test("sending after shutdown fails with .shutdown instead of hanging or crashing")
    func sendAfterShutdown() async throws {
        try await withBroker { brokers in
            let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: brokers), logger: logger)
            await producer.shutdown()
            await producer.shutdown()
            await #expect(throws: KafkaError.self) {
                try await producer.send(topic: uniqueTopic(), key: nil, value: [1])
            }
        }
    }

    @Test("an invalid librdkafka property is reported by name")
    func invalidProperty() throws {
        let configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", properties: ["no.such.property": "1"])
        let error = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: configuration, logger: logger) }
        #expect(error?.message.contains("no.such.property") == true)
    }
}
