import Logging
import PostgresNIO

/// Applies a service's numbered migrations to its own schema, all pending ones in one transaction (so a
/// failed migration leaves the schema as it was),
/// recorded in `<schema>.schema_migrations`, under a transaction-scoped advisory lock so that
/// replicas starting together apply each migration exactly once. Each applied migration's SHA-256
/// is recorded; a file edited after it was applied is refused at start, not discovered later as
/// a missing column.
package struct MigrationRunner: Sendable {
    package let schema: String
    package let migrations: [Migration]

    package init(schema: String, migrations: [Migration]) throws {
        self.schema = try SchemaName(schema).rawValue
        self.migrations = migrations
    }

    /// Applies what is missing; returns the versions applied by this call.
    @discardableResult
    package func run(on client: PostgresClient, logger: Logger) async throws -> [Int] {
        // The schema name was validated as a `SchemaName` in init; identifiers cannot be bound parameters.
        let schema = self.schema
        let lockKey = "ecg.migrations.\(schema)"
        do {
            return try await apply(on: client, schema: schema, lockKey: lockKey, logger: logger)
        } catch let error as PostgresTransactionError {
            // Report what went wrong inside the transaction, not the wrapper.
            throw error.closureError ?? error
        }
    }

    private func apply(on client: PostgresClient, schema: String, lockKey: String, logger: Logger) async throws -> [Int] {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(lockKey)))", logger: logger)
            let exists =
                try await connection.query("SELECT 1 FROM pg_namespace WHERE nspname = \(schema)", logger: logger)
                .collect().isEmpty == false
            if !exists {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"), logger: logger)
            }
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                            version integer PRIMARY KEY,
                            name text NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now(),
                            checksum text
                        )
                        """
                ),
                logger: logger
            )
            // Tables written before checksums were recorded.
            try await connection.query(
                PostgresQuery(unsafeSQL: "ALTER TABLE \(schema).schema_migrations ADD COLUMN IF NOT EXISTS checksum text"),
                logger: logger
            )
            var appliedChecksums: [Int: String?] = [:]
            for try await (version, checksum) in try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT version, checksum FROM \(schema).schema_migrations"),
                logger: logger
            ).decode((Int, String?).self) {
                appliedChecksums[version] = checksum
            }
            let applied = Set(appliedChecksums.keys)
            let known = Set(migrations.map(\.version))
            // Versions above every one this build knows were applied by a newer release: the
            // database is ahead (a rollback, or old tasks still running during a rolling deploy).
            // Migrations are expand/contract (docs/deployment.md), so this build still works
            // against it: warn and go on, as Flyway's ignoreFutureMigrations does. An unknown
            // version below the newest known one is no release's history: refuse it.
            let highestKnown = known.max() ?? 0
            let unknown = applied.subtracting(known)
            if let stray = unknown.filter({ $0 < highestKnown }).max() {
                throw MigrationError.unknownAppliedVersion(stray)
            }
            if let newest = unknown.max() {
                if let missing = known.subtracting(applied).min() {
                    throw MigrationError.outOfOrder(version: missing, newerApplied: newest)
                }
                logger.warning(
                    "the database has migrations this build does not know (applied by a newer release); continuing",
                    metadata: ["schema": "\(schema)", "future_versions": "\(unknown.sorted())", "newest_known": "\(highestKnown)"]
                )
            }
            for migration in migrations {
                guard let recorded = appliedChecksums[migration.version] else { continue }
                if let recorded {
                    guard recorded == migration.checksum else {
                        throw MigrationError.changedAfterApplied(version: migration.version, name: migration.name, schema: schema)
                    }
                } else {
                    // Recorded before checksums existed: trust it and record the file as it is now.
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: "UPDATE \(schema).schema_migrations SET checksum = $1 WHERE version = $2",
                            binds: try Self.binds(migration.checksum, migration.version)
                        ),
                        logger: logger
                    )
                }
            }
            var newlyApplied: [Int] = []
            try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(schema)"), logger: logger)
            for migration in migrations where !applied.contains(migration.version) {
                logger.info("applying migration", metadata: ["schema": "\(schema)", "version": "\(migration.version)", "name": "\(migration.name)"])
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "INSERT INTO \(schema).schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        binds: try Self.binds(migration.version, migration.name, migration.checksum)
                    ),
                    logger: logger
                )
                newlyApplied.append(migration.version)
            }
            return newlyApplied
        }
    }

    private static func binds(_ values: any PostgresEncodable & Sendable...) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { try bindings.append(value) }
        return bindings
    }
}
