import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns every thrown error into SPEC.md's JSON error body. The one place errors become responses.
///
/// Known errors keep their status and code; anything else is logged with its details and answered
/// with a bare 500, so no stack trace, SQL or internal address reaches a client.
public enum ErrorMapper {
    public static func apiError(for error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as any APIErrorConvertible:
            return error.apiError
        case let error as DecodingError:
            return decodingError(error)
        case let error as any HTTPResponseError:
            return httpError(status: error.status)
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return .unexpected
        }
    }

    public static func response(for error: any Error, logger: Logger) -> Response {
        let apiError = apiError(for: error, logger: logger)
        var headers = apiError.headers
        headers[.contentType] = "application/json; charset=utf-8"
        // Sorted keys: the same error is always the same bytes (auth's 401s must not differ by key order).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(ErrorBody(detail: apiError.detail, code: apiError.code))) ?? Data()
        return Response(status: apiError.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
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
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return ErrorMapper.response(for: error, logger: context.logger)
        }
    }
}
