import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// SPEC.md §3 rows 6–7 end to end: a second auth-service process, started from the build with the
/// test stack's environment plus `GOOGLE_*` pointing at `FakeOpenIDProvider`, which this suite runs
/// on a random port. Its tokens are checked through the gateway (both processes share the user-token key).
@Suite(
    "Google sign-in against a local OpenID provider",
    .enabled(
        if: ProcessInfo.processInfo.environment["ECG_TEST_BIN_DIR"] != nil && ProcessInfo.processInfo.environment["ECG_TEST_GATEWAY_URL"] != nil
    ),
    .timeLimit(.minutes(3))
)
struct GoogleSignInFlowTests {
    static let environment = ProcessInfo.processInfo.environment
    let gateway = environment["ECG_TEST_GATEWAY_URL"] ?? ""

    /// The provider and the auth-service process configured for it.
    struct Harness {
        let provider: FakeOpenIDProvider
        let authURL: String
        let frontendURL: String
    }

    final class Issuer: Sendable {
        let value = Mutex("")
    }

    /// Starts the provider and an auth-service configured for it, runs `body`, stops both.
    func withHarness(_ body: @Sendable (Harness) async throws -> Void) async throws {
        let provider = try FakeOpenIDProvider()
        let issuer = Issuer()
        let app = Application(router: provider.router(issuer: { issuer.value.withLock { $0 } }))
        try await app.test(.live) { client in
            let providerURL = "http://localhost:\(try #require(client.port))"
            issuer.value.withLock { $0 = providerURL }
            try await SpawnedAuthService.run(environment: { authURL in
                [
                    "GOOGLE_CLIENT_ID": provider.clientID,
                    "GOOGLE_CLIENT_SECRET": provider.clientSecret,
                    "GOOGLE_REDIRECT_URI": "\(authURL)/api/auth/google/callback",
                    "GOOGLE_AUTH_URL": "\(providerURL)/authorize",
                    "GOOGLE_TOKEN_URL": "\(providerURL)/token",
                    "GOOGLE_JWKS_URL": "\(providerURL)/jwks",
                    "GOOGLE_ISSUER": providerURL,
                ]
            }) { service in
                try await body(Harness(provider: provider, authURL: service.url, frontendURL: try #require(service.environment["FRONTEND_URL"])))
            }
        }
    }

    /// What the browser ends with.
    struct Outcome {
        let location: String
        let callback: AuthHTTP.Reply
        var query: [String: String] { AuthHTTP.query(of: location) }
        var succeeded: Bool { query["success"] == "true" && query["access_token"] != nil }
    }

    /// Plays the browser: login → provider's authorize → callback with the state cookie.
    /// `tamper` may change the callback URL and the cookie before they are sent.
    func signIn(
        _ harness: Harness,
        as person: FakeOpenIDProvider.Person,
        misbehaviour: FakeOpenIDProvider.Misbehaviour = .none,
        tamper: (_ callbackURL: String, _ stateCookie: String) -> (String, String) = { ($0, $1) }
    ) async throws -> Outcome {
        harness.provider.signInNext(person, misbehaviour: misbehaviour)
        let login = try await AuthHTTP.call(.GET, harness.authURL + "/api/auth/google/login")
        try #require(login.status == 302, "\(login.status) \(login.text)")
        let authorize = try #require(login.header("Location"))
        let stateCookie = try #require(login.cookie("google_oauth_state"))
        let cookieLine = try #require(login.setCookie("google_oauth_state"))
        #expect(cookieLine.contains("HttpOnly"))
        #expect(cookieLine.contains("Path=/api/auth/google"))
        let query = AuthHTTP.query(of: authorize)
        #expect(query["response_type"] == "code")
        #expect(query["scope"] == "openid email profile")
        #expect(query["code_challenge_method"] == "S256")
        #expect(query["state"] != nil && query["nonce"] != nil && query["code_challenge"] != nil)

        let provider = try await AuthHTTP.call(.GET, authorize)
        try #require(provider.status == 302, "provider: \(provider.status) \(provider.text)")
        let callbackURL = try #require(provider.header("Location"))
        let (url, cookie) = tamper(callbackURL, stateCookie)
        let callback = try await AuthHTTP.call(.GET, url, headers: [("Cookie", "google_oauth_state=\(cookie)")])
        #expect(callback.status == 302)
        let location = try #require(callback.header("Location"))
        #expect(location.hasPrefix("\(harness.frontendURL)/auth/callback?"), "\(location)")
        #expect(callback.setCookie("google_oauth_state")?.contains("Max-Age=0") == true, "the state cookie is cleared")
        return Outcome(location: location, callback: callback)
    }

    func me(_ token: String) async throws -> [String: Any] {
        let reply = try await AuthHTTP.call(.GET, gateway + "/api/auth/me", headers: [("Authorization", "Bearer \(token)")])
        try #require(reply.status == 200, "\(reply.status) \(reply.text)")
        return try #require(reply.json)
    }

    static func person(_ prefix: String = "g", verified: Bool = true) -> FakeOpenIDProvider.Person {
        let id = UUID().uuidString.prefix(10).lowercased()
        return .init(subject: "google-\(id)", email: "\(prefix).\(id)@Gmail.example.com", emailVerified: verified, name: "\(prefix) \(id)")
    }

    // MARK: - Cases

    @Test("good flow: a new Google account, redirected with success=true and an access token, plus the refresh cookie")
    func goodFlow() async throws {
        try await withHarness { harness in
            let person = Self.person("new")
            let outcome = try await signIn(harness, as: person)
            #expect(outcome.succeeded, "\(outcome.location)")
            #expect(harness.provider.successfulExchanges == 1, "the code was exchanged with the secret and the PKCE verifier")
            let account = try await me(try #require(outcome.query["access_token"]))
            #expect(account["auth_provider"] as? String == "google")
            #expect(account["email"] as? String == person.email.lowercased())
            let cookie = try #require(outcome.callback.setCookie("refresh_token"))
            for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api/auth", "Max-Age=2592000"] { #expect(cookie.contains(attribute)) }
            #expect(outcome.callback.header("Cache-Control") == "no-store")
            // The refresh cookie works (through the gateway's auth-service: same database).
            let refresh = try await AuthHTTP.call(
                .POST,
                gateway + "/api/auth/refresh",
                headers: [("Cookie", "refresh_token=\(try #require(outcome.callback.cookie("refresh_token")))")]
            )
            #expect(refresh.status == 200)
        }
    }

    @Test("returning user: the same Google sub signs in to the same account")
    func returningUser() async throws {
        try await withHarness { harness in
            let person = Self.person("back")
            let first = try await signIn(harness, as: person)
            let second = try await signIn(harness, as: person)
            #expect(first.succeeded && second.succeeded)
            let one = try await me(try #require(first.query["access_token"]))
            let two = try await me(try #require(second.query["access_token"]))
            #expect(one["id"] as? Int == two["id"] as? Int)
            #expect(one["username"] as? String == two["username"] as? String)
        }
    }

    @Test("tampered state: a changed state parameter or cookie ends in an error redirect, without a session")
    func tamperedState() async throws {
        try await withHarness { harness in
            let changedParameter = try await signIn(harness, as: Self.person()) { url, cookie in
                (url.replacingOccurrences(of: "state=", with: "state=x"), cookie)
            }
            let changedCookie = try await signIn(harness, as: Self.person()) { url, cookie in
                (url, (cookie.first == "A" ? "B" : "A") + cookie.dropFirst())
            }
            let noCookie = try await signIn(harness, as: Self.person()) { url, _ in (url, "") }
            for outcome in [changedParameter, changedCookie, noCookie] {
                #expect(!outcome.succeeded)
                #expect(outcome.query["error"]?.isEmpty == false, "\(outcome.location)")
                #expect(outcome.callback.setCookie("refresh_token") == nil)
            }
            #expect(harness.provider.successfulExchanges == 0, "the code is never exchanged when the state is wrong")
        }
    }

    @Test("wrong nonce, wrong audience and a bad signature are refused")
    func badIDTokens() async throws {
        try await withHarness { harness in
            for misbehaviour in [FakeOpenIDProvider.Misbehaviour.wrongNonce, .wrongAudience, .badSignature] {
                let person = Self.person("bad")
                let outcome = try await signIn(harness, as: person, misbehaviour: misbehaviour)
                #expect(!outcome.succeeded, "\(misbehaviour)")
                #expect(outcome.query["error"]?.isEmpty == false, "\(misbehaviour): \(outcome.location)")
                #expect(outcome.callback.setCookie("refresh_token") == nil)
            }
            // The same people sign in fine once the provider behaves.
            #expect(try await signIn(harness, as: Self.person("good")).succeeded)
        }
    }

    @Test("a Google identity is never linked into a password account, verified or not (security review H1)")
    func linking() async throws {
        try await withHarness { harness in
            let (username, email) = AuthHTTP.uniqueAccount("local")
            let signup = try await AuthHTTP.call(
                .POST,
                gateway + "/api/auth/signup",
                json: ["username": username, "email": email, "password": "local-password-1"]
            )
            try #require(signup.status == 201)
            let localID = try #require((signup.json?["user"] as? [String: Any])?["id"] as? Int)
            let subject = "google-\(UUID().uuidString.prefix(10))"

            let unverified = try await signIn(harness, as: .init(subject: subject, email: email, emailVerified: false, name: "Local"))
            #expect(!unverified.succeeded)
            #expect(unverified.query["error"]?.isEmpty == false)
            // The local account is untouched: its password still works and it is still local.
            let login = try await AuthHTTP.call(.POST, gateway + "/api/auth/login", json: ["email": email, "password": "local-password-1"])
            #expect(login.status == 200)
            #expect(try await me(try #require(login.json?["access_token"] as? String))["auth_provider"] as? String == "local")

            // Pre-account hijacking: whoever signed up with this e-mail was never verified to own it, so even a
            // verified Google e-mail does not sign in to that account; the error says to use the password.
            let verified = try await signIn(harness, as: .init(subject: subject, email: email.uppercased(), emailVerified: true, name: "Local"))
            #expect(!verified.succeeded, "\(verified.location)")
            #expect(verified.query["error"]?.contains("password") == true)
            #expect(verified.query["access_token"] == nil)
            let again = try await AuthHTTP.call(.POST, gateway + "/api/auth/login", json: ["email": email, "password": "local-password-1"])
            #expect(again.status == 200)
            let profile = try await me(try #require(again.json?["access_token"] as? String))
            #expect(profile["id"] as? Int == localID)
            #expect(profile["auth_provider"] as? String == "local")
        }
    }
}
