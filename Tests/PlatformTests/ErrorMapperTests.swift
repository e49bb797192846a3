import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@Suite("Errors become SPEC.md's JSON body")
struct ErrorMapperTests {
    struct Signup: Decodable {
        let username: String
        let age: Int
    }
    struct Secret: Error { let sql = "SELECT password_hash FROM auth.users" }

    /// A router with the common middleware and routes that fail in each way a handler can.
    private func makeApp() -> some ApplicationProtocol {
        let configuration = ServiceConfiguration(
            serviceName: "auth-service",
            schema: "auth",
            settings: EnvironmentSettings(environment: ["ECG_ENV": "test"])
        )
        let router = ServiceApplication.makeRouter(configuration: configuration)
        router.post("/decode") { request, context -> String in
            let body = try await request.decodeJSON(Signup.self, context: context)
            return body.username
        }
        router.get("/api-error") { _, _ -> String in throw APIError(.conflict, code: "email_taken", detail: "That email is taken.") }
        router.get("/unauthorized") { _, _ -> String in throw APIError.unauthorized() }
        router.get("/http-error") { _, _ -> String in throw HTTPError(.methodNotAllowed) }
        router.get("/internal") { _, _ -> String in throw Secret() }
        return Application(router: router)
    }

    private func body(_ response: TestResponse) throws -> ErrorBody {
        try JSONDecoder().decode(ErrorBody.self, from: Data(response.body.readableBytesView))
    }

    @Test("an APIError keeps its status, code and detail")
    func apiError() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api-error", method: .get) { response async throws in
                #expect(response.status == .conflict)
                #expect(try body(response) == ErrorBody(detail: "That email is taken.", code: "email_taken"))
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            }
        }
    }

    @Test("a missing bearer token is 401 with WWW-Authenticate: Bearer")
    func unauthorized() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/unauthorized", method: .get) { response async throws in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(try body(response).code == "not_authenticated")
            }
        }
    }

    @Test("JSON that does not parse is 400 invalid_json")
    func malformedJSON() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/decode", method: .post, body: ByteBuffer(string: "{\"username\": ")) { response async throws in
                #expect(response.status == .badRequest)
                #expect(try body(response).code == "invalid_json")
            }
            try await client.execute(uri: "/decode", method: .post) { response async throws in
                #expect(response.status == .badRequest)
                #expect(try body(response).code == "invalid_json")
            }
        }
    }

    @Test("a missing or mistyped field is 422 validation_error naming the field")
    func validation() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/decode", method: .post, body: ByteBuffer(string: #"{"username": "kim"}"#)) { response async throws in
                #expect(response.status == .unprocessableContent)
                let error = try body(response)
                #expect(error.code == "validation_error")
                #expect(error.detail.hasPrefix("age"))
            }
            try await client.execute(uri: "/decode", method: .post, body: ByteBuffer(string: #"{"username": "kim", "age": "old"}"#)) {
                response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try body(response).detail == "age: must be an integer")
            }
        }
    }

    @Test("a body over 64 KiB is 413 payload_too_large")
    func tooLarge() async throws {
        let big = "{\"username\": \"" + String(repeating: "a", count: 70 * 1024) + "\", \"age\": 1}"
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/decode", method: .post, body: ByteBuffer(string: big)) { response async throws in
                #expect(response.status == .contentTooLarge)
                #expect(try body(response).code == "payload_too_large")
            }
        }
    }

    @Test("an unexpected error is a bare 500 that leaks nothing")
    func internalError() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/internal", method: .get) { response async throws in
                #expect(response.status == .internalServerError)
                #expect(try body(response) == ErrorBody(detail: "Internal server error.", code: "internal_error"))
                #expect(!String(buffer: response.body).contains("SELECT"))
            }
        }
    }

    @Test("Hummingbird's HTTP errors and unknown routes map to JSON too")
    func httpErrors() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/http-error", method: .get) { response async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(try body(response).code == "method_not_allowed")
            }
            try await client.execute(uri: "/no/such/route", method: .get) { response async throws in
                #expect(response.status == .notFound)
                #expect(try body(response).code == "not_found")
            }
        }
    }

    @Test("every response carries X-Request-ID: the caller's when sane, a new one otherwise")
    func requestID() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/api-error", method: .get, headers: [.requestID: "gw-123"]) { response async throws in
                #expect(response.headers[.requestID] == "gw-123")
            }
            try await client.execute(uri: "/no/such/route", method: .get, headers: [.requestID: "bad id\r\nX: y"]) { response async throws in
                let id = try #require(response.headers[.requestID])
                #expect(id != "bad id\r\nX: y")
                #expect(UUID(uuidString: id) != nil)
            }
        }
    }

    @Test("CORS answers only the configured origins, with credentials")
    func cors() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(
                uri: "/api-error",
                method: .options,
                headers: [.origin: "http://localhost:3000", .accessControlRequestMethod: "POST"]
            ) { response async throws in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "http://localhost:3000")
                #expect(response.headers[.accessControlAllowCredentials] == "true")
            }
            try await client.execute(uri: "/api-error", method: .get, headers: [.origin: "https://evil.example"]) { response async throws in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }
}
