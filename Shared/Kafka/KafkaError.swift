/// An error from the Kafka client, carrying librdkafka's reason.
public struct KafkaError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: Sendable, Equatable {
        /// A property was rejected or a handle could not be created.
        case configuration
        /// librdkafka or the broker answered with this `rd_kafka_resp_err_t` value.
        case broker(Int)
        /// The client was shut down before the operation finished.
        case shutdown
        /// The waiting task was cancelled; the message may still be delivered.
        case cancelled
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "KafkaError(\(code)): \(message)" }
}
