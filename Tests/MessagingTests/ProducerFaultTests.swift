import ECGKafka
import Foundation
import Logging
import Testing

@Suite("Producer delivery against broker faults", .timeLimit(.minutes(2)))
struct ProducerFaultTests {
    let logger: Logger = {
        var logger = Logger(label: "producer-faults")
        logger.logLevel = .critical
        return logger
    }()

    private func read(_ count: Int, topic: String, cluster: KafkaMockCluster) async throws -> [String] {
        let consumer = try await KafkaConsumer(
            configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers),
            groupID: "reader-\(UUID())",
            topics: [topic],
            logger: logger
        )
        let values = try await collect(count, from: consumer, within: 30).map { String(decoding: $0.value, as: UTF8.self) }
        await consumer.close()
        return values
    }

    @Test("send returns only after the broker acknowledged the message")
    func waitsForAcknowledgement() async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        try cluster.createTopic("slow", partitions: 1)
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        try await producer.send(topic: "slow", key: "k", value: Array("warm-up".utf8))
        cluster.setRoundTripTime(broker: 1, milliseconds: 1_500)
        let started = ContinuousClock.now
        let report = try await producer.send(topic: "slow", key: "k", value: Array("slow".utf8))
        #expect(ContinuousClock.now - started >= .milliseconds(1_400))
        #expect(report.offset == 1)
        cluster.setRoundTripTime(broker: 1, milliseconds: 0)
        await producer.shutdown()
        await cluster.shutdown()
    }

    @Test("messages produced while the broker refuses writes are delivered once, in order, when it accepts them again")
    func brokerRecovers() async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        try cluster.createTopic("faults", partitions: 1)
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        try await producer.send(topic: "faults", key: "k", value: Array("before".utf8))
        // NOT_ENOUGH_REPLICAS (19) is retriable: librdkafka keeps the messages and retries.
        cluster.failNextRequests(apiKey: 0, withErrors: Array(repeating: 19, count: 6))
        var reports: [KafkaDeliveryReport] = []
        for index in 0..<5 {
            reports.append(try await producer.send(topic: "faults", key: "k", value: Array("during-\(index)".utf8)))
        }
        #expect(reports.map(\.offset) == [1, 2, 3, 4, 5])
        let values = try await read(6, topic: "faults", cluster: cluster)
        #expect(values == ["before", "during-0", "during-1", "during-2", "during-3", "during-4"])
        await producer.shutdown()
        await cluster.shutdown()
    }

    @Test("a send cancelled while waiting resumes at once with .cancelled, exactly once")
    func cancellation() async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        cluster.setRoundTripTime(broker: 1, milliseconds: 5_000)
        let send = Task { try await producer.send(topic: "cancelled", key: nil, value: [1]) }
        try await Task.sleep(for: .milliseconds(300))
        send.cancel()
        let error = await #expect(throws: KafkaError.self) { try await send.value }
        #expect(error?.code == .cancelled)
        cluster.setRoundTripTime(broker: 1, milliseconds: 0)
        await producer.shutdown()
        await cluster.shutdown()
    }

    @Test("shutdown fails messages still waiting instead of leaving their senders hanging")
    func shutdownWhileWaiting() async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers),
            logger: logger,
            flushTimeoutMilliseconds: 500
        )
        cluster.setBrokerDown(1)
        let send = Task { try await producer.send(topic: "stuck", key: nil, value: [1]) }
        try await Task.sleep(for: .milliseconds(300))
        await producer.shutdown()
        let error = await #expect(throws: KafkaError.self) { try await send.value }
        #expect(error?.code == .shutdown)
        await cluster.shutdown()
    }
}
