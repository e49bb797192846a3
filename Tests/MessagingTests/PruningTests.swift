import ECGMessaging
import Foundation
import PostgresNIO
import Testing

@Suite(
    "Pruning the outbox and processed events (L10)",
    .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_PG_URL"] != nil),
    .timeLimit(.minutes(2))
)
struct PruningTests {
    @Test("published outbox rows older than the retention and old processed events are deleted; pending and recent rows stay")
    func prunesOldRows() async throws {
        try await MessagingFixture.with { fixture in
            let s = fixture.schema.rawValue
            let setup = [
                // published 10 days ago: pruned
                "INSERT INTO \(s).outbox (topic, key, payload, published_at) VALUES ('t', 'old', '\\x00', now() - interval '10 days')",
                // published 1 day ago: kept
                "INSERT INTO \(s).outbox (topic, key, payload, published_at) VALUES ('t', 'recent', '\\x00', now() - interval '1 day')",
                // never published, created 30 days ago: kept (it is still owed to Kafka)
                "INSERT INTO \(s).outbox (topic, key, payload, created_at) VALUES ('t', 'pending', '\\x00', now() - interval '30 days')",
                "INSERT INTO \(s).processed_events (event_id, topic, processed_at) VALUES ('e-old', 't', now() - interval '20 days')",
                "INSERT INTO \(s).processed_events (event_id, topic, processed_at) VALUES ('e-new', 't', now() - interval '2 days')",
            ]
            for sql in setup { try await fixture.postgres.query(PostgresQuery(unsafeSQL: sql), logger: fixture.logger) }
            let pruner = MessagingPruner(schema: fixture.schema, postgres: fixture.postgres, logger: fixture.logger, batchSize: 1)
            let result = try await pruner.prune()
            #expect(result == MessagingPruner.Result(outboxRows: 1, processedEvents: 1))
            #expect(try await fixture.count("SELECT count(*) FROM $schema.outbox WHERE key IN ('recent', 'pending')") == 2)
            #expect(try await fixture.count("SELECT count(*) FROM $schema.outbox") == 2)
            #expect(try await fixture.count("SELECT count(*) FROM $schema.processed_events WHERE event_id = 'e-new'") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM $schema.processed_events") == 1)
            // A second run finds nothing more.
            #expect(try await pruner.prune() == MessagingPruner.Result(outboxRows: 0, processedEvents: 0))
        }
    }
}
