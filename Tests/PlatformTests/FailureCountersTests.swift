import ECGDatabase
import ECGKafka
import ECGMessaging
import ECGPlatform
import Foundation
import Logging
import PostgresNIO
import Testing

/// Failure counters exist at zero from start (Prometheus convention: a series that appears only
/// after the first failure breaks `rate()` and the alerts built on it).
@Suite("Kafka failure counters are exported at zero from start")
struct FailureCountersTests {
    @Test("a new producer and consumer put kafka_messages_failed_total and events_dead_lettered_total on /metrics before any failure")
    func countersStartAtZero() async throws {
        _ = MetricsSetup.bootstrap()
        var logger = Logger(label: "failure-counters")
        logger.logLevel = .critical
        let cluster = try KafkaMockCluster(logger: logger)
        let configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let topic = "counters-\(UUID().uuidString.prefix(8).lowercased())"
        try cluster.createTopic(topic, partitions: 1)
        let consumer = try await KafkaConsumer(configuration: configuration, groupID: "counters-\(UUID())", topics: [topic], logger: logger)
        let postgres = PostgresClient(
            configuration: .init(host: "127.0.0.1", port: 1, username: "none", password: nil, database: nil, tls: .disable),
            backgroundLogger: logger
        )
        _ = IdempotentConsumer(
            consumer: consumer,
            processor: IdempotentEventProcessor(schema: try SchemaName("counters"), postgres: postgres, logger: logger) { _, _ in },
            deadLetters: producer,
            logger: logger,
            topics: [topic]
        )
        let metrics = MetricsSetup.render()
        let lines = metrics.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("kafka_messages_failed_total ") }, "\(metrics)")
        #expect(lines.contains("events_dead_lettered_total{topic=\"\(topic)\"} 0"), "\(metrics)")
        await consumer.close()
        await producer.shutdown()
        await cluster.shutdown()
    }
}
