import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import AuthService

/// What auth-service answers matches the schemas it publishes in /openapi.json (issue 15 item 5): each
/// response DTO, encoded with sample values, and the bodies the production router sends, checked
/// against the document that router serves.
@Suite("auth-service responses match their published OpenAPI schemas")
struct ResponseSchemaTests {
    typealias Documented = PublishedOpenAPI.Response

    static let created = Date(timeIntervalSince1970: 1_757_421_000.25)
    static let localUser = User(
        id: 42,
        username: "지민_lee",
        email: "jimin@example.com",
        passwordHash: "$2b$04$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0",
        authProvider: .local,
        googleSubject: nil,
        isActive: true,
        createdAt: created
    )
    static let googleUser = User(
        id: 7,
        username: "g-sam",
        email: "sam@gmail.example.com",
        passwordHash: nil,
        authProvider: .google,
        googleSubject: "1178",
        isActive: false,
        createdAt: created
    )
    static let accessToken = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl"

    /// Sample bodies of every documented 2xx JSON response of auth-service's own routes, built as the handlers build them.
    static let samples: [Documented: [any Encodable & Sendable]] = [
        Documented(method: "POST", path: "/api/auth/signup", status: 201): [
            SessionResponse(accessToken: accessToken, tokenType: "bearer", expiresIn: 900, user: UserSummary(localUser))
        ],
        Documented(method: "POST", path: "/api/auth/login", status: 200): [
            SessionResponse(accessToken: accessToken, tokenType: "bearer", expiresIn: 900, user: UserSummary(localUser)),
            SessionResponse(accessToken: accessToken, tokenType: "bearer", expiresIn: 1, user: UserSummary(googleUser)),
        ],
        Documented(method: "GET", path: "/api/auth/me", status: 200): [MeResponse(localUser), MeResponse(googleUser)],
        Documented(method: "POST", path: "/api/auth/refresh", status: 200): [
            AccessTokenResponse(accessToken: accessToken, tokenType: "bearer", expiresIn: 900)
        ],
        Documented(method: "POST", path: "/api/auth/logout", status: 200): [MessageResponse(message: AuthController.logoutMessage)],
        Documented(method: "POST", path: "/api/auth/password", status: 200): [
            AccessTokenResponse(accessToken: accessToken, tokenType: "bearer", expiresIn: 900)
        ],
        Documented(method: "POST", path: "/api/auth/logout-all", status: 200): [MessageResponse(message: AccountController.logoutAllMessage)],
        Documented(method: "DELETE", path: "/api/auth/me", status: 202): [MessageResponse(message: AccountController.deletedMessage)],
    ]

    /// The routes every service has (CommonRoutes), checked through the router in `routeBodies`.
    static let commonPaths: Set<String> = ["/", "/health", "/ready", "/api/test", "/metrics", "/.well-known/jwks.json", "/openapi.json"]

    static func published() async throws -> PublishedOpenAPI {
        let app = try await TestAuthApp()
        return try PublishedOpenAPI(data: try await app.application.test(.router) { client in try await PublishedOpenAPI.fetch(client) })
    }

    @Test("every documented success body of auth-service's routes has samples here")
    func coverage() async throws {
        let documented = try await Self.published().jsonResponses.filter { (200..<300).contains($0.status) && !Self.commonPaths.contains($0.path) }
        #expect(documented == Set(Self.samples.keys), "documented but not sampled: \(documented.subtracting(Self.samples.keys))")
    }

    @Test("each response DTO, with sample values, conforms to the schema published for its route and status")
    func samplesConform() async throws {
        let document = try await Self.published()
        for (response, bodies) in Self.samples {
            let schema = try document.schema(response)
            for body in bodies {
                #expect(PublishedOpenAPI.problems(of: try PublishedOpenAPI.wire(body), against: schema) == [], "\(response): \(body)")
            }
        }
    }

    @Test("every documented error answer is the error body, as components.schemas.Error publishes it")
    func errorBodies() async throws {
        let document = try await Self.published()
        let body = try PublishedOpenAPI.wire(ErrorBody(detail: "Incorrect email or password.", code: "invalid_credentials"))
        #expect(try document.errorSchema.violations(of: body) == [])
        let errors = document.jsonResponses.filter { $0.status >= 400 }
        #expect(errors.count >= 20)
        for response in errors {
            #expect(try document.schema(response).violations(of: body) == [], "\(response)")
        }
    }

    @Test("a body that drifted from the published schema is caught (an extra field, a missing one, a wrong type or format)")
    func drift() async throws {
        let schema = try await Self.published().schema("GET", "/api/auth/me", 200)
        var body = try #require(try PublishedOpenAPI.wire(MeResponse(Self.localUser)) as? [String: Any])
        body["password_hash"] = "x"
        body.removeValue(forKey: "created_at")
        body["id"] = "42"
        body["auth_provider"] = "github"
        #expect(
            Set(schema.violations(of: body))
                == [
                    "$.password_hash: not in the schema", "$.created_at: required but missing", "$.id: expected an integer",
                    "$.auth_provider: github is not one of [\"local\", \"google\"]",
                ]
        )
        var misdated = try #require(try PublishedOpenAPI.wire(MeResponse(Self.localUser)) as? [String: Any])
        misdated["created_at"] = "2025-09-09 12:30:00"
        misdated["email"] = "jimin"
        #expect(
            PublishedOpenAPI.problems(of: misdated, against: schema)
                == ["$.created_at: 2025-09-09 12:30:00 is not in date-time format", "$.email: jimin is not in email format"]
        )
    }

    /// The bodies the production router sends, each checked against the schema its route publishes for its status.
    @Test("what the routes send conforms: signup, login, me, refresh, password, logout-all, delete, logout, errors, common routes")
    func routeBodies() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            let document = try await PublishedOpenAPI(client)
            func check(_ reply: TestResponse, _ method: String, _ path: String, _ status: Int) throws {
                #expect(Int(reply.status.code) == status, "\(method) \(path): \(reply.text)")
                let body = try JSONSerialization.jsonObject(with: Data(reply.body.readableBytesView))
                #expect(PublishedOpenAPI.problems(of: body, against: try document.schema(method, path, status)) == [], "\(method) \(path) \(status): \(reply.text)")
            }
            let signup = try await client.post(
                "/api/auth/signup",
                json: ["username": "schema_user", "email": "schema@example.com", "password": "password123"]
            )
            try check(signup, "POST", "/api/auth/signup", 201)
            let token = try #require(signup.json?["access_token"] as? String)
            let cookie = cookieValue(try #require(signup.setCookies(named: "refresh_token").first))
            try check(
                try await client.post("/api/auth/signup", json: ["username": "schema_user", "email": "schema@example.com", "password": "password123"]),
                "POST",
                "/api/auth/signup",
                409
            )
            try check(try await client.post("/api/auth/signup", json: ["username": "x", "email": "a@b.co", "password": "password123"]), "POST", "/api/auth/signup", 422)

            let login = try await AccountRoutesTests.login(client, "schema@example.com", "password123")
            try check(login, "POST", "/api/auth/login", 200)
            try check(try await AccountRoutesTests.login(client, "schema@example.com", "wrong-password"), "POST", "/api/auth/login", 401)
            try check(
                try await client.execute(uri: "/api/auth/login", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{")),
                "POST",
                "/api/auth/login",
                400
            )

            try check(try await AccountRoutesTests.call(client, .get, "/api/auth/me", token: token), "GET", "/api/auth/me", 200)
            try check(try await AccountRoutesTests.call(client, .get, "/api/auth/me", token: "nope"), "GET", "/api/auth/me", 401)

            let refreshed = try await AccountRoutesTests.refresh(client, cookie)
            try check(refreshed, "POST", "/api/auth/refresh", 200)
            try check(try await AccountRoutesTests.refresh(client, "unknown"), "POST", "/api/auth/refresh", 401)

            let changed = try await AccountRoutesTests.call(
                client,
                .post,
                "/api/auth/password",
                token: token,
                json: ["current_password": "password123", "new_password": "password456"]
            )
            try check(changed, "POST", "/api/auth/password", 200)
            let newToken = try #require(changed.json?["access_token"] as? String)
            try check(try await AccountRoutesTests.call(client, .post, "/api/auth/logout-all", token: newToken), "POST", "/api/auth/logout-all", 200)
            try check(
                try await AccountRoutesTests.call(client, .delete, "/api/auth/me", token: newToken, json: [:]),
                "DELETE",
                "/api/auth/me",
                422
            )
            try check(
                try await AccountRoutesTests.call(client, .delete, "/api/auth/me", token: newToken, json: ["password": "password456"]),
                "DELETE",
                "/api/auth/me",
                202
            )
            try check(try await client.execute(uri: "/api/auth/logout", method: .post), "POST", "/api/auth/logout", 200)

            for path in ["/", "/health", "/api/test", "/.well-known/jwks.json", "/openapi.json"] {
                try check(try await client.execute(uri: path, method: .get), "GET", path, 200)
            }
        }
    }
}
