import ECGDatabase
import ECGEvents
import ECGKafka
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// A consumed event: its envelope attributes, with the payload decoded on demand.
package struct ReceivedEvent: Sendable {
    package let header: CloudEventHeader
    package let message: KafkaMessage

    package init(message: KafkaMessage) throws {
        self.message = message
        self.header = try EventCoding.decoder().decode(CloudEventHeader.self, from: Data(message.value))
        guard header.specversion == "1.0" else { throw EventRejected("unsupported CloudEvents specversion \(header.specversion)") }
    }

    package func decode<Payload>(_ type: Payload.Type) throws -> CloudEvent<Payload> {
        try EventCoding.decoder().decode(CloudEvent<Payload>.self, from: Data(message.value))
    }
}

/// Thrown by a handler when something it needs outside PostgreSQL (S3, another service) is away:
/// the event is retried, never dead-lettered, however long that takes.
package struct RetryLater: Error, CustomStringConvertible {
    package let reason: String
    package init(_ reason: String) { self.reason = reason }
    package var description: String { reason }
}

/// Thrown by a handler for an event that can never be processed; the event goes to the DLQ.
package struct EventRejected: Error, CustomStringConvertible {
    package let reason: String
    package init(_ reason: String) { self.reason = reason }
    package var description: String { reason }
}

/// Runs a handler for an event inside a PostgreSQL transaction that also records the event id in
/// `processed_events`; an id seen before is skipped, so redelivery never applies an event twice.
package struct IdempotentEventProcessor: Sendable {
    package enum Outcome: Sendable, Equatable { case processed, duplicate }
    package typealias Handler = @Sendable (ReceivedEvent, PostgresConnection) async throws -> Void

    private let schema: SchemaName
    private let postgres: PostgresClient
    private let logger: Logger
    private let handler: Handler

    package init(schema: SchemaName, postgres: PostgresClient, logger: Logger, handler: @escaping Handler) {
        self.schema = schema
        self.postgres = postgres
        self.logger = logger
        self.handler = handler
    }

    /// Decoding errors and `EventRejected` mean the message is bad; other errors may be transient.
    package func process(_ message: KafkaMessage) async throws -> Outcome {
        let event = try ReceivedEvent(message: message)
        let schema = self.schema
        let logger = self.logger
        let handler = self.handler
        do {
            return try await postgres.withTransaction(logger: logger) { connection -> Outcome in
                let inserted = try await connection.query(
                    """
                    INSERT INTO \(unescaped: schema.rawValue).processed_events (event_id, topic)
                    VALUES (\(event.header.id), \(message.topic)) ON CONFLICT DO NOTHING RETURNING 1
                    """,
                    logger: logger
                ).collect()
                guard !inserted.isEmpty else { return .duplicate }
                try await handler(event, connection)
                return .processed
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }
}

/// Consumes a topic through an `IdempotentEventProcessor`: commits each offset only after the event's
/// transaction committed, sends what cannot be processed to `<topic>.dlq` with an `error` header and
/// goes on, and retries (without committing) while PostgreSQL is unreachable.
package final class IdempotentConsumer: Service, Sendable {
    private let consumer: KafkaConsumer
    private let processor: IdempotentEventProcessor
    private let deadLetters: KafkaProducer
    private let logger: Logger
    private let maxAttempts: Int

    /// - Parameter topics: the topics consumed, whose `events_dead_lettered_total` series are
    ///   exported at zero from the start (Prometheus convention: no series that appears late).
    package init(
        consumer: KafkaConsumer,
        processor: IdempotentEventProcessor,
        deadLetters: KafkaProducer,
        logger: Logger,
        topics: [String] = [],
        maxAttempts: Int = 5
    ) {
        Self.registerFailureCounters(topics: topics)
        self.consumer = consumer
        self.processor = processor
        self.deadLetters = deadLetters
        self.logger = logger
        self.maxAttempts = maxAttempts
    }

    /// Registers `events_dead_lettered_total{topic}` for each topic at zero. Idempotent.
    package static func registerFailureCounters(topics: [String]) {
        for topic in topics {
            _ = Counter(label: "events_dead_lettered_total", dimensions: [("topic", topic)])
        }
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            for await message in consumer.messages {
                await handle(message)
            }
        } onGracefulShutdown: {
            self.consumer.stop()
        }
        await consumer.close()
    }

    /// Processes one message to an end state (processed, duplicate or dead-lettered), then commits it.
    func handle(_ message: KafkaMessage) async {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let outcome = try await processor.process(message)
                Counter(label: "events_consumed_total", dimensions: [("topic", message.topic), ("outcome", "\(outcome)")]).increment()
                break
            } catch let error where Self.isBadMessage(error) || (!Self.isTransient(error) && attempt >= maxAttempts) {
                await deadLetter(message, reason: "\(error)")
                break
            } catch {
                if consumer.isStopping { return }  // leave it uncommitted; the next owner of the partition gets it
                let delay = Duration.milliseconds(min(200 * (1 << min(attempt, 5)), 5_000))
                logger.warning(
                    "event processing failed; retrying",
                    metadata: ["topic": "\(message.topic)", "offset": "\(message.offset)", "error": "\(error)"]
                )
                try? await Task.sleep(for: delay)
            }
        }
        do {
            try await consumer.commit(message)
        } catch {
            // A revoked partition or shutdown: the next owner sees the message again and skips it as a duplicate.
            logger.info("offset commit failed", metadata: ["topic": "\(message.topic)", "offset": "\(message.offset)", "error": "\(error)"])
        }
    }

    private func deadLetter(_ message: KafkaMessage, reason: String) async {
        let topic = Topics.deadLetter(for: message.topic)
        logger.warning(
            "sending event to the dead-letter topic",
            metadata: ["topic": "\(topic)", "offset": "\(message.offset)", "reason": "\(reason)"]
        )
        var headers = message.headers.filter { $0.key != EventHeader.error }
        headers.append(KafkaHeader(key: EventHeader.error, value: String(reason.prefix(1_000))))
        while true {
            do {
                try await deadLetters.send(topic: topic, key: message.keyString, value: message.value, headers: headers)
                Counter(label: "events_dead_lettered_total", dimensions: [("topic", message.topic)]).increment()
                return
            } catch {
                if consumer.isStopping { return }
                logger.error("could not write to the dead-letter topic; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    static func isBadMessage(_ error: any Error) -> Bool {
        error is DecodingError || error is EventRejected
    }

    /// Connection-level PostgreSQL failures pass; SQL errors and handler bugs do not.
    static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.serverInfo == nil }
        return error is PostgresTransactionError || error is RetryLater
    }
}
