import CRDKafka

/// Enqueues one message with `rd_kafka_produceva` (C variadics do not import).
/// librdkafka copies topic, key, value and headers (`RD_KAFKA_MSG_F_COPY`), so nothing here outlives the call.
enum RDKafkaProduce {
    static func enqueue(
        handle: OpaquePointer,
        topic: String,
        key: [UInt8]?,
        value: [UInt8],
        headers: [KafkaHeader],
        messageID: UInt
    ) throws(KafkaError) {
        let cHeaders = rd_kafka_headers_new(headers.count)!
        for header in headers {
            header.value.withUnsafeBytes { bytes in
                _ = rd_kafka_header_add(cHeaders, header.key, header.key.utf8.count, bytes.baseAddress, bytes.count)
            }
        }
        let error: OpaquePointer? = topic.withCString { topicPointer in
            value.withUnsafeBytes { valueBytes in
                (key ?? []).withUnsafeBytes { keyBytes in
                    var arguments = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                    arguments[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    arguments[0].u.cstr = topicPointer
                    arguments[1].vtype = RD_KAFKA_VTYPE_VALUE
                    arguments[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                    arguments[1].u.mem.size = valueBytes.count
                    arguments[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    arguments[2].u.i = RD_KAFKA_MSG_F_COPY
                    arguments[3].vtype = RD_KAFKA_VTYPE_OPAQUE
                    arguments[3].u.ptr = UnsafeMutableRawPointer(bitPattern: messageID)
                    // Ownership of the headers passes to librdkafka only when the call succeeds.
                    arguments[4].vtype = RD_KAFKA_VTYPE_HEADERS
                    arguments[4].u.headers = cHeaders
                    var count = 5
                    if key != nil {
                        arguments[5].vtype = RD_KAFKA_VTYPE_KEY
                        arguments[5].u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                        arguments[5].u.mem.size = keyBytes.count
                        count = 6
                    }
                    return rd_kafka_produceva(handle, &arguments, count)
                }
            }
        }
        if let error {
            rd_kafka_headers_destroy(cHeaders)
            throw KafkaError(consuming: error, context: "could not enqueue a message for \(topic)")
        }
    }

    /// Waits up to `timeoutMilliseconds` for in-flight messages; returns librdkafka's reason when
    /// some are still outstanding.
    static func flush(handle: OpaquePointer, timeoutMilliseconds: Int32) -> String? {
        let result = rd_kafka_flush(handle, timeoutMilliseconds)
        return result == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : String(cString: rd_kafka_err2str(result))
    }

    /// Serves delivery-report callbacks for up to `timeoutMilliseconds`.
    static func poll(handle: OpaquePointer, timeoutMilliseconds: Int32) {
        rd_kafka_poll(handle, timeoutMilliseconds)
    }
}
