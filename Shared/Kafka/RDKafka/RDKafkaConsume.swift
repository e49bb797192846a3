import CRDKafka

/// Blocking consumer calls; each is run on the client's dedicated queue.
enum RDKafkaConsume {
    static func subscribe(handle: OpaquePointer, topics: [String]) throws(KafkaError) {
        rd_kafka_poll_set_consumer(handle)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let result = rd_kafka_subscribe(handle, list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(responseCode: result, context: "could not subscribe to \(topics.joined(separator: ","))")
        }
    }

    enum PollResult {
        case message(KafkaMessage)
        case nothing
        case error(KafkaError)
    }

    /// Waits up to `timeoutMilliseconds` for one message, copies it into Swift values and frees it.
    static func poll(handle: OpaquePointer, timeoutMilliseconds: Int32) -> PollResult {
        guard let raw = rd_kafka_consumer_poll(handle, timeoutMilliseconds) else { return .nothing }
        defer { rd_kafka_message_destroy(raw) }
        let message = raw.pointee
        switch message.err {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            break
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
            return .nothing
        default:
            return .error(KafkaError(responseCode: message.err, context: "consume failed"))
        }
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
        return .message(
            KafkaMessage(
                topic: message.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
                partition: message.partition,
                offset: message.offset,
                key: key,
                value: value,
                headers: headers(of: raw)
            )
        )
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var cHeaders: OpaquePointer?
        guard rd_kafka_message_headers(message, &cHeaders) == RD_KAFKA_RESP_ERR_NO_ERROR, let cHeaders else { return [] }
        var result: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(cHeaders, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            result.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes))
            index += 1
        }
        return result
    }

    /// Commits `offset + 1` for the message's partition, synchronously.
    static func commit(handle: OpaquePointer, topic: String, partition: Int32, offset: Int64) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(1)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_topic_partition_list_add(list, topic, partition).pointee.offset = offset + 1
        let result = rd_kafka_commit(handle, list, 0)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(responseCode: result, context: "offset commit failed for \(topic)[\(partition)]@\(offset)")
        }
    }

    static func close(handle: OpaquePointer) {
        _ = rd_kafka_consumer_close(handle)
    }
}
