import Hummingbird
import Logging
import NIOCore

/// One log line per request: method, path (without query, which may carry codes), status, duration.
///
/// Built only when the logger's level lets it through, from integers and the strings the request
/// already holds: no `Double` or `description` formatting per request.
package struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(_ request: Request, context: Context, next: @concurrent (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        guard context.logger.logLevel <= .info else { return response }
        let elapsed = ContinuousClock.now - start
        let method = request.method.rawValue
        let path = request.uri.path
        let status = Self.statusText(response.status.code)
        context.logger.info(
            "\(method) \(path) \(status)",
            metadata: [
                "http_method": .string(method),
                "http_path": .string(path),
                "http_status": .string(status),
                "duration_ms": .string(Self.milliseconds(elapsed)),
            ]
        )
        return response
    }

    /// The common statuses' text without formatting an integer each time.
    static func statusText(_ code: Int) -> String {
        switch code {
        case 200: "200"
        case 201: "201"
        case 202: "202"
        case 204: "204"
        case 304: "304"
        case 400: "400"
        case 401: "401"
        case 403: "403"
        case 404: "404"
        case 409: "409"
        case 422: "422"
        case 429: "429"
        case 500: "500"
        case 503: "503"
        default: String(code)
        }
    }

    /// Milliseconds with two decimals (`0.42`, `12.5` is `12.50`), from integer arithmetic.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        // Hundredths of a millisecond (10 µs), rounded half up.
        let hundredths = seconds * 100_000 + (attoseconds + 5_000_000_000_000) / 10_000_000_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
