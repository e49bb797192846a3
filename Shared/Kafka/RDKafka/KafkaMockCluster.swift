import CRDKafka
import Logging
import Synchronization

/// librdkafka's own broker implementation (`rdkafka_mock.h`): a real Kafka protocol endpoint on
/// 127.0.0.1 with topics, consumer groups, offsets and headers. Our local and test Kafka.
package final class KafkaMockCluster: @unchecked Sendable {
    private let client: RDKafkaClient
    private let cluster: OpaquePointer
    private let isShutDown = Atomic<Bool>(false)
    /// `host:port,...` for `bootstrap.servers`.
    package let bootstrapServers: String

    package init(brokers: Int = 1, logger: Logger) throws {
        // The mock cluster runs on the threads of a plain client handle, which owns it.
        self.client = try RDKafkaClient(
            kind: .producer,
            properties: ["log.connection.close": "false"],
            context: RDKafkaCallbackContext(logger: logger)
        )
        guard let handle = client.currentHandle(), let cluster = rd_kafka_mock_cluster_new(handle, Int32(brokers)) else {
            throw KafkaError(code: .configuration, message: "librdkafka could not start its mock cluster")
        }
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Creates a topic with an explicit partition count (topics are otherwise auto-created).
    package func createTopic(_ name: String, partitions: Int = 1) throws {
        let result = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), 1)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(responseCode: result, context: "could not create topic \(name)") }
    }

    /// Takes a broker down. Note: librdkafka 2.0.2's mock never accepts connections again after this
    /// (`rd_kafka_mock_broker_set_up` does not reopen its listener), so use it only for "Kafka is gone".
    package func setBrokerDown(_ id: Int32) {
        rd_kafka_mock_broker_set_down(cluster, id)
    }

    /// Delays every response of a broker, e.g. to show that a send waits for the acknowledgement.
    package func setRoundTripTime(broker id: Int32, milliseconds: Int32) {
        rd_kafka_mock_broker_set_rtt(cluster, id, milliseconds)
    }

    /// Makes the next requests of one API fail with these error codes, in order
    /// (Produce is API key 0; codes are Kafka's, e.g. 19 NOT_ENOUGH_REPLICAS, 29 TOPIC_AUTHORIZATION_FAILED).
    package func failNextRequests(apiKey: Int16, withErrors errors: [Int32]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, codes.count, &codes)
    }

    /// Stops the brokers. Call once, after every client using them is closed.
    package func shutdown() async {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        nonisolated(unsafe) let cluster = self.cluster
        await client.destroy { _ in rd_kafka_mock_cluster_destroy(cluster) }
    }

    deinit {
        // librdkafka aborts if the owning handle is destroyed while its mock cluster lives.
        if !isShutDown.load(ordering: .acquiring) { rd_kafka_mock_cluster_destroy(cluster) }
    }
}
