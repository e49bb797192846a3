import Logging
import PostgresNIO
import Testing

/// The test stack's PostgreSQL, as its superuser (`ECG_TEST_PG_URL`), for tests that insert fixtures
/// or check what is left in a schema.
enum StackDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "stack-database")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a client that lives for the call.
    static func with<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let url = try #require(StackClient.environment["ECG_TEST_PG_URL"])
        let postgres = PostgresClient(configuration: try .fromURL(url), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await postgres.run()
                return nil
            }
            let value = try await body(postgres)
            group.cancelAll()
            return value
        }
    }
}
