import Foundation
import Testing

/// Checks the running test stack (`make test` starts it and exports the URLs).
@Suite("The running stack", .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_GATEWAY_URL"] != nil), .timeLimit(.minutes(2)))
struct StackTests {
    static let environment = ProcessInfo.processInfo.environment
    let gateway = environment["ECG_TEST_GATEWAY_URL"] ?? ""
    let services: [(name: String, url: String)] = [
        ("auth-service", environment["ECG_TEST_AUTH_URL"] ?? ""),
        ("media-service", environment["ECG_TEST_MEDIA_URL"] ?? ""),
        ("analysis-service", environment["ECG_TEST_ANALYSIS_URL"] ?? ""),
    ]

    private func call(_ url: String, body: String? = nil, headers: [(String, String)] = []) async throws -> StackClient.Reply {
        try await StackClient.call(url, method: body == nil ? "GET" : "POST", json: body, headers: headers)
    }

    @Test("every service runs its Swift tasks on SwiftNIO's event loops (TASKS_ON_EVENT_LOOPS)")
    func tasksOnEventLoops() throws {
        // A runtime that refuses the hook logs a warning instead, and every request costs a third
        // more CPU (docs/performance.md): the service's start-up line says which one it got.
        let logs = try #require(Self.environment["ECG_TEST_DATA_DIR"]) + "/logs"
        for (name, _) in services {
            let log = try String(contentsOfFile: "\(logs)/\(name).log", encoding: .utf8)
            #expect(log.contains("\(name): Swift tasks run on SwiftNIO's event loops"), "\(name)")
            #expect(!log.contains("refused the hook"), "\(name)")
        }
    }

    @Test("the gateway serves the banner, health and demo routes from auth-service")
    func gatewayCommonRoutes() async throws {
        let root = try await call(gateway + "/")
        #expect(root.status == 200)
        #expect(root.json?["message"] as? String == "ECG Backend API")
        #expect(root.json?["version"] as? String == "1.0.0")
        #expect(root.json?["service"] as? String == "auth-service")
        let health = try await call(gateway + "/health")
        #expect(health.json?["status"] as? String == "healthy")
        let demo = try await call(gateway + "/api/test")
        #expect(demo.json?["data"] as? String == "ECG Backend Test")
        #expect(demo.json?["demo_mode"] as? Bool == true)
        let jwks = try await call(gateway + "/.well-known/jwks.json")
        let keys = try #require(jwks.json?["keys"] as? [[String: Any]])
        #expect(keys.contains { $0["kty"] as? String == "OKP" && $0["crv"] as? String == "Ed25519" && $0["kid"] != nil })
    }

    @Test("the gateway routes /health/<service> to that service")
    func gatewayHealthPerService() async throws {
        for (short, name) in [("auth", "auth-service"), ("media", "media-service"), ("analysis", "analysis-service")] {
            let reply = try await call(gateway + "/health/\(short)")
            #expect(reply.status == 200)
            #expect(reply.json?["status"] as? String == "healthy")
            #expect(reply.json?["service"] as? String == name)
        }
    }

    @Test("the gateway never exposes /internal/* or /metrics, and answers in JSON")
    func gatewayHidesInternals() async throws {
        for path in ["/internal/x", "/internal/videos/a", "/metrics", "/metrics/", "/no/such/route"] {
            let reply = try await call(gateway + path)
            #expect(reply.status == 404, "\(path)")
            #expect(reply.json?["code"] as? String == "not_found", "\(path)")
            #expect(reply.header("X-Request-ID") != nil)
        }
    }

    @Test("the gateway refuses bodies over 64 KiB with a JSON 413")
    func gatewayBodyLimit() async throws {
        let reply = try await call(gateway + "/api/auth/login", body: String(repeating: "a", count: 70 * 1024))
        #expect(reply.status == 413)
        #expect(reply.json?["code"] as? String == "payload_too_large")
    }

    @Test("X-Request-ID from the client comes back through the gateway; otherwise one is made")
    func requestIDThroughGateway() async throws {
        let echoed = try await call(gateway + "/health", headers: [("X-Request-ID", "trace-abc-123")])
        #expect(echoed.header("X-Request-ID") == "trace-abc-123")
        let generated = try await call(gateway + "/health/media")
        #expect((generated.header("X-Request-ID") ?? "").count >= 16)
    }

    @Test("each service answers every common route on its own port")
    func servicePorts() async throws {
        for (name, url) in services {
            let health = try await call(url + "/health")
            #expect(health.status == 200)
            #expect(health.json?["service"] as? String == name)
            let root = try await call(url + "/")
            #expect(root.json?["service"] as? String == name)
            let demo = try await call(url + "/api/test")
            #expect(demo.status == 200)
            let ready = try await call(url + "/ready")
            #expect(ready.status == 200, "\(name) /ready: \(String(decoding: ready.body, as: UTF8.self))")
            let metrics = try await call(url + "/metrics")
            #expect(metrics.status == 200)
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("http_requests_total"))
            let jwks = try await call(url + "/.well-known/jwks.json")
            #expect((jwks.json?["keys"] as? [Any])?.isEmpty == false)
            let openAPI = try await call(url + "/openapi.json")
            #expect(openAPI.json?["openapi"] as? String == "3.1.0")
            let paths = try #require(openAPI.json?["paths"] as? [String: Any])
            for path in ["/", "/health", "/ready", "/api/test", "/metrics", "/.well-known/jwks.json", "/openapi.json"] {
                #expect(paths[path] != nil, "\(name) documents \(path)")
            }
            let missing = try await call(url + "/no/such/route")
            #expect(missing.status == 404)
            #expect(missing.json?["code"] as? String == "not_found")
        }
    }
}
