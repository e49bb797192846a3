import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import Testing

/// SPEC.md §3 auth-service rows 1–5 and the JWKS, through the gateway of the running test stack.
@Suite("auth-service through the gateway", .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_GATEWAY_URL"] != nil), .timeLimit(.minutes(3)))
struct AuthFlowTests {
    static let environment = ProcessInfo.processInfo.environment
    let gateway = environment["ECG_TEST_GATEWAY_URL"] ?? ""
    let authURL = environment["ECG_TEST_AUTH_URL"] ?? ""

    static let password = "correct-horse-42"

    struct Account {
        let username: String
        let email: String
        let password: String
        let accessToken: String
        let refreshToken: String
        let id: Int
    }

    func signup(_ prefix: String = "user", password: String = Self.password) async throws -> Account {
        let (username, email) = AuthHTTP.uniqueAccount(prefix)
        let reply = try await AuthHTTP.call(.POST, gateway + "/api/auth/signup", json: ["username": username, "email": email, "password": password])
        try #require(reply.status == 201, "\(reply.status) \(reply.text)")
        let body = try #require(reply.json)
        return Account(
            username: username,
            email: email,
            password: password,
            accessToken: try #require(body["access_token"] as? String),
            refreshToken: try #require(reply.cookie("refresh_token")),
            id: try #require((body["user"] as? [String: Any])?["id"] as? Int)
        )
    }

    func login(_ email: String, _ password: String) async throws -> AuthHTTP.Reply {
        try await AuthHTTP.call(.POST, gateway + "/api/auth/login", json: ["email": email, "password": password])
    }

    func me(_ token: String) async throws -> AuthHTTP.Reply {
        try await AuthHTTP.call(.GET, gateway + "/api/auth/me", headers: [("Authorization", "Bearer \(token)")])
    }

    func refresh(_ cookie: String?) async throws -> AuthHTTP.Reply {
        try await AuthHTTP.call(.POST, gateway + "/api/auth/refresh", headers: cookie.map { [("Cookie", "refresh_token=\($0)")] } ?? [])
    }

    static func expectRefreshCookie(_ reply: AuthHTTP.Reply, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let cookie = try #require(reply.setCookie("refresh_token"), sourceLocation: sourceLocation)
        let attributes = cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api/auth", "Max-Age=2592000"] {
            #expect(attributes.contains(attribute), "\(attribute) in \(cookie)", sourceLocation: sourceLocation)
        }
        // The test stack runs with COOKIE_SECURE=false (plain http on loopback).
        #expect(!attributes.contains("Secure"), sourceLocation: sourceLocation)
        let value = String(attributes[0].dropFirst("refresh_token=".count))
        #expect(value.count == 43, "256 bits, base64url", sourceLocation: sourceLocation)
    }

    // MARK: - Login CSRF (security review M1)

    @Test("M1: through the gateway, a cross-site text/plain login is 403 without a cookie, a non-JSON body is 415, the gateway's own origin passes")
    func loginCSRF() async throws {
        let (username, email) = AuthHTTP.uniqueAccount("csrf")
        let signup = try await AuthHTTP.call(
            .POST,
            gateway + "/api/auth/signup",
            json: ["username": username, "email": email, "password": Self.password],
            headers: [("Origin", gateway)]
        )
        #expect(signup.status == 201, "\(signup.text)")
        let body = "{\"email\":\"\(email)\",\"password\":\"\(Self.password)\",\"x\":\"=\"}"
        let attack = try await AuthHTTP.call(
            .POST,
            gateway + "/api/auth/login",
            rawBody: body,
            headers: [("Origin", "https://evil.example"), ("Sec-Fetch-Site", "cross-site")],
            contentType: "text/plain"
        )
        #expect(attack.status == 403, "\(attack.text)")
        #expect(attack.json?["code"] as? String == "forbidden_origin")
        #expect(attack.header("Set-Cookie") == nil)
        let plain = try await AuthHTTP.call(.POST, gateway + "/api/auth/login", rawBody: body, contentType: "text/plain")
        #expect(plain.status == 415, "\(plain.text)")
        #expect(plain.json?["code"] as? String == "unsupported_media_type")
        let own = try await AuthHTTP.call(.POST, gateway + "/api/auth/login", rawBody: body, headers: [("Origin", gateway)])
        #expect(own.status == 200, "\(own.text)")
        let curl = try await AuthHTTP.call(.POST, gateway + "/api/auth/login", rawBody: body)
        #expect(curl.status == 200, "\(curl.text)")
    }

    // MARK: - Row 1: signup

    @Test("row 1: signup answers 201 with the token, the user and the refresh cookie; no password or hash in the body")
    func signupRow() async throws {
        let (username, email) = AuthHTTP.uniqueAccount("사용자명")
        let reply = try await AuthHTTP.call(
            .POST,
            gateway + "/api/auth/signup",
            json: ["username": username, "email": email.uppercased(), "password": Self.password]
        )
        #expect(reply.status == 201)
        let body = try #require(reply.json)
        #expect(body["token_type"] as? String == "bearer")
        #expect((body["access_token"] as? String)?.split(separator: ".").count == 3)
        let user = try #require(body["user"] as? [String: Any])
        #expect(user["id"] as? Int != nil)
        #expect(user["username"] as? String == username)
        #expect(user["email"] as? String == email)
        #expect(user["is_active"] as? Bool == true)
        #expect(!reply.text.contains(Self.password))
        #expect(!reply.text.contains("$2b$"))
        #expect(reply.header("X-Request-ID") != nil)
        try Self.expectRefreshCookie(reply)
    }

    @Test("row 1: email_taken (case-insensitive), username_taken (case-insensitive), 409")
    func signupConflicts() async throws {
        let account = try await signup("taken")
        let sameEmail = try await AuthHTTP.call(
            .POST,
            gateway + "/api/auth/signup",
            json: ["username": "other_\(UUID().uuidString.prefix(6))", "email": account.email.uppercased(), "password": Self.password]
        )
        #expect(sameEmail.status == 409)
        #expect(sameEmail.code == "email_taken")
        let sameName = try await AuthHTTP.call(
            .POST,
            gateway + "/api/auth/signup",
            json: ["username": account.username.uppercased(), "email": AuthHTTP.uniqueAccount().email, "password": Self.password]
        )
        #expect(sameName.status == 409)
        #expect(sameName.code == "username_taken")
    }

    @Test("row 1: validation_error names the field; invalid_json for malformed bodies")
    func signupValidation() async throws {
        let (username, email) = AuthHTTP.uniqueAccount("valid")
        let cases: [([String: Any], String)] = [
            (["username": "ab", "email": email, "password": Self.password], "username"),
            (["username": String(repeating: "a", count: 51), "email": email, "password": Self.password], "username"),
            (["username": "no spaces", "email": email, "password": Self.password], "username"),
            (["username": username, "email": "not-an-email", "password": Self.password], "email"),
            (["username": username, "email": email, "password": "seven77"], "password"),
            (["username": username, "email": email, "password": String(repeating: "p", count: 129)], "password"),
            (["username": username, "email": email], "password"),
            (["username": username, "email": 42, "password": Self.password], "email"),
        ]
        for (body, field) in cases {
            let reply = try await AuthHTTP.call(.POST, gateway + "/api/auth/signup", json: body)
            #expect(reply.status == 422, "\(body)")
            #expect(reply.code == "validation_error")
            #expect((reply.json?["detail"] as? String)?.contains(field) == true, "\(reply.text)")
        }
        for raw in ["{\"username\":", "not json", "[1,2"] {
            let reply = try await AuthHTTP.call(.POST, gateway + "/api/auth/signup", rawBody: raw)
            #expect(reply.status == 400)
            #expect(reply.code == "invalid_json")
        }
        let login = try await AuthHTTP.call(.POST, gateway + "/api/auth/login", rawBody: "{")
        #expect(login.code == "invalid_json")
    }

    @Test("row 1: a 128-character password works; one over 72 bytes is not truncated")
    func longPasswords() async throws {
        let long = try await signup("long", password: String(repeating: "p", count: 128))
        #expect(try await login(long.email, long.password).status == 200)
        // 30 Korean syllables = 90 bytes; a password that differs only after byte 72 must be refused.
        let korean = String(repeating: "가", count: 29) + "나"
        let account = try await signup("korean", password: korean)
        #expect(try await login(account.email, korean).status == 200)
        #expect(try await login(account.email, String(repeating: "가", count: 29) + "다").status == 401)
    }

    // MARK: - Row 2: login

    @Test("row 2: login answers 200 with the same body as signup and a refresh cookie")
    func loginRow() async throws {
        let account = try await signup("login")
        let reply = try await login(account.email.uppercased(), account.password)
        #expect(reply.status == 200)
        #expect(reply.json?["token_type"] as? String == "bearer")
        #expect(reply.json?["access_token"] as? String != nil)
        let user = try #require(reply.json?["user"] as? [String: Any])
        #expect(user["id"] as? Int == account.id)
        #expect(user["username"] as? String == account.username)
        #expect(user["email"] as? String == account.email)
        #expect(user["is_active"] as? Bool == true)
        try Self.expectRefreshCookie(reply)
    }

    @Test("row 2: unknown email and wrong password give byte-identical 401 invalid_credentials")
    func invalidCredentials() async throws {
        let account = try await signup("creds")
        var wrong: [AuthHTTP.Reply] = []
        var unknown: [AuthHTTP.Reply] = []
        for _ in 0..<3 {
            wrong.append(try await login(account.email, "wrong-password-1"))
            unknown.append(try await login(AuthHTTP.uniqueAccount("ghost").email, "wrong-password-1"))
        }
        for reply in wrong + unknown {
            #expect(reply.status == 401)
            #expect(reply.code == "invalid_credentials")
            #expect(reply.header("WWW-Authenticate") == "Bearer")
            #expect(reply.setCookie("refresh_token") == nil)
        }
        #expect(wrong[0].body == unknown[0].body)
        // That both paths do the same bcrypt work is shown without a stopwatch in PasswordHasherTests
        // ("no stored hash … waits for the hashing pool like a real check").
    }

    @Test("row 2: after 5 failures within 15 min the email gets 429 too_many_attempts with Retry-After, even with the right password")
    func rateLimit() async throws {
        let account = try await signup("limited")
        for attempt in 1...5 {
            let reply = try await login(account.email, "wrong-password-\(attempt)")
            #expect(reply.status == 401, "attempt \(attempt)")
        }
        for password in ["wrong-password-6", account.password] {
            let reply = try await login(account.email, password)
            #expect(reply.status == 429)
            #expect(reply.code == "too_many_attempts")
            let retryAfter = try #require(reply.header("Retry-After").flatMap(Int.init))
            #expect((1...900).contains(retryAfter))
        }
        // Other emails are not affected.
        let other = try await signup("unlimited")
        #expect(try await login(other.email, other.password).status == 200)
    }

    @Test("row 2: a successful login resets the count")
    func successResetsCount() async throws {
        let account = try await signup("reset")
        for _ in 1...4 { #expect(try await login(account.email, "wrong-password").status == 401) }
        #expect(try await login(account.email, account.password).status == 200)
        for _ in 1...4 { #expect(try await login(account.email, "wrong-password").status == 401) }
        #expect(try await login(account.email, account.password).status == 200)
    }

    // MARK: - Row 3: me

    @Test("row 3: /me answers the account; created_at is ISO 8601 UTC with Z")
    func meRow() async throws {
        let account = try await signup("me")
        let reply = try await me(account.accessToken)
        #expect(reply.status == 200)
        let body = try #require(reply.json)
        #expect(body["id"] as? Int == account.id)
        #expect(body["username"] as? String == account.username)
        #expect(body["email"] as? String == account.email)
        #expect(body["auth_provider"] as? String == "local")
        #expect(body["is_active"] as? Bool == true)
        let createdAt = try #require(body["created_at"] as? String)
        #expect(createdAt.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"#, options: .regularExpression) != nil, "\(createdAt)")
        #expect(abs(try Date(createdAt, strategy: .iso8601).timeIntervalSinceNow) < 300)
    }

    @Test("row 3: no token, a refresh token, alg none, HS256, an unknown key, wrong aud/iss/typ, expired: 401 with WWW-Authenticate")
    func meRejectsBadTokens() async throws {
        let account = try await signup("forger")
        let header = try #require(Self.jwtHeader(account.accessToken))
        let kid = try #require(header["kid"] as? String)
        let keysDirectory = try #require(Self.environment["ECG_TEST_KEYS_DIR"])
        let pem = try String(contentsOfFile: "\(keysDirectory)/auth-service.user.pem", encoding: .utf8)
        let userKey = try EdDSA.PrivateKey(pem: pem)
        let sub = String(account.id)

        // Control: a token minted by hand with the real key and right claims is accepted.
        #expect(try await me(try await Self.sign(key: userKey, kid: kid, claims: Self.claims(sub: sub))).status == 200)

        let payload = Self.base64URL(try JSONSerialization.data(withJSONObject: Self.claims(sub: sub).json))
        let none = Self.base64URL(Data(#"{"alg":"none","kid":"\#(kid)","typ":"JWT"}"#.utf8)) + ".\(payload)."
        let hsHeader = Self.base64URL(Data(#"{"alg":"HS256","kid":"\#(kid)","typ":"JWT"}"#.utf8))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(hsHeader).\(payload)".utf8),
            using: SymmetricKey(data: userKey.publicKey.rawRepresentation)
        )
        let hs256 = "\(hsHeader).\(payload).\(Self.base64URL(Data(mac)))"
        let stranger = try EdDSA.PrivateKey(curve: .ed25519)

        let refused: [(String, String?)] = [
            ("no token", nil),
            ("a refresh token", account.refreshToken),
            ("alg none", none),
            ("HS256 with the public key as secret", hs256),
            ("an unknown kid", try await Self.sign(key: stranger, kid: "unknown-kid", claims: Self.claims(sub: sub))),
            ("another key under the real kid", try await Self.sign(key: stranger, kid: kid, claims: Self.claims(sub: sub))),
            ("wrong audience", try await Self.sign(key: userKey, kid: kid, claims: Self.claims(sub: sub, aud: "media-service"))),
            ("wrong issuer", try await Self.sign(key: userKey, kid: kid, claims: Self.claims(sub: sub, iss: "media-service"))),
            ("typ service", try await Self.sign(key: userKey, kid: kid, claims: Self.claims(sub: sub, typ: "service"))),
            ("expired", try await Self.sign(key: userKey, kid: kid, claims: Self.claims(sub: sub, expiresIn: -120))),
            ("garbage", "not.a.jwt"),
        ]
        for (label, token) in refused {
            let reply = try await AuthHTTP.call(.GET, gateway + "/api/auth/me", headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
            #expect(reply.status == 401, "\(label)")
            #expect(reply.header("WWW-Authenticate") == "Bearer", "\(label)")
            #expect(reply.json?["code"] as? String != nil, "\(label)")
        }
    }

    // MARK: - Rows 4 and 5: refresh and logout

    @Test("row 4: rotation; the old cookie works again within 10 s, then revokes the family: 401 refresh_token_reused, and the newest token too")
    func refreshRotation() async throws {
        let account = try await signup("refresh")
        let first = try await refresh(account.refreshToken)
        #expect(first.status == 200)
        #expect(first.json?["token_type"] as? String == "bearer")
        let newAccess = try #require(first.json?["access_token"] as? String)
        #expect(try await me(newAccess).status == 200)
        try Self.expectRefreshCookie(first)
        let second = try #require(first.cookie("refresh_token"))
        #expect(second != account.refreshToken)

        // Another tab refreshes with the original token at once: still accepted, and it gets the successor
        // already issued, not a second one (security review M3: the family is never forked).
        let tab = try await refresh(account.refreshToken)
        #expect(tab.status == 200)
        let tabToken = try #require(tab.cookie("refresh_token"))
        #expect(tabToken == second)
        // The newest token of the family rotates normally.
        let third = try await refresh(second)
        #expect(third.status == 200)
        let newest = try #require(third.cookie("refresh_token"))

        try await Task.sleep(for: .milliseconds(10_500))
        let replay = try await refresh(account.refreshToken)
        #expect(replay.status == 401)
        #expect(replay.code == "refresh_token_reused")
        #expect(replay.setCookie("refresh_token")?.contains("Max-Age=0") == true)
        let revoked = try await refresh(newest)
        #expect(revoked.status == 401)
        #expect(revoked.code == "invalid_refresh_token")
        // The tab's token was rotated more than 10 s ago: presenting it is reuse too.
        let tabReplay = try await refresh(tabToken)
        #expect(tabReplay.status == 401)
        #expect(tabReplay.code == "refresh_token_reused")
        // Access tokens live on until they expire; the account can log in again.
        #expect(try await login(account.email, account.password).status == 200)
    }

    @Test("row 4: no cookie or an unknown cookie is 401")
    func refreshWithoutCookie() async throws {
        #expect(try await refresh(nil).status == 401)
        #expect(try await refresh("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").status == 401)
        #expect(try await refresh("garbage").status == 401)
    }

    @Test("row 5: logout answers the Korean message, clears the cookie, revokes the family, and is idempotent")
    func logoutRow() async throws {
        let account = try await signup("logout")
        let rotated = try #require(try await refresh(account.refreshToken).cookie("refresh_token"))
        let reply = try await AuthHTTP.call(.POST, gateway + "/api/auth/logout", headers: [("Cookie", "refresh_token=\(rotated)")])
        #expect(reply.status == 200)
        #expect(reply.json?["message"] as? String == "로그아웃 되었습니다.")
        #expect(reply.text == #"{"message":"로그아웃 되었습니다."}"#)
        let cleared = try #require(reply.setCookie("refresh_token"))
        #expect(cleared.hasPrefix("refresh_token=;"))
        #expect(cleared.contains("Max-Age=0"))
        #expect(cleared.contains("Path=/api/auth"))
        #expect(try await refresh(rotated).status == 401)
        // The ancestor is within its grace window, but the family is revoked.
        #expect(try await refresh(account.refreshToken).status == 401)
        let again = try await AuthHTTP.call(.POST, gateway + "/api/auth/logout", headers: [("Cookie", "refresh_token=\(rotated)")])
        #expect(again.status == 200)
        let anonymous = try await AuthHTTP.call(.POST, gateway + "/api/auth/logout")
        #expect(anonymous.status == 200)
        #expect(anonymous.json?["message"] as? String == "로그아웃 되었습니다.")
    }

    // MARK: - JWKS, OpenAPI, Google unconfigured

    @Test("the gateway's JWKS publishes the key that signs user tokens")
    func jwks() async throws {
        let account = try await signup("jwks")
        let header = try #require(Self.jwtHeader(account.accessToken))
        #expect(header["alg"] as? String == "EdDSA")
        let reply = try await AuthHTTP.call(.GET, gateway + "/.well-known/jwks.json")
        let keys = try #require(reply.json?["keys"] as? [[String: Any]])
        #expect(keys.contains { $0["kid"] as? String == header["kid"] as? String && $0["crv"] as? String == "Ed25519" })
        #expect(keys.count >= 2, "the service key and the user-token key")
    }

    @Test("auth-service's OpenAPI document covers every auth route")
    func openAPI() async throws {
        let reply = try await AuthHTTP.call(.GET, authURL + "/openapi.json")
        let paths = try #require(reply.json?["paths"] as? [String: [String: Any]])
        for (path, method) in [
            ("/api/auth/signup", "post"), ("/api/auth/login", "post"), ("/api/auth/me", "get"), ("/api/auth/refresh", "post"),
            ("/api/auth/logout", "post"), ("/api/auth/google/login", "get"), ("/api/auth/google/callback", "get"), ("/.well-known/jwks.json", "get"),
        ] {
            #expect(paths[path]?[method] != nil, "\(method) \(path)")
        }
    }

    @Test("row 6 without Google configured: 503 google_not_configured")
    func googleNotConfigured() async throws {
        let reply = try await AuthHTTP.call(.GET, gateway + "/api/auth/google/login")
        #expect(reply.status == 503)
        #expect(reply.code == "google_not_configured")
    }

    // MARK: - Token forging

    struct Claims: Sendable {
        var iss = "auth-service"
        var aud = "ecg-api"
        var sub: String
        var typ = "access"
        var expiresIn: TimeInterval = 600
        var json: [String: Any] {
            let now = Int(Date().timeIntervalSince1970)
            return ["iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + Int(expiresIn), "jti": UUID().uuidString, "typ": typ]
        }
    }

    static func claims(
        sub: String,
        aud: String = "ecg-api",
        iss: String = "auth-service",
        typ: String = "access",
        expiresIn: TimeInterval = 600
    ) -> Claims {
        Claims(iss: iss, aud: aud, sub: sub, typ: typ, expiresIn: expiresIn)
    }

    /// An EdDSA JWT signed by hand, so that any claim can be wrong.
    static func sign(key: EdDSA.PrivateKey, kid: String, claims: Claims) async throws -> String {
        let header = base64URL(Data(#"{"alg":"EdDSA","kid":"\#(kid)","typ":"JWT"}"#.utf8))
        let payload = base64URL(try JSONSerialization.data(withJSONObject: claims.json))
        let signature = try Curve25519.Signing.PrivateKey(rawRepresentation: key.rawRepresentation).signature(for: Data("\(header).\(payload)".utf8))
        return "\(header).\(payload).\(base64URL(signature))"
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=",
            with: ""
        )
    }

    static func jwtHeader(_ token: String) -> [String: Any]? {
        guard let data = base64URLDecode(String(token.split(separator: ".")[0])) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    static func base64URLDecode(_ string: String) -> Data? {
        var base64 = string.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
