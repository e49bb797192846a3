import ECGTokens
import Foundation
import Hummingbird

/// The routes every service serves (SPEC.md §3 "every service").
package enum CommonRoutes {
    struct Health: Codable, Sendable {
        let status: String
        let service: String
    }
    struct Root: Codable, Sendable {
        let message: String
        let version: String
        let service: String
    }
    struct TestData: Codable, Sendable {
        let data: String
        let demo_mode: Bool
    }
    struct Readiness: Codable, Sendable {
        let status: String
        let service: String
        let checks: [String: String]
    }

    package static func add<Methods: RouterMethods>(
        to routes: DocumentedRoutes<Methods>,
        serviceName: String,
        environment: DeploymentEnvironment,
        jwks: JWKSDocument,
        openAPI: OpenAPIDocument,
        readiness: [ReadinessCheck]
    ) {
        routes.get(
            "/",
            OpenAPIOperation("Service banner", responses: [200: .init("Banner", .record(["message": .text, "version": .text, "service": .text]))])
        ) { _, _ in
            JSONResponse(Root(message: "ECG Backend API", version: "1.0.0", service: serviceName))
        }
        // Encoded once: a JSONEncoder per call was 4.4% of the service's CPU on /health (perf, issue 13).
        let healthBody = ConstantJSONBody(Health(status: "healthy", service: serviceName))
        routes.get(
            "/health",
            OpenAPIOperation("Liveness: the process answers", responses: [200: .init("Alive", .record(["status": .text, "service": .text]))])
        ) { _, _ in
            healthBody.response()
        }
        routes.get(
            "/ready",
            OpenAPIOperation(
                "Readiness: PostgreSQL and Kafka answer",
                responses: [
                    200: .init("Ready", .object(["status": .text, "service": .text, "checks": .object([:])])),
                    503: .init("A dependency is down", .error),
                ]
            )
        ) { _, _ in
            let failing = await ReadinessCheck.failing(readiness)
            guard failing.isEmpty else {
                throw APIError(.serviceUnavailable, code: "not_ready", detail: "Not ready: \(failing.joined(separator: ", ")) unavailable.")
            }
            return JSONResponse(
                Readiness(status: "ready", service: serviceName, checks: Dictionary(uniqueKeysWithValues: readiness.map { ($0.name, "ok") }))
            )
        }
        routes.get(
            "/api/test",
            OpenAPIOperation("Demo endpoint", responses: [200: .init("Demo data", .record(["data": .text, "demo_mode": .boolean]))])
        ) { _, _ in
            JSONResponse(TestData(data: "ECG Backend Test", demo_mode: !environment.isProduction))
        }
        routes.get(
            "/metrics",
            OpenAPIOperation("Prometheus metrics", responses: [200: .init("Text exposition format", .text, contentType: "text/plain")])
        ) { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: MetricsSetup.render()))
            )
        }
        routes.get(
            "/.well-known/jwks.json",
            OpenAPIOperation("Public keys that verify this service's tokens", responses: [200: .init("JWKS", .object(["keys": .array(.any)]))])
        ) { _, _ in
            JSONResponse(jwks, headers: [.cacheControl: "public, max-age=300"])
        }
        routes.get(
            "/openapi.json",
            OpenAPIOperation("This document", responses: [200: .init("OpenAPI 3.1 document", .object([:]))])
        ) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try openAPI.jsonData())))
        }
    }
}

/// A JSON body that never changes, encoded once (same bytes and headers as `JSONResponse`).
struct ConstantJSONBody: Sendable {
    let bytes: ByteBuffer

    init(_ body: some Encodable) {
        // A fixed struct of strings: encoding cannot fail.
        bytes = try! ResponseJSON.encode(body)
    }

    func response() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: bytes))
    }
}
