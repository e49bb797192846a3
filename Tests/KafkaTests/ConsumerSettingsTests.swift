import ECGKafka
import Testing

@Suite("Consumer settings")
struct ConsumerSettingsTests {
    @Test("a consumer may hold one message for longer than a job may run (max.poll.interval.ms ≥ JOB_TIMEOUT_SECONDS)")
    func maxPollInterval() throws {
        let properties = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092").consumerProperties
        let interval = try #require(properties["max.poll.interval.ms"].flatMap(Int.init))
        // analysis-service's default job timeout (JOB_TIMEOUT_SECONDS=1800); librdkafka's 300 s
        // evicted a worker in the middle of a long job (deploy review M1).
        #expect(interval >= 1_800_000)
        // librdkafka refuses a poll interval below the session timeout.
        #expect(interval >= Int(properties["session.timeout.ms"] ?? "10000")!)
        #expect(properties["fetch.wait.max.ms"] == "100")
    }

    @Test("explicit librdkafka properties win over the typed consumer settings")
    func explicitWins() {
        let configuration = KafkaConfiguration(bootstrapServers: "b:9092", properties: ["max.poll.interval.ms": "600000"])
        #expect(configuration.consumerProperties["max.poll.interval.ms"] == "600000")
        #expect(configuration.consumerProperties["bootstrap.servers"] == "b:9092")
    }
}
