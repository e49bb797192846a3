/// A message header: Kafka allows repeated keys, so headers are an ordered list.
public struct KafkaHeader: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]

    public init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value
    }

    public init(key: String, value: String) {
        self.init(key: key, value: Array(value.utf8))
    }
}

/// Where the broker stored a produced message.
public struct KafkaDeliveryReport: Sendable, Equatable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
}

/// A consumed message, copied out of librdkafka's memory.
public struct KafkaMessage: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    public let value: [UInt8]
    public let headers: [KafkaHeader]

    /// The first header with this key, decoded as UTF-8.
    public func header(_ key: String) -> String? {
        headers.first { $0.key == key }.map { String(decoding: $0.value, as: UTF8.self) }
    }

    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}

extension Array where Element == KafkaHeader {
    /// The first header with this key, decoded as UTF-8.
    public subscript(key: String) -> String? {
        first { $0.key == key }.map { String(decoding: $0.value, as: UTF8.self) }
    }
}
