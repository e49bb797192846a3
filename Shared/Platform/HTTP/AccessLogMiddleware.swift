import Hummingbird
import Logging
import NIOCore

/// One log line per request: method, path (without query, which may carry codes), status, duration.
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: [
                "http_method": "\(request.method)",
                "http_path": "\(request.uri.path)",
                "http_status": "\(response.status.code)",
                "duration_ms": "\((milliseconds * 100).rounded() / 100)",
            ]
        )
        return response
    }
}
