/// A message header: Kafka allows repeated keys, so headers are an ordered list.
package struct KafkaHeader: Sendable, Equatable {
    package var key: String
    package var value: [UInt8]

    package init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value
    }

    package init(key: String, value: String) {
        self.init(key: key, value: Array(value.utf8))
    }
}

/// Where the broker stored a produced message.
package struct KafkaDeliveryReport: Sendable, Equatable {
    package let topic: String
    package let partition: Int32
    package let offset: Int64
}

/// A consumed message, copied out of librdkafka's memory.
package struct KafkaMessage: Sendable {
    package let topic: String
    package let partition: Int32
    package let offset: Int64
    package let key: [UInt8]?
    package let value: [UInt8]
    package let headers: [KafkaHeader]

    /// The first header with this key, decoded as UTF-8.
    package func header(_ key: String) -> String? {
        headers.first { $0.key == key }.map { String(decoding: $0.value, as: UTF8.self) }
    }

    package var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}

extension Array where Element == KafkaHeader {
    /// The first header with this key, decoded as UTF-8.
    package subscript(key: String) -> String? {
        first { $0.key == key }.map { String(decoding: $0.value, as: UTF8.self) }
    }
}
