import Hummingbird
import Metrics

/// Request count and latency histogram by route template, method and status
/// (`http_requests_total`, `http_request_duration_seconds`).
public struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        // The route template (`/api/v1/ml/job-status/{job_id}`), never the raw path, keeps label cardinality bounded.
        let route = context.endpointPath ?? "unmatched"
        let dimensions = [("route", route), ("method", request.method.rawValue), ("status", String(response.status.code))]
        Counter(label: "http_requests_total", dimensions: dimensions).increment()
        Timer(label: "http_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
            .recordInterval(since: start)
        return response
    }
}

extension Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
