import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// A consumer in a consumer group with manual offset commits.
///
/// Read `messages`, process each one, then `commit(_:)` it: a message is redelivered after a crash
/// or a rebalance only if it was not committed. Run it as a `Service`; on graceful shutdown the
/// sequence ends and the consumer leaves its group cleanly.
package final class KafkaConsumer: Service, Sendable {
    private let client: RDKafkaClient
    private let isClosed = Atomic<Bool>(false)
    private let stopRequested = Atomic<Bool>(false)
    private let logger: Logger

    package init(configuration: KafkaConfiguration, groupID: String, topics: [String], logger: Logger) async throws {
        var properties = configuration.consumerProperties
        properties["group.id"] = groupID
        properties["enable.auto.commit"] = "false"
        properties["auto.offset.reset"] = properties["auto.offset.reset"] ?? "earliest"
        properties["enable.partition.eof"] = "false"
        // A dead member's partitions move after 10 s instead of librdkafka's 45 s.
        properties["session.timeout.ms"] = properties["session.timeout.ms"] ?? "10000"
        properties["heartbeat.interval.ms"] = properties["heartbeat.interval.ms"] ?? "3000"
        self.client = try RDKafkaClient(kind: .consumer, properties: properties, context: RDKafkaCallbackContext(logger: logger))
        self.logger = logger
        try await client.withHandle { handle throws(KafkaError) in
            try RDKafkaConsume.subscribe(handle: handle, topics: topics)
        }
    }

    /// The messages of the subscribed topics, in partition order; ends when the consumer closes.
    package var messages: Messages { Messages(consumer: self) }

    /// Marks everything up to and including `message` in its partition as processed.
    package func commit(_ message: KafkaMessage) async throws {
        try await client.withHandle { handle throws(KafkaError) in
            try RDKafkaConsume.commit(handle: handle, topic: message.topic, partition: message.partition, offset: message.offset)
        }
    }

    package func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Ends `messages` after the message in hand, without leaving the group yet; `close()` follows.
    package func stop() {
        stopRequested.store(true, ordering: .releasing)
    }

    /// True once `stop()` or `close()` was called.
    package var isStopping: Bool {
        stopRequested.load(ordering: .acquiring) || isClosed.load(ordering: .acquiring)
    }

    /// Leaves the consumer group and frees the handle. Safe to call more than once.
    package func close() async {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await client.destroy { handle in RDKafkaConsume.close(handle: handle) }
    }

    fileprivate func nextMessage() async -> KafkaMessage? {
        while !isStopping, !Task.isCancelled {
            // One short poll per work item keeps commits and close from waiting behind an idle poll.
            let result = try? await client.withHandle { handle in
                RDKafkaConsume.poll(handle: handle, timeoutMilliseconds: 100)
            }
            switch result {
            case .message(let message):
                Counter(label: "kafka_messages_consumed_total", dimensions: [("topic", message.topic)]).increment()
                return message
            case .error(let error):
                logger.warning("Kafka consumer: \(error.message)")
            case .nothing:
                continue
            case nil:
                return nil
            }
        }
        return nil
    }

    package struct Messages: AsyncSequence, Sendable {
        package typealias Element = KafkaMessage
        let consumer: KafkaConsumer

        package struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            package mutating func next() async -> KafkaMessage? { await consumer.nextMessage() }
        }

        package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }
    }
}
