import Crypto
import ECGTokens
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Synchronization
import Testing
import _CryptoExtras

@testable import AuthService

@Suite("Google sign-in pieces")
struct GoogleSignInTests {
    @Test("PKCE S256 matches RFC 7636 appendix B")
    func pkceVector() {
        #expect(PKCE.challenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        let verifier = PKCE.makeVerifier()
        #expect((43...128).contains(verifier.count))
    }

    // MARK: - State cookie

    static func contents(expiresIn seconds: TimeInterval = 600) -> GoogleStateCookie.Contents {
        .init(state: "s", nonce: "n", verifier: "v", exp: Int(Date().addingTimeInterval(seconds).timeIntervalSince1970))
    }

    @Test("the state cookie opens when intact and refuses tampering, other keys and expiry")
    func stateCookie() throws {
        let key = try SigningKey.generate()
        let cookie = GoogleStateCookie(keys: [GoogleStateCookie.deriveKey(from: key)], secure: true)
        let sealed = try cookie.seal(Self.contents())
        #expect(cookie.open(sealed) == Self.contents().withSameExpiry(as: cookie.open(sealed)))
        #expect(cookie.open(sealed)?.state == "s")

        // Change the first character of the payload or of the MAC (the last one may only hold padding bits).
        let parts = sealed.split(separator: ".").map(String.init)
        let flippedPayload = (parts[0].first == "A" ? "B" : "A") + parts[0].dropFirst() + "." + parts[1]
        let flippedMAC = parts[0] + "." + (parts[1].first == "A" ? "B" : "A") + parts[1].dropFirst()
        #expect(cookie.open(flippedPayload) == nil)
        #expect(cookie.open(flippedMAC) == nil)
        #expect(cookie.open("garbage") == nil)

        let otherKey = GoogleStateCookie(keys: [GoogleStateCookie.deriveKey(from: try SigningKey.generate())], secure: true)
        #expect(otherKey.open(sealed) == nil)
        #expect(cookie.open(try cookie.seal(Self.contents(expiresIn: -1))) == nil)

        // After a rotation the previous key still opens cookies it sealed.
        let rotated = GoogleStateCookie(
            keys: [GoogleStateCookie.deriveKey(from: try SigningKey.generate()), GoogleStateCookie.deriveKey(from: key)],
            secure: true
        )
        #expect(rotated.open(sealed)?.nonce == "n")

        let attributes = cookie.setting(sealed).description
        for attribute in ["google_oauth_state=", "HttpOnly", "SameSite=Lax", "Path=/api/auth/google", "Max-Age=600", "Secure"] {
            #expect(attributes.contains(attribute), "\(attribute) in \(attributes)")
        }
    }

    // MARK: - id_token verification

    struct Provider {
        let key: JWTKit.Insecure.RSA.PrivateKey
        let kid = "test-kid"
        let signer = JWTKeyCollection()

        init() async throws {
            key = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
            await signer.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        }

        var keySource: StaticGoogleKeySource { StaticGoogleKeySource(keys: [kid: key.publicKey]) }

        func claims(
            issuer: String = "https://accounts.google.com",
            audience: [String] = ["client-1"],
            nonce: String? = "nonce-1",
            emailVerified: Bool = true,
            expiresIn: TimeInterval = 300,
            azp: String? = nil
        ) -> GoogleIDTokenClaims {
            GoogleIDTokenClaims(
                iss: .init(value: issuer),
                aud: .init(value: audience),
                sub: .init(value: "google-sub-1"),
                exp: .init(value: Date().addingTimeInterval(expiresIn)),
                iat: .init(value: Date()),
                azp: azp,
                nonce: nonce,
                email: "Person@Gmail.com",
                emailVerified: .init(value: emailVerified),
                name: "Person One"
            )
        }

        func sign(_ claims: GoogleIDTokenClaims) async throws -> String {
            try await signer.sign(claims, kid: JWKIdentifier(string: kid))
        }
    }

    @Test("a good id_token gives the identity, email lowercased")
    func goodToken() async throws {
        let provider = try await Provider()
        let verifier = GoogleIDTokenVerifier(clientID: "client-1", issuer: "https://accounts.google.com", keys: provider.keySource)
        let identity = try await verifier.verify(try await provider.sign(provider.claims()), nonce: "nonce-1")
        #expect(identity == GoogleIdentity(subject: "google-sub-1", email: "person@gmail.com", emailVerified: true, name: "Person One"))
        // Google's issuer is also written without the scheme.
        _ = try await verifier.verify(try await provider.sign(provider.claims(issuer: "accounts.google.com")), nonce: "nonce-1")
    }

    @Test("wrong issuer, audience, azp, nonce, expiry and unverified email are refused")
    func refusals() async throws {
        let provider = try await Provider()
        let verifier = GoogleIDTokenVerifier(clientID: "client-1", issuer: "https://accounts.google.com", keys: provider.keySource)
        let cases: [(GoogleIDTokenClaims, String)] = [
            (provider.claims(issuer: "https://evil.example.com"), "issuer"),
            (provider.claims(audience: ["client-2"]), "audience"),
            (provider.claims(audience: ["client-1", "client-2"]), "no azp"),
            (provider.claims(azp: "client-2"), "azp"),
            (provider.claims(nonce: "nonce-2"), "nonce"),
            (provider.claims(nonce: nil), "no nonce"),
            (provider.claims(expiresIn: -120), "expired"),
        ]
        for (claims, label) in cases {
            await #expect(throws: GoogleSignInError.self, "\(label)") {
                try await verifier.verify(try await provider.sign(claims), nonce: "nonce-1")
            }
        }
        await #expect(throws: GoogleSignInError.emailNotVerified) {
            try await verifier.verify(try await provider.sign(provider.claims(emailVerified: false)), nonce: "nonce-1")
        }
    }

    @Test("a bad signature, another kid, alg none and HS256 are refused")
    func signatureRefusals() async throws {
        let provider = try await Provider()
        let verifier = GoogleIDTokenVerifier(clientID: "client-1", issuer: "https://accounts.google.com", keys: provider.keySource)
        let good = try await provider.sign(provider.claims())
        let parts = good.split(separator: ".").map(String.init)

        let impostor = try await Provider()
        let forged = try await impostor.sign(impostor.claims())
        await #expect(throws: GoogleSignInError.invalidIDToken("signature does not verify")) { try await verifier.verify(forged, nonce: "nonce-1") }

        let otherKid = JWTKeyCollection()
        await otherKid.add(rsa: impostor.key, digestAlgorithm: .sha256, kid: "other")
        let unknown = try await otherKid.sign(provider.claims(), kid: "other")
        await #expect(throws: GoogleSignInError.invalidIDToken("unknown kid other")) { try await verifier.verify(unknown, nonce: "nonce-1") }

        let noneHeader = Data(#"{"alg":"none","kid":"test-kid"}"#.utf8).base64URLEncodedString()
        await #expect(throws: GoogleSignInError.self) { try await verifier.verify("\(noneHeader).\(parts[1]).", nonce: "nonce-1") }
        let hsHeader = Data(#"{"alg":"HS256","kid":"test-kid"}"#.utf8).base64URLEncodedString()
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(hsHeader).\(parts[1])".utf8),
            using: SymmetricKey(data: provider.key.publicKey.derRepresentation)
        )
        await #expect(throws: GoogleSignInError.self) {
            try await verifier.verify("\(hsHeader).\(parts[1]).\(Data(mac).base64URLEncodedString())", nonce: "nonce-1")
        }
    }

    @Test("JWKS documents yield their RSA signing keys by kid")
    func jwksParsing() async throws {
        let provider = try await Provider()
        let (n, e) = try provider.key.publicKey.getKeyPrimitives()
        let jwks = """
            {"keys":[{"kty":"RSA","kid":"test-kid","use":"sig","alg":"RS256","n":"\(n.base64URLEncodedString())","e":"\(e.base64URLEncodedString())"},
                     {"kty":"EC","kid":"ec","crv":"P-256","x":"x","y":"y"}]}
            """
        let keys = try RemoteGoogleKeySet.rsaKeys(fromJWKS: Data(jwks.utf8))
        #expect(Set(keys.keys) == ["test-kid"])
        let verifier = GoogleIDTokenVerifier(clientID: "client-1", issuer: "https://accounts.google.com", keys: StaticGoogleKeySource(keys: keys))
        _ = try await verifier.verify(try await provider.sign(provider.claims()), nonce: "nonce-1")
    }

    // MARK: - Accounts

    @Test("usernames for new Google accounts come from the name, else the email")
    func usernameBase() {
        #expect(GoogleAccountResolver.usernameBase(name: "Jane Doe", email: "j@example.com") == "JaneDoe")
        #expect(GoogleAccountResolver.usernameBase(name: "김철수", email: "k@example.com") == "김철수")
        #expect(GoogleAccountResolver.usernameBase(name: "J.", email: "jane.doe@example.com") == "janedoe")
        #expect(GoogleAccountResolver.usernameBase(name: nil, email: "x.y@example.com") == "user")
    }

    @Test("find by sub or create; a password account is never linked (H1); a link revokes every earlier session")
    func resolver() async throws {
        let users = InMemoryUserRepository()
        let sessions = InMemoryRefreshSessionRepository()
        let resolver = GoogleAccountResolver(users: users, sessions: sessions)
        // H1: someone signed up with the victim's e-mail and a password; Google sign-in must not land there.
        let local = try await users.create(
            NewUser(username: "local", email: "local@example.com", passwordHash: "h", authProvider: .local, googleSubject: nil)
        )
        await #expect(throws: GoogleSignInError.passwordAccountExists) {
            try await resolver.resolve(GoogleIdentity(subject: "sub-1", email: "local@example.com", emailVerified: true, name: nil))
        }
        #expect(try await users.find(id: local.id)?.googleSubject == nil)
        await #expect(throws: GoogleSignInError.emailNotVerified) {
            try await resolver.resolve(GoogleIdentity(subject: "sub-3", email: "local@example.com", emailVerified: false, name: nil))
        }

        // An account without a password (and without a Google subject) is linked; its earlier sessions end.
        let passwordless = try await users.create(
            NewUser(username: "nopass", email: "nopass@example.com", passwordHash: nil, authProvider: .google, googleSubject: nil)
        )
        let earlierToken = Data("earlier".utf8)
        _ = try await sessions.start(userID: passwordless.id, tokenHash: earlierToken, expiresAt: Date().addingTimeInterval(3600), familyExpiresAt: Date().addingTimeInterval(7200), method: .password, now: Date())
        let linked = try await resolver.resolve(GoogleIdentity(subject: "sub-1", email: "nopass@example.com", emailVerified: true, name: nil))
        #expect(linked.id == passwordless.id)
        #expect(linked.googleSubject == "sub-1")
        #expect(try await sessions.family(containing: earlierToken)?.revokedAt != nil)
        #expect(
            try await resolver.resolve(GoogleIdentity(subject: "sub-1", email: "changed@example.com", emailVerified: true, name: nil)).id
                == passwordless.id
        )
        await #expect(throws: GoogleSignInError.accountConflict) {
            try await resolver.resolve(GoogleIdentity(subject: "sub-2", email: "nopass@example.com", emailVerified: true, name: nil))
        }
        let created = try await resolver.resolve(GoogleIdentity(subject: "sub-4", email: "new@example.com", emailVerified: true, name: "local"))
        #expect(created.authProvider == .google)
        #expect(created.passwordHash == nil)
        #expect(created.username.hasPrefix("local_"))
    }

    // MARK: - The login redirect

    @Test("/api/auth/google/login redirects to the authorization endpoint with PKCE S256 and sets the state cookie")
    func loginRedirect() async throws {
        let settings = AuthSettings.Google(
            clientID: "client-1",
            clientSecret: "secret",
            redirectURI: "http://127.0.0.1:8080/api/auth/google/callback",
            authURL: "https://accounts.example.com/auth",
            tokenURL: "https://accounts.example.com/token",
            jwksURL: "https://accounts.example.com/jwks",
            issuer: "https://accounts.example.com"
        )
        let provider = try await Provider()
        let app = try await TestAuthApp(
            google: .init(
                settings: settings,
                tokens: GoogleTokenClient(settings: settings, httpClient: .shared, logger: .init(label: "test")),
                verifier: GoogleIDTokenVerifier(clientID: "client-1", issuer: settings.issuer, keys: provider.keySource)
            )
        )
        let key = app.key
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/api/auth/google/login", method: .get)
            #expect(response.status == .found)
            let location = try #require(response.headers[.location])
            let components = try #require(URLComponents(string: location))
            #expect(location.hasPrefix("https://accounts.example.com/auth?"))
            let query = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(query["response_type"] == "code")
            #expect(query["client_id"] == "client-1")
            #expect(query["redirect_uri"] == settings.redirectURI)
            #expect(query["scope"] == "openid email profile")
            #expect(query["code_challenge_method"] == "S256")
            let stateCookie = try #require(response.setCookies(named: "google_oauth_state").first)
            let stateKey = GoogleStateCookie(keys: [GoogleStateCookie.deriveKey(from: key)], secure: true)
            let contents = try #require(stateKey.open(cookieValue(stateCookie)))
            #expect(query["state"] == contents.state)
            #expect(query["nonce"] == contents.nonce)
            #expect(query["code_challenge"] == PKCE.challenge(for: contents.verifier))

            // A callback with a state that does not match the cookie goes back to the frontend with an error.
            let tampered = try await client.execute(
                uri: "/api/auth/google/callback?code=abc&state=\(contents.state)x",
                method: .get,
                headers: [.cookie: "google_oauth_state=\(cookieValue(stateCookie))"]
            )
            #expect(tampered.status == .found)
            #expect(tampered.headers[.location]?.contains("/auth/callback?error=") == true)
            #expect(tampered.setCookies(named: "refresh_token").isEmpty)
            #expect(tampered.setCookies(named: "google_oauth_state").first?.contains("Max-Age=0") == true)
            let cancelled = try await client.execute(uri: "/api/auth/google/callback?error=access_denied&state=x", method: .get)
            #expect(cancelled.headers[.location]?.contains("error=") == true)
        }
    }
}

// MARK: - The callback's redirect (security review M9)

extension GoogleSignInTests {
    @Test(
        "callback: the token in the redirect URL by default; with GOOGLE_CALLBACK_TOKEN_IN_URL=false only success=true, and the page gets its token from /refresh",
        arguments: [true, false]
    )
    func callbackRedirect(tokenInURL: Bool) async throws {
        let provider = try await Provider()
        // A local token endpoint that answers every code with an id_token for the nonce of the current sign-in.
        let nonce = Mutex("")
        let tokenRouter = Router()
        tokenRouter.post("/token") { _, _ -> Response in
            let idToken = try await provider.sign(provider.claims(nonce: nonce.withLock { $0 }))
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"id_token":"\#(idToken)","token_type":"Bearer"}"#))
            )
        }
        let tokenServer = Application(router: tokenRouter, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await tokenServer.test(.live) { tokenEndpoint in
            let port = try #require(tokenEndpoint.port)
            let settings = AuthSettings.Google(
                clientID: "client-1",
                clientSecret: "secret",
                redirectURI: "http://127.0.0.1:8080/api/auth/google/callback",
                authURL: "https://accounts.example.com/auth",
                tokenURL: "http://127.0.0.1:\(port)/token",
                jwksURL: "https://accounts.example.com/jwks",
                issuer: "https://accounts.google.com"
            )
            let app = try await TestAuthApp(
                google: .init(
                    settings: settings,
                    tokens: GoogleTokenClient(settings: settings, httpClient: .shared, logger: .init(label: "test")),
                    verifier: GoogleIDTokenVerifier(clientID: "client-1", issuer: settings.issuer, keys: provider.keySource)
                ),
                googleTokenInRedirect: tokenInURL
            )
            let stateKey = GoogleStateCookie(keys: [GoogleStateCookie.deriveKey(from: app.key)], secure: true)
            try await app.application.test(.router) { client in
                let start = try await client.execute(uri: "/api/auth/google/login", method: .get)
                let stateCookie = cookieValue(try #require(start.setCookies(named: "google_oauth_state").first))
                let contents = try #require(stateKey.open(stateCookie))
                nonce.withLock { $0 = contents.nonce }

                let callback = try await client.execute(
                    uri: "/api/auth/google/callback?code=code-1&state=\(contents.state)",
                    method: .get,
                    headers: [.cookie: "google_oauth_state=\(stateCookie)"]
                )
                #expect(callback.status == .found)
                let location = try #require(callback.headers[.location])
                let refreshCookie = cookieValue(try #require(callback.setCookies(named: "refresh_token").first))
                let accessToken: String
                if tokenInURL {
                    let query = try #require(URLComponents(string: location)?.queryItems)
                    #expect(location.hasPrefix("http://localhost:3000/auth/callback?success=true&access_token="))
                    accessToken = try #require(query.first { $0.name == "access_token" }?.value)
                } else {
                    #expect(location == "http://localhost:3000/auth/callback?success=true")
                    #expect(!location.contains("token"))
                    // The page exchanges the refresh cookie the callback set for its access token.
                    let refreshed = try await client.execute(
                        uri: "/api/auth/refresh",
                        method: .post,
                        headers: [.cookie: "refresh_token=\(refreshCookie)", .origin: "http://localhost:3000"]
                    )
                    #expect(refreshed.status == .ok)
                    accessToken = try #require(refreshed.json?["access_token"] as? String)
                }
                let me = try await client.execute(uri: "/api/auth/me", method: .get, headers: [.authorization: "Bearer \(accessToken)"])
                #expect(me.status == .ok)
                #expect(me.json?["auth_provider"] as? String == "google")
            }
        }
    }
}

extension GoogleStateCookie.Contents {
    fileprivate func withSameExpiry(as other: Self?) -> Self {
        .init(state: state, nonce: nonce, verifier: verifier, exp: other?.exp ?? exp)
    }
}
