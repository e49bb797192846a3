import ECGEvents
import ECGKafka

/// Sends one event straight to Kafka (no outbox), for programs without a database such as ML workers:
/// key = subject, headers `ce_id`, `ce_type` (and `traceparent` when given).
package struct EventPublisher: Sendable {
    package let producer: KafkaProducer

    package init(producer: KafkaProducer) {
        self.producer = producer
    }

    package func publish<Payload>(_ event: CloudEvent<Payload>, topic: String, traceparent: String? = nil) async throws {
        var headers = [KafkaHeader(key: EventHeader.id, value: event.id), KafkaHeader(key: EventHeader.type, value: event.type)]
        if let traceparent { headers.append(KafkaHeader(key: EventHeader.traceparent, value: traceparent)) }
        try await producer.send(topic: topic, key: event.subject, value: Array(try EventCoding.encoder().encode(event)), headers: headers)
    }
}
