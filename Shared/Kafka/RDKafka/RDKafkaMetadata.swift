import CRDKafka

enum RDKafkaMetadata {
    /// Blocks up to `timeoutMilliseconds` for a metadata answer from any broker.
    static func check(handle: OpaquePointer, timeoutMilliseconds: Int32) throws(KafkaError) {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(handle, 0, nil, &metadata, timeoutMilliseconds)
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(responseCode: result, context: "no Kafka broker answered")
        }
    }
}
