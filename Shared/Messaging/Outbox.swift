import ECGDatabase
import ECGEvents
import ECGKafka
import Foundation
import Logging
import PostgresNIO

/// The transactional outbox (SPEC.md §5): events are written in the same PostgreSQL transaction as the
/// state change they announce, and `OutboxRelay` publishes them after the commit.
package struct Outbox: Sendable {
    package let schema: SchemaName

    package init(schema: SchemaName) {
        self.schema = schema
    }

    /// The `LISTEN/NOTIFY` channel that wakes the relay; notifications are delivered at commit.
    package var channel: String { "\(schema)_outbox" }

    /// Adds `event` for `topic`, keyed by its subject, on the caller's transaction connection.
    package func add<Payload>(
        _ event: CloudEvent<Payload>,
        topic: String,
        traceparent: String? = nil,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let payload = try EventCoding.encoder().encode(event)
        var headers = [[EventHeader.id, event.id], [EventHeader.type, event.type]]
        if let traceparent { headers.append([EventHeader.traceparent, traceparent]) }
        let headersJSON = String(decoding: try JSONEncoder().encode(headers), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO \(unescaped: schema.rawValue).outbox (topic, key, payload, headers)
            VALUES (\(topic), \(event.subject), \(ByteBuffer(bytes: payload)), \(headersJSON)::jsonb)
            """,
            logger: logger
        )
        try await connection.query("SELECT pg_notify(\(channel), '')", logger: logger)
    }

    /// Rows not yet acknowledged by Kafka.
    package func backlog(on client: PostgresClient, logger: Logger) async throws -> Int {
        let rows = try await client.query("SELECT count(*) FROM \(unescaped: schema.rawValue).outbox WHERE published_at IS NULL", logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }
}

/// One outbox row on its way to Kafka.
struct OutboxRow: Sendable {
    let id: Int64
    let topic: String
    let key: String
    let payload: [UInt8]
    let headers: [KafkaHeader]
}
