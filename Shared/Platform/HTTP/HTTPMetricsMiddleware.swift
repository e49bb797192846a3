import Hummingbird
import Metrics
import Synchronization

/// Request count and latency histogram by route template, method and status
/// (`http_requests_total`, `http_request_duration_seconds`).
///
/// The `Counter` and `Timer` of each (route, method, status) are made once and kept: making them per
/// request asked the Prometheus factory to look the series up in its registry (a lock, label
/// strings, a dictionary) twice for every request.
package struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let instruments: HTTPMetricsInstruments

    package init() {
        self.instruments = HTTPMetricsInstruments()
    }

    package func handle(_ request: Request, context: Context, next: @concurrent (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        // The route template (`/api/v1/ml/job-status/{job_id}`), never the raw path, keeps label cardinality bounded.
        let series = instruments.series(route: context.endpointPath ?? "unmatched", method: request.method, status: response.status.code)
        series.requests.increment()
        series.duration.recordInterval(since: start)
        return response
    }
}

/// The metrics of each (route, method, status) seen, made on first use. Bounded: past `limit`
/// series (only reachable with made-up methods), new ones are made per request, as before.
final class HTTPMetricsInstruments: Sendable {
    struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    struct Series: Sendable {
        let requests: Counter
        let duration: Metrics.Timer
    }

    private let cache = Mutex<[Key: Series]>([:])
    let limit: Int

    init(limit: Int = 1_024) {
        self.limit = limit
    }

    var count: Int { cache.withLock { $0.count } }

    func series(route: String, method: HTTPRequest.Method, status: Int) -> Series {
        let key = Key(route: route, method: method, status: status)
        if let series = cache.withLock({ $0[key] }) { return series }
        let dimensions = [("route", route), ("method", method.rawValue), ("status", String(status))]
        let series = Series(
            requests: Counter(label: "http_requests_total", dimensions: dimensions),
            duration: Metrics.Timer(label: "http_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        )
        return cache.withLock { cache in
            if let existing = cache[key] { return existing }
            if cache.count < limit { cache[key] = series }
            return series
        }
    }
}

extension Metrics.Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
