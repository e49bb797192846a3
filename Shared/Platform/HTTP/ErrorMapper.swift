import ECGKafka
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import _ConnectionPoolModule

/// Turns every thrown error into SPEC.md's JSON error body. The one place errors become responses.
///
/// Known errors keep their status and code; anything else is logged with its details and answered
/// with a bare 500, so no stack trace, SQL or internal address reaches a client.
package enum ErrorMapper {
    package static func apiError(for error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as any APIErrorConvertible:
            return error.apiError
        case let error as DecodingError:
            return decodingError(error)
        case let error as any HTTPResponseError:
            return httpError(status: error.status)
        case let error where outage(error) != nil:
            let apiError = outage(error)!
            logger.warning("dependency unavailable", metadata: ["error": "\(String(reflecting: error))", "code": "\(apiError.code)"])
            return apiError
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return .unexpected
        }
    }

    package static func response(for error: any Error, logger: Logger) -> Response {
        let apiError = apiError(for: error, logger: logger)
        var headers = apiError.headers
        headers[.contentType] = "application/json; charset=utf-8"
        // Two strings: encoding cannot fail. The same error is always the same bytes (auth's 401s must not differ).
        let body = (try? ResponseJSON.encode(ErrorBody(detail: apiError.detail, code: apiError.code))) ?? ByteBuffer()
        return Response(status: apiError.status, headers: headers, body: .init(byteBuffer: body))
    }

    /// JSON that does not parse is 400 `invalid_json`; JSON of the wrong shape is 422 naming the field.
    static func decodingError(_ error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            return .validation(field: path(context.codingPath + [key]), "field required")
        case .valueNotFound(_, let context):
            return .validation(field: path(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            return .validation(field: path(context.codingPath), "must be \(describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return .invalidJSON() }
            return .validation(field: path(context.codingPath), "has an invalid value")
        @unknown default:
            return .invalidJSON()
        }
    }

    /// PostgreSQL or Kafka out of reach (a restart, a dropped connection, a pool that cannot connect, a broker
    /// that does not answer) is 503 with `Retry-After`, never 500: the request may succeed when retried, and
    /// the clients (pool, producer) reconnect by themselves. Errors the server answered for a query (a
    /// constraint, bad SQL) are not outages, except those that say the server is going away or starting.
    static func outage(_ error: any Error) -> APIError? {
        switch error {
        case let error as PSQLError:
            if let sqlState = error.serverInfo?[.sqlState] {
                return isUnavailableSQLState(sqlState) ? .databaseUnavailable : nil
            }
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .queryCancelled:
                return .databaseUnavailable
            default:
                return nil
            }
        case let error as PostgresTransactionError:
            // BEGIN, the body, COMMIT or ROLLBACK lost the server: an outage if any part was one.
            for part in [error.beginError, error.closureError, error.commitError, error.rollbackError] {
                if let part, let outage = outage(part) { return outage }
            }
            return nil
        case is ConnectionPoolError:
            // `connectionCreationCircuitBreakerTripped`: the pool could not connect for a while.
            return .databaseUnavailable
        case let error as KafkaError:
            return error.code == .configuration ? nil : .brokerUnavailable
        default:
            return nil
        }
    }

    /// SQLSTATE classes 08 (connection exception), 57P01–57P05 (admin/crash shutdown, cannot connect now,
    /// database dropped, idle session timeout) and 53300 (too many connections).
    static func isUnavailableSQLState(_ sqlState: String) -> Bool {
        sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") || sqlState == "53300"
    }

    static func httpError(status: HTTPResponse.Status) -> APIError {
        switch status {
        case .notFound: .notFound()
        case .methodNotAllowed: APIError(status, code: "method_not_allowed", detail: "This method is not allowed on this route.")
        case .contentTooLarge: .payloadTooLarge
        case .unauthorized: .unauthorized()
        case .badRequest: APIError(status, code: "bad_request", detail: "The request is malformed.")
        case .unsupportedMediaType: APIError(status, code: "unsupported_media_type", detail: "Send the body as application/json.")
        default:
            if status.code >= 500 { .unexpected } else { APIError(status, code: "http_\(status.code)", detail: status.reasonPhrase) }
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? "body" : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "true or false"
        default: "of type \(type)"
        }
    }
}

/// Catches what the handlers and inner middleware throw and answers with the mapped JSON error.
package struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(_ request: Request, context: Context, next: @concurrent (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return ErrorMapper.response(for: error, logger: context.logger)
        }
    }
}

extension APIError {
    /// PostgreSQL is out of reach (restarting, connections dropped); retry shortly.
    package static let databaseUnavailable = APIError(
        .serviceUnavailable,
        code: "database_unavailable",
        detail: "The database is unavailable; retry shortly.",
        headers: [.retryAfter: "1"]
    )

    /// Kafka is out of reach; retry shortly.
    package static let brokerUnavailable = APIError(
        .serviceUnavailable,
        code: "broker_unavailable",
        detail: "The message broker is unavailable; retry shortly.",
        headers: [.retryAfter: "2"]
    )
}
