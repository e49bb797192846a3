import ECGDatabase
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Deletes what the messaging tables no longer need (security review L10): outbox rows published
/// more than `outboxRetention` ago (their payloads hold presigned URLs and personal data at rest)
/// and `processed_events` older than `processedEventsRetention`, which must exceed the broker's
/// retention (Kafka's default is 7 days): an event redelivered after its id was pruned would be
/// applied again. Runs every `interval` on every replica; deletes are batched and idempotent, so
/// replicas running it at once only share the work.
package final class MessagingPruner: Service, Sendable {
    package struct Result: Sendable, Equatable {
        package var outboxRows: Int
        package var processedEvents: Int

        package init(outboxRows: Int, processedEvents: Int) {
            self.outboxRows = outboxRows
            self.processedEvents = processedEvents
        }
    }

    private let schema: SchemaName
    private let postgres: PostgresClient
    private let logger: Logger
    package let outboxRetention: Duration
    package let processedEventsRetention: Duration
    private let interval: Duration
    private let batchSize: Int

    package init(
        schema: SchemaName,
        postgres: PostgresClient,
        logger: Logger,
        outboxRetention: Duration = .seconds(7 * 86_400),
        processedEventsRetention: Duration = .seconds(14 * 86_400),
        interval: Duration = .seconds(3600),
        batchSize: Int = 5_000
    ) {
        self.schema = schema
        self.postgres = postgres
        self.logger = logger
        self.outboxRetention = outboxRetention
        self.processedEventsRetention = processedEventsRetention
        self.interval = interval
        self.batchSize = batchSize
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let result = try await self.prune()
                    if result.outboxRows > 0 || result.processedEvents > 0 {
                        self.logger.info(
                            "pruned messaging tables",
                            metadata: ["outbox": "\(result.outboxRows)", "processed_events": "\(result.processedEvents)"]
                        )
                    }
                } catch {
                    self.logger.warning("pruning messaging tables failed; retrying later", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// Deletes expired rows now, relative to `now` (the database's clock when nil).
    @discardableResult
    package func prune(now: Date? = nil) async throws -> Result {
        let outbox = try await deleteInBatches(
            table: "outbox",
            key: "id",
            condition: "published_at IS NOT NULL AND published_at < ",
            retention: outboxRetention,
            now: now
        )
        let processed = try await deleteInBatches(
            table: "processed_events",
            key: "event_id",
            condition: "processed_at < ",
            retention: processedEventsRetention,
            now: now
        )
        return Result(outboxRows: outbox, processedEvents: processed)
    }

    private func deleteInBatches(table: String, key: String, condition: String, retention: Duration, now: Date?) async throws -> Int {
        let seconds = Double(retention.components.seconds)
        var total = 0
        while true {
            // The cutoff is measured on a test's clock when one is given, else on the database's own.
            let query: PostgresQuery = """
                DELETE FROM \(unescaped: schema.rawValue).\(unescaped: table) WHERE \(unescaped: key) IN (
                    SELECT \(unescaped: key) FROM \(unescaped: schema.rawValue).\(unescaped: table)
                    WHERE \(unescaped: condition)(CASE WHEN \(now == nil) THEN now() ELSE \(now ?? Date())::timestamptz END - make_interval(secs => \(seconds)))
                    LIMIT \(batchSize)
                ) RETURNING 1
                """
            let deleted = try await postgres.query(query, logger: logger).collect().count
            total += deleted
            if deleted < batchSize || Task.isCancelled { return total }
        }
    }
}
