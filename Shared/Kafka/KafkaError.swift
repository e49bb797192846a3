/// An error from the Kafka client, carrying librdkafka's reason.
package struct KafkaError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Code: Sendable, Equatable {
        /// A property was rejected or a handle could not be created.
        case configuration
        /// librdkafka or the broker answered with this `rd_kafka_resp_err_t` value.
        case broker(Int)
        /// The client was shut down before the operation finished.
        case shutdown
        /// The waiting task was cancelled; the message may still be delivered.
        case cancelled
    }

    package let code: Code
    package let message: String

    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "KafkaError(\(code)): \(message)" }
}
