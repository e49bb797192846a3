import CRDKafka

/// Builds an `rd_kafka_conf_t` from string properties, reporting the first invalid one.
///
/// The returned configuration is owned by the caller until it is handed to `rd_kafka_new`.
enum RDKafkaConfig {
    static func make(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .configuration, message: "librdkafka could not allocate a configuration")
        }
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                let reason = String(decoding: errorBuffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError(code: .configuration, message: "invalid Kafka property \(key): \(reason)")
            }
        }
        return conf
    }

    /// Creates a client handle; takes ownership of `conf` on success and on failure.
    static func makeHandle(type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
        var errorBuffer = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            let reason = String(decoding: errorBuffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(code: .configuration, message: "librdkafka refused the configuration: \(reason)")
        }
        return handle
    }
}

extension KafkaError {
    /// Wraps a librdkafka response code.
    init(responseCode: rd_kafka_resp_err_t, context: String) {
        let description = String(cString: rd_kafka_err2str(responseCode))
        self.init(code: .broker(Int(responseCode.rawValue)), message: "\(context): \(description)")
    }

    /// Wraps and destroys an `rd_kafka_error_t`.
    init(consuming error: OpaquePointer, context: String) {
        let description = String(cString: rd_kafka_error_string(error))
        let code = rd_kafka_error_code(error)
        rd_kafka_error_destroy(error)
        self.init(code: .broker(Int(code.rawValue)), message: "\(context): \(description)")
    }
}
