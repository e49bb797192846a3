import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction`, rethrowing what the body threw rather than PostgresNIO's wrapper, so that a
    /// domain error thrown inside a transaction reaches the error mapper as itself.
    package func transaction<Result: Sendable>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> Result {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }
}
