import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import ECGPlatform

/// The common middleware's per-request shortcuts keep their behaviour (issue 13, item 2).
@Suite("Middleware at the framework's ceiling")
struct MiddlewareTests {
    @Test("a new request id is a lowercase version-4 UUID, different each time")
    func requestIDFormat() {
        var seen = Set<String>()
        for _ in 0..<1_000 {
            let id = RequestIDMiddleware<ECGRequestContext>.makeID()
            #expect(id.count == 36)
            #expect(id == id.lowercased())
            let uuid = try? #require(UUID(uuidString: id))
            #expect(uuid != nil)
            let characters = Array(id)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
            seen.insert(id)
        }
        #expect(seen.count == 1_000)
    }

    @Test("the caller's request id is kept only when it is a sane token")
    func requestIDAcceptable() {
        typealias M = RequestIDMiddleware<ECGRequestContext>
        for good in ["gw-123", "a", "trace-abc-123", "A.b:c_d-e", String(repeating: "x", count: 128)] {
            #expect(M.acceptable(good) == good)
        }
        for bad in ["", "bad id", "x\r\ny", "é", "a/b", "a\"b", String(repeating: "x", count: 129)] {
            #expect(M.acceptable(bad) == nil, "\(bad)")
        }
    }

    @Test("access-log durations and statuses are formatted without Double")
    func accessLogFormatting() {
        typealias M = AccessLogMiddleware<ECGRequestContext>
        #expect(M.milliseconds(.microseconds(420)) == "0.42")
        #expect(M.milliseconds(.microseconds(12_500)) == "12.50")
        #expect(M.milliseconds(.microseconds(4)) == "0.00")
        #expect(M.milliseconds(.microseconds(5)) == "0.01")
        #expect(M.milliseconds(.seconds(3) + .microseconds(70)) == "3000.07")
        #expect(M.milliseconds(.zero) == "0.00")
        for code in [200, 201, 204, 302, 401, 404, 418, 503, 599] {
            #expect(M.statusText(code) == String(code))
        }
    }

    @Test("metrics: one Counter and Timer per (route, method, status), made once, bounded")
    func metricsCache() {
        _ = MetricsSetup.bootstrap()
        let instruments = HTTPMetricsInstruments(limit: 3)
        let a = instruments.series(route: "/health", method: .get, status: 200)
        let b = instruments.series(route: "/health", method: .get, status: 200)
        #expect(a.requests === b.requests && a.duration === b.duration)
        _ = instruments.series(route: "/health", method: .get, status: 503)
        _ = instruments.series(route: "/health", method: .head, status: 200)
        #expect(instruments.count == 3)
        _ = instruments.series(route: "/other", method: .get, status: 200)
        #expect(instruments.count == 3)
    }

    @Test("requests through the common stack are counted by route template, method and status on /metrics")
    func metricsExported() async throws {
        _ = MetricsSetup.bootstrap()
        let configuration = ServiceConfiguration(
            serviceName: "auth-service",
            schema: "auth",
            settings: EnvironmentSettings(environment: ["ECG_ENV": "test"])
        )
        let router = ServiceApplication.makeRouter(configuration: configuration)
        router.get("/middleware-test/{id}") { _, _ in "ok" }
        try await Application(router: router).test(.router) { client in
            for _ in 0..<3 {
                try await client.execute(uri: "/middleware-test/\(UUID().uuidString)", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.requestID] != nil)
                }
            }
        }
        let text = MetricsSetup.render()
        let line = text.split(separator: "\n").first {
            $0.hasPrefix("http_requests_total{") && $0.contains("route=\"/middleware-test/{id}\"") && $0.contains("status=\"200\"")
        }
        #expect(line?.hasSuffix(" 3") == true, "\(line.map(String.init) ?? "no line")")
    }
}
