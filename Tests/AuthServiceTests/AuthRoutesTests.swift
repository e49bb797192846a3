import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AuthService

@Suite("auth routes over in-memory repositories")
struct AuthRoutesTests {
    static let json: HTTPFields = [.contentType: "application/json"]

    @Test("signup answers 201 with the token, the user and the refresh cookie; /me answers the account")
    func signupAndMe() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            let signup = try await client.post("/api/auth/signup", json: ["username": "사용자명", "email": "New@Example.com", "password": "password123"])
            #expect(signup.status == .created)
            let body = try #require(signup.json)
            #expect(body["token_type"] as? String == "bearer")
            let user = try #require(body["user"] as? [String: Any])
            #expect(user["username"] as? String == "사용자명")
            #expect(user["email"] as? String == "new@example.com")
            #expect(user["is_active"] as? Bool == true)
            #expect(user["id"] as? Int != nil)
            #expect(!signup.text.contains("password"))
            let cookie = try #require(signup.setCookies(named: "refresh_token").first)
            for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api/auth", "Max-Age=2592000", "Secure"] {
                #expect(cookie.contains(attribute), "\(attribute) in \(cookie)")
            }
            #expect(signup.headers[.cacheControl] == "no-store")

            let token = try #require(body["access_token"] as? String)
            let me = try await client.execute(uri: "/api/auth/me", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(me.status == .ok)
            let account = try #require(me.json)
            #expect(account["auth_provider"] as? String == "local")
            #expect(account["email"] as? String == "new@example.com")
            let createdAt = try #require(account["created_at"] as? String)
            #expect(createdAt.hasSuffix("Z"))
            #expect(try Date(createdAt, strategy: .iso8601) <= Date())
        }
    }

    @Test("COOKIE_SECURE=false drops only the Secure attribute")
    func insecureCookie() async throws {
        let app = try await TestAuthApp(cookieSecure: false)
        try await app.application.test(.router) { client in
            let signup = try await client.post(
                "/api/auth/signup",
                json: ["username": "plain", "email": "plain@example.com", "password": "password123"]
            )
            let cookie = try #require(signup.setCookies(named: "refresh_token").first)
            #expect(!cookie.contains("Secure"))
            #expect(cookie.contains("HttpOnly"))
        }
    }

    @Test("duplicate email and username (any case) are 409; bad fields 422 naming the field; bad JSON 400")
    func signupErrors() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            func signup(_ body: [String: Any]) async throws -> TestResponse {
                try await client.post("/api/auth/signup", json: body)
            }
            #expect(try await signup(["username": "alice", "email": "alice@example.com", "password": "password123"]).status == .created)
            let emailTaken = try await signup(["username": "alice2", "email": "ALICE@example.com", "password": "password123"])
            #expect(emailTaken.status == .conflict)
            #expect(emailTaken.json?["code"] as? String == "email_taken")
            let usernameTaken = try await signup(["username": "ALICE", "email": "other@example.com", "password": "password123"])
            #expect(usernameTaken.status == .conflict)
            #expect(usernameTaken.json?["code"] as? String == "username_taken")
            for (body, field) in [
                (["username": "ab", "email": "x@example.com", "password": "password123"], "username"),
                (["username": "valid", "email": "not-an-email", "password": "password123"], "email"),
                (["username": "valid", "email": "x@example.com", "password": "short"], "password"),
                (["username": "valid", "email": "x@example.com", "password": String(repeating: "p", count: 129)], "password"),
                (["username": "valid", "email": "x@example.com"], "password"),
            ] {
                let response = try await signup(body)
                #expect(response.status == .unprocessableContent)
                #expect(response.json?["code"] as? String == "validation_error")
                #expect((response.json?["detail"] as? String)?.hasPrefix(field) == true, "\(response.text)")
            }
            let typeMismatch = try await signup(["username": 5, "email": "x@example.com", "password": "password123"])
            #expect(typeMismatch.status == .unprocessableContent)
            #expect((typeMismatch.json?["detail"] as? String)?.hasPrefix("username") == true)
            let malformed = try await client.execute(
                uri: "/api/auth/signup",
                method: .post,
                headers: Self.json,
                body: ByteBuffer(string: "{\"username\":")
            )
            #expect(malformed.status == .badRequest)
            #expect(malformed.json?["code"] as? String == "invalid_json")
        }
    }

    @Test("login: 200 with a cookie; unknown email and wrong password give byte-identical 401s")
    func login() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            _ = try await client.post("/api/auth/signup", json: ["username": "bob", "email": "bob@example.com", "password": "password123"])
            let ok = try await client.post("/api/auth/login", json: ["email": " BOB@example.com", "password": "password123"])
            #expect(ok.status == .ok)
            #expect(ok.json?["access_token"] != nil)
            #expect((ok.json?["user"] as? [String: Any])?["username"] as? String == "bob")
            #expect(ok.setCookies(named: "refresh_token").count == 1)
            let wrong = try await client.post("/api/auth/login", json: ["email": "bob@example.com", "password": "password124"])
            let unknown = try await client.post("/api/auth/login", json: ["email": "nobody@example.com", "password": "password124"])
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(wrong.json?["code"] as? String == "invalid_credentials")
            #expect(Array(wrong.body.readableBytesView) == Array(unknown.body.readableBytesView))
            #expect(wrong.headers[.wwwAuthenticate] == "Bearer")
            #expect(wrong.setCookies(named: "refresh_token").isEmpty)
        }
    }

    @Test("5 failures for one email: the 6th attempt is 429 with Retry-After, even with the right password")
    func rateLimit() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            _ = try await client.post("/api/auth/signup", json: ["username": "carol", "email": "carol@example.com", "password": "password123"])
            for _ in 0..<5 {
                let response = try await client.post("/api/auth/login", json: ["email": "carol@example.com", "password": "wrong-password"])
                #expect(response.status == .unauthorized)
            }
            let blocked = try await client.post("/api/auth/login", json: ["email": "Carol@example.com", "password": "password123"])
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.json?["code"] as? String == "too_many_attempts")
            let retryAfter = try #require(blocked.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...900).contains(retryAfter))
        }
    }

    @Test("a successful login resets the failure count")
    func successResets() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            _ = try await client.post("/api/auth/signup", json: ["username": "dave", "email": "dave@example.com", "password": "password123"])
            func login(_ password: String) async throws -> HTTPResponse.Status {
                try await client.post("/api/auth/login", json: ["email": "dave@example.com", "password": password]).status
            }
            for _ in 0..<4 { #expect(try await login("wrong-password") == .unauthorized) }
            #expect(try await login("password123") == .ok)
            for _ in 0..<5 { #expect(try await login("wrong-password") == .unauthorized) }
            #expect(try await login("password123") == .tooManyRequests)
        }
    }

    @Test("refresh rotates the cookie; logout answers the Korean message, clears the cookie and is idempotent")
    func refreshAndLogout() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            let signup = try await client.post(
                "/api/auth/signup",
                json: ["username": "erin", "email": "erin@example.com", "password": "password123"]
            )
            let first = cookieValue(try #require(signup.setCookies(named: "refresh_token").first))
            let refreshed = try await client.execute(uri: "/api/auth/refresh", method: .post, headers: [.cookie: "refresh_token=\(first)"])
            #expect(refreshed.status == .ok)
            #expect(refreshed.json?["token_type"] as? String == "bearer")
            #expect(refreshed.json?["access_token"] as? String != nil)
            let second = cookieValue(try #require(refreshed.setCookies(named: "refresh_token").first))
            #expect(second != first)

            let logout = try await client.execute(uri: "/api/auth/logout", method: .post, headers: [.cookie: "refresh_token=\(second)"])
            #expect(logout.status == .ok)
            #expect(logout.json?["message"] as? String == "로그아웃 되었습니다.")
            let cleared = try #require(logout.setCookies(named: "refresh_token").first)
            #expect(cleared.hasPrefix("refresh_token=;"))
            #expect(cleared.contains("Max-Age=0"))
            #expect(cleared.contains("Path=/api/auth"))
            let again = try await client.execute(uri: "/api/auth/logout", method: .post, headers: [.cookie: "refresh_token=\(second)"])
            #expect(again.status == .ok)
            let none = try await client.execute(uri: "/api/auth/logout", method: .post)
            #expect(none.status == .ok)
            let revoked = try await client.execute(uri: "/api/auth/refresh", method: .post, headers: [.cookie: "refresh_token=\(second)"])
            #expect(revoked.status == .unauthorized)
            #expect(revoked.json?["code"] as? String == "invalid_refresh_token")
            let missing = try await client.execute(uri: "/api/auth/refresh", method: .post)
            #expect(missing.status == .unauthorized)
        }
    }

    @Test("/me refuses a missing token, a refresh token, and a token for a deleted account")
    func meRefusals() async throws {
        let app = try await TestAuthApp()
        let key = app.key
        try await app.application.test(.router) { client in
            let missing = try await client.execute(uri: "/api/auth/me", method: .get)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            let refresh = try await client.execute(uri: "/api/auth/me", method: .get, headers: [.authorization: "Bearer \(RefreshToken.generate())"])
            #expect(refresh.status == .unauthorized)
            let ghost = try await AccessTokenIssuer(signer: await .init(key: key), lifetime: 900).issue(for: 999)
            let deleted = try await client.execute(uri: "/api/auth/me", method: .get, headers: [.authorization: "Bearer \(ghost)"])
            #expect(deleted.status == .unauthorized)
        }
    }

    @Test("login CSRF (M1): a foreign Origin is 403, a body not sent as application/json is 415; allowed origins and no Origin pass")
    func cookieRoutesRefuseCrossSite() async throws {
        let app = try await TestAuthApp(frontendURL: "http://127.0.0.1:18080/app")
        try await app.application.test(.router) { client in
            let created = try await client.post("/api/auth/signup", json: ["username": "csrf", "email": "csrf@example.com", "password": "password123"])
            #expect(created.status == .created)
            let credentials = jsonBody(["email": "csrf@example.com", "password": "password123"])
            // The review's attack: a text/plain form from another site.
            let form = try await client.execute(
                uri: "/api/auth/login",
                method: .post,
                headers: [.contentType: "text/plain", .origin: "https://evil.example"],
                body: credentials
            )
            #expect(form.status == .forbidden)
            #expect(form.json?["code"] as? String == "forbidden_origin")
            #expect(form.setCookies(named: "refresh_token").isEmpty)
            let foreignJSON = try await client.execute(
                uri: "/api/auth/login",
                method: .post,
                headers: [.contentType: "application/json", .origin: "https://evil.example"],
                body: credentials
            )
            #expect(foreignJSON.status == .forbidden)
            for contentType in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                for path in ["/api/auth/login", "/api/auth/signup"] {
                    let reply = try await client.execute(uri: path, method: .post, headers: [.contentType: contentType], body: credentials)
                    #expect(reply.status == .unsupportedMediaType, "\(path) \(contentType)")
                    #expect(reply.json?["code"] as? String == "unsupported_media_type")
                }
            }
            let noType = try await client.execute(uri: "/api/auth/login", method: .post, body: credentials)
            #expect(noType.status == .unsupportedMediaType)
            // The gateway's own origin (FRONTEND_URL's), a CORS origin, and no Origin at all (curl) pass.
            for origin in ["http://127.0.0.1:18080", "http://localhost:3000", nil] {
                var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
                if let origin { headers[.origin] = origin }
                let login = try await client.execute(uri: "/api/auth/login", method: .post, headers: headers, body: credentials)
                #expect(login.status == .ok, "\(origin ?? "no Origin")")
            }
            let token = try #require(
                try await client.post("/api/auth/login", json: ["email": "csrf@example.com", "password": "password123"])
                    .setCookies(named: "refresh_token").first?.split(separator: ";").first.map(String.init)
            )
            let foreignRefresh = try await client.execute(
                uri: "/api/auth/refresh",
                method: .post,
                headers: [.cookie: token, .origin: "https://sub.evil.example"]
            )
            #expect(foreignRefresh.status == .forbidden)
            let ownRefresh = try await client.execute(
                uri: "/api/auth/refresh",
                method: .post,
                headers: [.cookie: token, .origin: "http://127.0.0.1:18080"]
            )
            #expect(ownRefresh.status == .ok)
            let foreignSignup = try await client.execute(
                uri: "/api/auth/signup",
                method: .post,
                headers: [.contentType: "application/json", .origin: "null"],
                body: jsonBody(["username": "csrf2", "email": "csrf2@example.com", "password": "password123"])
            )
            #expect(foreignSignup.status == .forbidden)
            let callback = try await client.execute(
                uri: "/api/auth/google/callback?code=x&state=y",
                method: .get,
                headers: [.origin: "https://evil.example"]
            )
            #expect(callback.status == .forbidden)
        }
    }

    @Test("Google unconfigured: login is 503 google_not_configured, the callback redirects with an error")
    func googleNotConfigured() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            let login = try await client.execute(uri: "/api/auth/google/login", method: .get)
            #expect(login.status == .serviceUnavailable)
            #expect(login.json?["code"] as? String == "google_not_configured")
            let callback = try await client.execute(uri: "/api/auth/google/callback?code=x&state=y", method: .get)
            #expect(callback.status == .found)
            #expect(callback.headers[.location]?.hasPrefix("http://localhost:3000/auth/callback?error=") == true)
        }
    }

    @Test("every auth route is in the OpenAPI document, with request and response schemas")
    func openAPI() async throws {
        let app = try await TestAuthApp()
        let operations = Set(app.document.operations.map { "\($0.method) \($0.path)" })
        for route in [
            "POST /api/auth/signup", "POST /api/auth/login", "GET /api/auth/me", "POST /api/auth/refresh", "POST /api/auth/logout",
            "GET /api/auth/google/login", "GET /api/auth/google/callback",
        ] {
            #expect(operations.contains(route), "\(route)")
        }
        let document = try #require(try JSONSerialization.jsonObject(with: app.document.jsonData()) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let signup = try #require(paths["/api/auth/signup"]?["post"] as? [String: Any])
        #expect(signup["requestBody"] != nil)
        let me = try #require(paths["/api/auth/me"]?["get"] as? [String: Any])
        #expect((me["security"] as? [[String: Any]])?.first?["userToken"] != nil)
    }
}

@Suite("Development seed")
struct DevelopmentSeedTests {
    @Test("creates the seed user once; its password logs in")
    func once() async throws {
        let users = InMemoryUserRepository()
        let hasher = try await PasswordHasher.forTests()
        try await DevelopmentSeed.run(users: users, hasher: hasher, logger: .init(label: "seed"))
        try await DevelopmentSeed.run(users: users, hasher: hasher, logger: .init(label: "seed"))
        let user = try #require(try await users.find(email: "test@example.com"))
        #expect(user.username == "testuser")
        #expect(try await hasher.verify("testpassword123", against: user.passwordHash))
        #expect(try await users.find(id: user.id + 1) == nil)
    }
}
