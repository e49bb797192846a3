import CRDKafka
import Logging
import Synchronization

/// librdkafka's own broker implementation (`rdkafka_mock.h`): a real Kafka protocol endpoint on
/// 127.0.0.1 with topics, consumer groups, offsets and headers. Our local and test Kafka.
public final class KafkaMockCluster: @unchecked Sendable {
    private let client: RDKafkaClient
    private let cluster: OpaquePointer
    private let isShutDown = Atomic<Bool>(false)
    /// `host:port,...` for `bootstrap.servers`.
    public let bootstrapServers: String

    public init(brokers: Int = 1, logger: Logger) throws {
        // The mock cluster runs on the threads of a plain client handle, which owns it.
        self.client = try RDKafkaClient(
            kind: .producer, properties: ["log.connection.close": "false"], context: RDKafkaCallbackContext(logger: logger))
        guard let handle = client.currentHandle(), let cluster = rd_kafka_mock_cluster_new(handle, Int32(brokers)) else {
            throw KafkaError(code: .configuration, message: "librdkafka could not start its mock cluster")
        }
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Creates a topic with an explicit partition count (topics are otherwise auto-created).
    public func createTopic(_ name: String, partitions: Int = 1) throws {
        let result = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), 1)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(responseCode: result, context: "could not create topic \(name)") }
    }

    /// Takes a broker down or brings it back, to test what clients do when Kafka is unavailable.
    public func setBroker(_ id: Int32, up: Bool) {
        if up { rd_kafka_mock_broker_set_up(cluster, id) } else { rd_kafka_mock_broker_set_down(cluster, id) }
    }

    /// Stops the brokers. Call once, after every client using them is closed.
    public func shutdown() async {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        nonisolated(unsafe) let cluster = self.cluster
        await client.destroy { _ in rd_kafka_mock_cluster_destroy(cluster) }
    }

    deinit {
        // librdkafka aborts if the owning handle is destroyed while its mock cluster lives.
        if !isShutDown.load(ordering: .acquiring) { rd_kafka_mock_cluster_destroy(cluster) }
    }
}
