import ECGEvents
import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AuthService

/// Change password, sign out everywhere and delete the account (docs/auth-account.md), over the
/// in-memory repositories.
@Suite("account routes over in-memory repositories")
struct AccountRoutesTests {
    static let password = "password123"

    /// A signed-up account as the client holds it.
    struct Session {
        let id: Int64
        let email: String
        let accessToken: String
        let refreshToken: String
    }

    static func signup(_ client: some TestClientProtocol, _ name: String, password: String = Self.password) async throws -> Session {
        let reply = try await client.post("/api/auth/signup", json: ["username": name, "email": "\(name)@example.com", "password": password])
        try #require(reply.status == .created, "\(reply.text)")
        let body = try #require(reply.json)
        return Session(
            id: Int64(try #require((body["user"] as? [String: Any])?["id"] as? Int)),
            email: "\(name)@example.com",
            accessToken: try #require(body["access_token"] as? String),
            refreshToken: cookieValue(try #require(reply.setCookies(named: "refresh_token").first))
        )
    }

    static func login(_ client: some TestClientProtocol, _ email: String, _ password: String) async throws -> TestResponse {
        try await client.post("/api/auth/login", json: ["email": email, "password": password])
    }

    static func refresh(_ client: some TestClientProtocol, _ token: String) async throws -> TestResponse {
        try await client.execute(uri: "/api/auth/refresh", method: .post, headers: [.cookie: "refresh_token=\(token)"])
    }

    static func call(
        _ client: some TestClientProtocol,
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String,
        cookie: String? = nil,
        json: [String: Any]? = nil
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if let cookie { headers[.cookie] = "refresh_token=\(cookie)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map(jsonBody))
    }

    /// A Google-only account (no password) with a session started by a Google sign-in at `signedInAt`.
    static func googleAccount(_ app: TestAuthApp, signedInAt: Date = Date()) async throws -> (User, SessionService.Issued) {
        let name = "g\(UInt32.random(in: 0...UInt32.max))"
        let user = try await app.users.create(
            NewUser(username: name, email: "\(name)@gmail.example.com", passwordHash: nil, authProvider: .google, googleSubject: "sub-\(name)")
        )
        return (user, try await app.sessions.start(for: user, authenticatedWith: .google, now: signedInAt))
    }

    // MARK: - Change password

    @Test("password change: 200 with a new token and cookie; every other session is signed out; the new password logs in")
    func changePassword() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            let laptop = try await Self.signup(client, "pat")
            let phone = cookieValue(try #require(try await Self.login(client, laptop.email, Self.password).setCookies(named: "refresh_token").first))

            let reply = try await Self.call(
                client,
                .post,
                "/api/auth/password",
                token: laptop.accessToken,
                cookie: laptop.refreshToken,
                json: ["current_password": Self.password, "new_password": "a-new-password"]
            )
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json?["token_type"] as? String == "bearer")
            #expect(reply.headers[.cacheControl] == "no-store")
            let newAccess = try #require(reply.json?["access_token"] as? String)
            let newCookie = cookieValue(try #require(reply.setCookies(named: "refresh_token").first))
            #expect(newCookie != laptop.refreshToken)
            #expect(!reply.text.contains("a-new-password"))

            // The other device and this device's old cookie are signed out; the new cookie works.
            #expect(try await Self.refresh(client, phone).status == .unauthorized)
            #expect(try await Self.refresh(client, laptop.refreshToken).status == .unauthorized)
            #expect(try await Self.refresh(client, newCookie).status == .ok)
            #expect(try await Self.call(client, .get, "/api/auth/me", token: newAccess).status == .ok)

            #expect(try await Self.login(client, laptop.email, Self.password).status == .unauthorized)
            #expect(try await Self.login(client, laptop.email, "a-new-password").status == .ok)
        }
    }

    @Test("password change: 422 names new_password, 400 for bad JSON, 401 without a token; none of them costs an attempt")
    func changePasswordValidation() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            let account = try await Self.signup(client, "quinn")
            for (body, field) in [
                (["current_password": Self.password, "new_password": "short"], "new_password"),
                (["current_password": Self.password, "new_password": String(repeating: "p", count: 129)], "new_password"),
                (["current_password": Self.password], "new_password"),
                (["new_password": "long-enough-1"], "current_password"),
            ] {
                let reply = try await Self.call(client, .post, "/api/auth/password", token: account.accessToken, json: body)
                #expect(reply.status == .unprocessableContent)
                #expect(reply.json?["code"] as? String == "validation_error")
                #expect((reply.json?["detail"] as? String)?.hasPrefix(field) == true, "\(reply.text)")
            }
            let malformed = try await client.execute(
                uri: "/api/auth/password",
                method: .post,
                headers: [.authorization: "Bearer \(account.accessToken)", .contentType: "application/json"],
                body: ByteBuffer(string: "{\"current_password\":")
            )
            #expect(malformed.status == .badRequest)
            #expect(malformed.json?["code"] as? String == "invalid_json")
            let anonymous = try await client.post("/api/auth/password", json: ["current_password": Self.password, "new_password": "long-enough-1"])
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
            // Nothing above was a password check: five wrong ones are still allowed before the limit.
            for _ in 0..<5 {
                #expect(try await Self.login(client, account.email, "wrong-password").status == .unauthorized)
            }
            #expect(try await Self.login(client, account.email, Self.password).status == .tooManyRequests)
        }
    }

    @Test("a wrong current password is 401 invalid_credentials and counts toward the login limit: 429 with Retry-After")
    func changePasswordWrongCurrent() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            let account = try await Self.signup(client, "riley")
            for _ in 0..<3 {
                #expect(try await Self.login(client, account.email, "wrong-password").status == .unauthorized)
            }
            for _ in 0..<2 {
                let wrong = try await Self.call(
                    client,
                    .post,
                    "/api/auth/password",
                    token: account.accessToken,
                    json: ["current_password": "wrong-password", "new_password": "a-new-password"]
                )
                #expect(wrong.status == .unauthorized)
                #expect(wrong.json?["code"] as? String == "invalid_credentials")
            }
            // 3 failed logins + 2 failed password changes: the account is locked, for login and for this route.
            let blocked = try await Self.call(
                client,
                .post,
                "/api/auth/password",
                token: account.accessToken,
                json: ["current_password": Self.password, "new_password": "a-new-password"]
            )
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.json?["code"] as? String == "too_many_attempts")
            #expect(blocked.headers[.retryAfter].flatMap { Int($0) }.map { (1...900).contains($0) } == true)
            #expect(try await Self.login(client, account.email, Self.password).status == .tooManyRequests)
            // Nothing changed: the old session still refreshes.
            #expect(try await Self.refresh(client, account.refreshToken).status == .ok)
        }
    }

    @Test("a Google-only account has no password to change: 409 no_password")
    func changePasswordGoogleOnly() async throws {
        let app = try await TestAuthApp()
        let (_, issued) = try await Self.googleAccount(app)
        try await app.application.test(.router) { client in
            for body: [String: Any] in [["current_password": "anything-1", "new_password": "a-new-password"], ["new_password": "a-new-password"]] {
                let reply = try await Self.call(client, .post, "/api/auth/password", token: issued.accessToken, json: body)
                #expect(reply.status == .conflict)
                #expect(reply.json?["code"] as? String == "no_password")
                #expect((reply.json?["detail"] as? String)?.contains("Google") == true)
            }
            #expect(try await Self.refresh(client, issued.refreshToken).status == .ok, "nothing was revoked")
        }
    }

    // MARK: - Sign out everywhere

    @Test("logout-all: 200 with a message, the cookie cleared, every refresh session revoked; the access token still reads /me")
    func logoutAll() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            let laptop = try await Self.signup(client, "sam")
            let phone = cookieValue(try #require(try await Self.login(client, laptop.email, Self.password).setCookies(named: "refresh_token").first))
            let other = try await Self.signup(client, "sasha")

            let reply = try await Self.call(client, .post, "/api/auth/logout-all", token: laptop.accessToken, cookie: laptop.refreshToken)
            #expect(reply.status == .ok)
            #expect(reply.json?["message"] as? String == AccountController.logoutAllMessage)
            let cleared = try #require(reply.setCookies(named: "refresh_token").first)
            #expect(cleared.hasPrefix("refresh_token=;") && cleared.contains("Max-Age=0"))

            #expect(try await Self.refresh(client, laptop.refreshToken).status == .unauthorized)
            #expect(try await Self.refresh(client, phone).status == .unauthorized)
            #expect(try await Self.refresh(client, other.refreshToken).status == .ok, "another user's sessions are untouched")
            // Access tokens are not revocable; they expire within ACCESS_TOKEN_TTL_SECONDS.
            #expect(try await Self.call(client, .get, "/api/auth/me", token: laptop.accessToken).status == .ok)
            // Idempotent, and a new login works.
            #expect(try await Self.call(client, .post, "/api/auth/logout-all", token: laptop.accessToken).status == .ok)
            #expect(try await Self.login(client, laptop.email, Self.password).status == .ok)
            #expect(try await client.execute(uri: "/api/auth/logout-all", method: .post).status == .unauthorized)
        }
    }

    // MARK: - Delete the account

    @Test("delete: 202, the user, its sessions and attempts are gone, user.deleted is written, and the cached token gets 401")
    func deleteAccount() async throws {
        let app = try await TestAuthApp()
        let accounts = app.accounts
        let attempts = app.attempts
        let sessionsStore = app.sessionsStore
        let users = app.users
        try await app.application.test(.router) { client in
            let account = try await Self.signup(client, "taylor")
            #expect(try await Self.login(client, account.email, "wrong-password").status == .unauthorized)
            // The token is verified, and cached by the verifier, before the deletion.
            #expect(try await Self.call(client, .get, "/api/auth/me", token: account.accessToken).status == .ok)

            let before = Date()
            let reply = try await Self.call(
                client,
                .delete,
                "/api/auth/me",
                token: account.accessToken,
                cookie: account.refreshToken,
                json: ["password": Self.password]
            )
            #expect(reply.status == .accepted, "\(reply.text)")
            #expect(reply.json?["message"] as? String == AccountController.deletedMessage)
            #expect(reply.setCookies(named: "refresh_token").first?.contains("Max-Age=0") == true)

            #expect(try await users.find(id: account.id) == nil)
            #expect(sessionsStore.familyCount(userID: account.id) == 0)
            #expect(try await attempts.reserve(email: account.email, client: "203.0.113.7", limit: 1, window: 900, now: Date()) == .allowed, "no attempt left")
            let event = try #require(accounts.deletedEvents.first)
            #expect(accounts.deletedEvents.count == 1)
            #expect(accounts.deletedEventTopics == ["ecg.auth.events"])
            #expect(event.type == "ecg.auth.user.deleted.v1")
            #expect(event.subject == String(account.id))
            #expect(event.source == "auth-service")
            #expect(event.data.userID == UserID(account.id))
            #expect(event.data.deletedAt >= before.addingTimeInterval(-1) && event.data.deletedAt <= Date())

            let me = try await Self.call(client, .get, "/api/auth/me", token: account.accessToken)
            #expect(me.status == .unauthorized)
            #expect(me.headers[.wwwAuthenticate] == "Bearer")
            #expect(try await Self.refresh(client, account.refreshToken).status == .unauthorized)
            #expect(try await Self.login(client, "taylor@example.com", Self.password).status == .unauthorized)
            // Deleting again with the old token: the account is gone.
            let again = try await Self.call(client, .delete, "/api/auth/me", token: account.accessToken, json: ["password": Self.password])
            #expect(again.status == .unauthorized)
            #expect(try await Self.call(client, .post, "/api/auth/logout-all", token: account.accessToken).status == .unauthorized)
            #expect(accounts.deletedEvents.count == 1)
            // The email is free again, for a new account with a new id.
            let reborn = try await Self.signup(client, "taylor")
            #expect(reborn.id != account.id)
        }
    }

    @Test("delete with a password: missing is 422, wrong is 401 and counts toward the login limit, then 429")
    func deleteAccountPasswordChecks() async throws {
        let app = try await TestAuthApp()
        let accounts = app.accounts
        let users = app.users
        try await app.application.test(.router) { client in
            let account = try await Self.signup(client, "uma")
            for body in [nil, [:], ["password": NSNull()]] as [[String: Any]?] {
                let reply = try await Self.call(client, .delete, "/api/auth/me", token: account.accessToken, json: body)
                #expect(reply.status == .unprocessableContent, "\(String(describing: body)): \(reply.text)")
                #expect((reply.json?["detail"] as? String)?.hasPrefix("password") == true)
            }
            let typeMismatch = try await Self.call(client, .delete, "/api/auth/me", token: account.accessToken, json: ["password": 5])
            #expect(typeMismatch.status == .unprocessableContent)
            for _ in 0..<5 {
                let wrong = try await Self.call(client, .delete, "/api/auth/me", token: account.accessToken, json: ["password": "wrong-password"])
                #expect(wrong.status == .unauthorized)
                #expect(wrong.json?["code"] as? String == "invalid_credentials")
            }
            let blocked = try await Self.call(client, .delete, "/api/auth/me", token: account.accessToken, json: ["password": Self.password])
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.headers[.retryAfter] != nil)
            #expect(try await Self.login(client, account.email, Self.password).status == .tooManyRequests)
            #expect(try await users.find(id: account.id) != nil)
            #expect(accounts.deletedEvents.isEmpty)
        }
    }

    @Test("delete a Google-only account: 403 reauthentication_required without a fresh Google sign-in's cookie, 202 with it")
    func deleteGoogleAccount() async throws {
        let app = try await TestAuthApp()
        let (user, fresh) = try await Self.googleAccount(app)
        let stale = try await app.sessions.start(for: user, authenticatedWith: .google, now: Date().addingTimeInterval(-301))
        let passwordLogin = try await app.sessions.start(for: user, authenticatedWith: .password)
        let (_, someoneElse) = try await Self.googleAccount(app)
        let accounts = app.accounts
        let users = app.users
        try await app.application.test(.router) { client in
            for cookie in [nil, stale.refreshToken, passwordLogin.refreshToken, someoneElse.refreshToken, "not-a-token"] {
                let reply = try await Self.call(client, .delete, "/api/auth/me", token: fresh.accessToken, cookie: cookie, json: ["password": "x"])
                #expect(reply.status == .forbidden, "\(String(describing: cookie))")
                #expect(reply.json?["code"] as? String == "reauthentication_required")
                #expect((reply.json?["detail"] as? String)?.contains("sign in with Google again") == true)
            }
            #expect(try await users.find(id: user.id) != nil)

            // With the cookie of the Google sign-in a minute ago, and no body at all.
            let deleted = try await Self.call(client, .delete, "/api/auth/me", token: fresh.accessToken, cookie: fresh.refreshToken)
            #expect(deleted.status == .accepted, "\(deleted.text)")
            #expect(try await users.find(id: user.id) == nil)
            #expect(accounts.deletedEvents.map(\.data.userID) == [UserID(user.id)])
            #expect(try await Self.call(client, .get, "/api/auth/me", token: fresh.accessToken).status == .unauthorized)
        }
    }

    @Test("a revoked Google session is no proof either (after logout-all)")
    func deleteGoogleAccountRevokedSession() async throws {
        let app = try await TestAuthApp()
        let (user, fresh) = try await Self.googleAccount(app)
        let users = app.users
        try await app.application.test(.router) { client in
            #expect(try await Self.call(client, .post, "/api/auth/logout-all", token: fresh.accessToken).status == .ok)
            let reply = try await Self.call(client, .delete, "/api/auth/me", token: fresh.accessToken, cookie: fresh.refreshToken, json: [:])
            #expect(reply.status == .forbidden)
            #expect(try await users.find(id: user.id) != nil)
        }
    }

    // MARK: - OpenAPI

    @Test("the account routes are in the OpenAPI document, behind the user token, with their bodies")
    func openAPI() async throws {
        let app = try await TestAuthApp()
        let document = try #require(try JSONSerialization.jsonObject(with: app.document.jsonData()) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for (path, method, status) in [
            ("/api/auth/password", "post", "200"), ("/api/auth/logout-all", "post", "200"), ("/api/auth/me", "delete", "202"),
        ] {
            let operation = try #require(paths[path]?[method] as? [String: Any], "\(method) \(path)")
            #expect((operation["security"] as? [[String: Any]])?.first?["userToken"] != nil)
            #expect((operation["responses"] as? [String: Any])?[status] != nil)
        }
        #expect((paths["/api/auth/password"]?["post"] as? [String: Any])?["requestBody"] != nil)
        #expect((paths["/api/auth/me"]?["delete"] as? [String: Any])?["requestBody"] != nil)
        #expect(paths["/api/auth/me"]?["get"] != nil, "GET and DELETE share the path")
    }
}
