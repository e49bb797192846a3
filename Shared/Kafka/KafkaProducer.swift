import CRDKafka
import Logging
import Metrics
import ServiceLifecycle

/// An idempotent producer (`enable.idempotence=true`, `acks=all`).
///
/// `send` returns once the broker acknowledged the message. Each message has its own continuation,
/// resumed exactly once: by the delivery report, by cancellation, or by shutdown.
/// Run it as a `Service`: on graceful shutdown it flushes what is in flight, then closes.
package final class KafkaProducer: Service, Sendable {
    private let client: RDKafkaClient
    private let deliveries: DeliveryRegistry
    private let logger: Logger
    private let flushTimeoutMilliseconds: Int32

    package init(configuration: KafkaConfiguration, logger: Logger, flushTimeoutMilliseconds: Int32 = 8_000) throws {
        let deliveries = DeliveryRegistry()
        var properties = configuration.commonProperties
        properties["enable.idempotence"] = properties["enable.idempotence"] ?? "true"
        properties["acks"] = properties["acks"] ?? "all"
        properties["linger.ms"] = properties["linger.ms"] ?? "2"
        // Give up on a message after 30 s (librdkafka's default is 5 min): the outbox retries it later.
        properties["message.timeout.ms"] = properties["message.timeout.ms"] ?? "30000"
        let context = RDKafkaCallbackContext(logger: logger) { id, result in
            let continuation = deliveries.take(id)
            switch result {
            case .success(let report):
                Counter(label: "kafka_messages_delivered_total", dimensions: [("topic", report.topic)]).increment()
                continuation?.resume(returning: report)
            case .failure(let error):
                Counter(label: "kafka_messages_failed_total").increment()
                continuation?.resume(throwing: error)
            }
        }
        self.client = try RDKafkaClient(kind: .producer, properties: properties, context: context)
        self.deliveries = deliveries
        self.logger = logger
        self.flushTimeoutMilliseconds = flushTimeoutMilliseconds
        Self.registerFailureCounters()
        schedulePoll()
    }

    /// Registers the failure counter at zero, so `/metrics` shows it before the first failure
    /// (a series that appears late breaks `rate()` and alerts). Idempotent.
    package static func registerFailureCounters() {
        _ = Counter(label: "kafka_messages_failed_total")
    }

    /// Sends one message and waits for the broker's acknowledgement.
    @discardableResult
    package func send(topic: String, key: String?, value: [UInt8], headers: [KafkaHeader] = []) async throws -> KafkaDeliveryReport {
        let id = deliveries.makeID()
        let deliveries = self.deliveries
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard !Task.isCancelled else {
                    continuation.resume(throwing: KafkaError(code: .cancelled, message: "send was cancelled"))
                    return
                }
                guard deliveries.register(id, continuation) else {
                    continuation.resume(throwing: KafkaError(code: .shutdown, message: "the producer is shut down"))
                    return
                }
                let outcome: Result<Void, KafkaError> = client.withLockedHandle { handle in
                    guard let handle else { return .failure(KafkaError(code: .shutdown, message: "the producer is shut down")) }
                    return Result { () throws(KafkaError) in
                        try RDKafkaProduce.enqueue(
                            handle: handle,
                            topic: topic,
                            key: key.map { Array($0.utf8) },
                            value: value,
                            headers: headers,
                            messageID: id
                        )
                    }
                }
                switch outcome {
                case .success:
                    Counter(label: "kafka_messages_produced_total", dimensions: [("topic", topic)]).increment()
                case .failure(let error):
                    Counter(label: "kafka_messages_failed_total").increment()
                    deliveries.take(id)?.resume(throwing: error)
                }
            }
        } onCancel: {
            deliveries.take(id)?.resume(throwing: KafkaError(code: .cancelled, message: "send was cancelled; the message may still be delivered"))
        }
    }

    /// Runs until graceful shutdown, then flushes and closes.
    package func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Flushes in-flight messages (bounded by the flush timeout), fails whatever is left, and closes.
    /// Safe to call more than once.
    package func shutdown() async {
        guard deliveries.close() else { return }
        let timeout = flushTimeoutMilliseconds
        let logger = self.logger
        await client.destroy { handle in
            if let problem = RDKafkaProduce.flush(handle: handle, timeoutMilliseconds: timeout) {
                logger.warning("Kafka producer flush did not finish: \(problem)")
            }
        }
        for continuation in deliveries.drain() {
            continuation.resume(throwing: KafkaError(code: .shutdown, message: "the producer shut down before delivery"))
        }
    }

    /// Serves delivery reports: one short poll per work item on the client's own queue,
    /// so that `destroy` can slip in between two polls.
    private func schedulePoll() {
        client.queue.async { [weak self] in
            guard let self, let handle = self.client.currentHandle() else { return }
            RDKafkaProduce.poll(handle: handle, timeoutMilliseconds: 100)
            self.schedulePoll()
        }
    }
}

extension KafkaProducer {
    /// Asks the cluster for its metadata; throws when no broker answers within the timeout.
    /// Used by `/ready`.
    package func checkBrokers(timeoutMilliseconds: Int32 = 1_500) async throws {
        try await client.withHandle { handle throws(KafkaError) in
            try RDKafkaMetadata.check(handle: handle, timeoutMilliseconds: timeoutMilliseconds)
        }
    }
}
