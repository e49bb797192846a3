import ECGDatabase
import Foundation
import Logging
import PostgresNIO
import Testing

/// Needs the test stack's PostgreSQL (`make test` exports `ECG_TEST_PG_URL`).
@Suite("Migration runner", .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_PG_URL"] != nil), .timeLimit(.minutes(2)))
struct MigrationRunnerTests {
    let logger = Logger(label: "migration-tests")

    private func withClient(_ body: (PostgresClient) async throws -> Void) async throws {
        let url = try #require(ProcessInfo.processInfo.environment["ECG_TEST_PG_URL"])
        let client = PostgresClient(configuration: try .fromURL(url), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }

    private func uniqueSchema() -> String { "mig_test_\(UUID().uuidString.prefix(8).lowercased())" }

    /// A new schema with `migrations` applied, dropped after `body`.
    private func withMigratedSchema(_ body: (PostgresClient, String) async throws -> Void) async throws {
        try await withClient { client in
            let schema = uniqueSchema()
            try await MigrationRunner(schema: schema, migrations: migrations).run(on: client, logger: logger)
            try await body(client, schema)
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: logger)
        }
    }

    private let migrations = [
        Migration(
            version: 1,
            name: "create_items",
            sql: "CREATE TABLE items (id int PRIMARY KEY, note text);\n-- a comment; with a semicolon\nINSERT INTO items VALUES (1, 'a;b');"
        ),
        Migration(
            version: 2,
            name: "add_function",
            sql:
                "CREATE FUNCTION bump(x int) RETURNS int AS $$ BEGIN RETURN x + 1; END; $$ LANGUAGE plpgsql;\nALTER TABLE items ADD COLUMN extra int;"
        ),
    ]

    @Test("applies numbered migrations once, in order, into the service's own schema")
    func idempotent() async throws {
        try await withClient { client in
            let schema = uniqueSchema()
            let runner = try MigrationRunner(schema: schema, migrations: migrations)
            #expect(try await runner.run(on: client, logger: logger) == [1, 2])
            #expect(try await runner.run(on: client, logger: logger) == [])
            let rows = try await client.query(PostgresQuery(unsafeSQL: "SELECT note FROM \(schema).items"), logger: logger)
            var notes: [String] = []
            for try await note in rows.decode(String.self) { notes.append(note) }
            #expect(notes == ["a;b"])
            let versions = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT version FROM \(schema).schema_migrations ORDER BY version"),
                logger: logger
            )
            var applied: [Int] = []
            for try await version in versions.decode(Int.self) { applied.append(version) }
            #expect(applied == [1, 2])
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: logger)
        }
    }

    @Test("runners started together apply each migration exactly once")
    func concurrent() async throws {
        try await withClient { client in
            let schema = uniqueSchema()
            let runner = try MigrationRunner(schema: schema, migrations: migrations)
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 { group.addTask { try await runner.run(on: client, logger: logger) } }
                var all: [[Int]] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(applied.flatMap { $0 }.sorted() == [1, 2])
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: logger)
        }
    }

    @Test("a failing migration rolls back and leaves nothing recorded")
    func failureRollsBack() async throws {
        try await withClient { client in
            let schema = uniqueSchema()
            let broken = try MigrationRunner(
                schema: schema,
                migrations: [migrations[0], Migration(version: 2, name: "broken", sql: "CREATE TABLE nope (;")]
            )
            await #expect(throws: (any Error).self) { try await broken.run(on: client, logger: logger) }
            let exists = try await client.query("SELECT 1 FROM pg_namespace WHERE nspname = \(schema)", logger: logger).collect()
            #expect(exists.isEmpty)
        }
    }

    @Test("a database one migration ahead of the build is accepted: the previous release starts after a rollback")
    func acceptsFutureVersions() async throws {
        try await withMigratedSchema { client, schema in
            // Release N knows migration 1; release N+1 applied 2. N must start (expand/contract).
            let applied = try await MigrationRunner(schema: schema, migrations: [migrations[0]]).run(on: client, logger: logger)
            #expect(applied.isEmpty)
            // Its own migrations are still checked.
            let edited = Migration(version: 1, name: "create_items", sql: migrations[0].sql + "\nSELECT 1;")
            await #expect(throws: MigrationError.changedAfterApplied(version: 1, name: "create_items", schema: schema)) {
                try await MigrationRunner(schema: schema, migrations: [edited]).run(on: client, logger: logger)
            }
        }
    }

    @Test("an unknown version below the newest known one, or a known one missing under a newer one, is refused")
    func refusesGaps() async throws {
        try await withMigratedSchema { client, schema in
            let third = Migration(version: 3, name: "third", sql: "CREATE TABLE third (x int);")
            // Applied 1, 2; this build knows 1 and 3: 2 is no release's history.
            await #expect(throws: MigrationError.unknownAppliedVersion(2)) {
                try await MigrationRunner(schema: schema, migrations: [migrations[0], third]).run(on: client, logger: logger)
            }
            // Applied 1, 2, 4 (4 from a newer release); this build knows 1, 2, 3: 3 would run after 4.
            try await client.query(
                PostgresQuery(unsafeSQL: "INSERT INTO \(schema).schema_migrations (version, name, checksum) VALUES (4, 'later', 'x')"),
                logger: logger
            )
            await #expect(throws: MigrationError.outOfOrder(version: 3, newerApplied: 4)) {
                try await MigrationRunner(schema: schema, migrations: migrations + [third]).run(on: client, logger: logger)
            }
        }
    }

    @Test("a migration edited after it was applied is refused, naming it")
    func refusesEditedMigration() async throws {
        try await withMigratedSchema { client, schema in
            let edited = Migration(version: 2, name: "add_function", sql: migrations[1].sql + "\nALTER TABLE items ADD COLUMN more int;")
            await #expect(throws: MigrationError.changedAfterApplied(version: 2, name: "add_function", schema: schema)) {
                try await MigrationRunner(schema: schema, migrations: [migrations[0], edited]).run(on: client, logger: logger)
            }
            // The unchanged files still pass.
            let applied = try await MigrationRunner(schema: schema, migrations: migrations).run(on: client, logger: logger)
            #expect(applied.isEmpty)
        }
    }

    @Test("migrations recorded before checksums existed are trusted once and checked from then on")
    func recordsMissingChecksums() async throws {
        try await withMigratedSchema { client, schema in
            try await client.query(PostgresQuery(unsafeSQL: "UPDATE \(schema).schema_migrations SET checksum = NULL"), logger: logger)
            let applied = try await MigrationRunner(schema: schema, migrations: migrations).run(on: client, logger: logger)
            #expect(applied.isEmpty)
            let recorded = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT checksum FROM \(schema).schema_migrations ORDER BY version"),
                logger: logger
            ).collect().map { try $0.decode(String.self) }
            #expect(recorded == migrations.map(\.checksum))
        }
    }
}

@Suite("Migration files")
struct MigrationFileTests {
    @Test("statements split on semicolons outside quotes, comments and dollar-quoted bodies")
    func splitting() {
        let migration = Migration(
            version: 1,
            name: "x",
            sql: "CREATE TABLE a (t text DEFAULT 'x;y'); -- c;\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\n"
        )
        #expect(
            migration.statements == [
                "CREATE TABLE a (t text DEFAULT 'x;y')", "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
            ]
        )
    }

    @Test("files are ordered by version and must be named NNNN_name.sql")
    func loading() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 2".write(to: directory.appendingPathComponent("0002_second.sql"), atomically: true, encoding: .utf8)
        try "SELECT 1".write(to: directory.appendingPathComponent("0001_first.sql"), atomically: true, encoding: .utf8)
        #expect(try Migration.load(from: directory).map(\.name) == ["first", "second"])
        try "SELECT 3".write(to: directory.appendingPathComponent("third.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.badFileName("third.sql")) { try Migration.load(from: directory) }
    }
}
