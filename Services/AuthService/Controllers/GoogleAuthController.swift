import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird

/// Google sign-in, the OpenID Connect authorization-code flow with PKCE: SPEC.md §3 rows 6–7. HTTP in
/// and out (the redirects, the query, the state cookie); `GoogleSignIn` signs the user in.
struct GoogleAuthController: Sendable {
    /// nil when `GOOGLE_CLIENT_ID`/`GOOGLE_CLIENT_SECRET` are unset.
    let google: GoogleSignIn?
    let stateCookie: GoogleStateCookie
    let cookie: RefreshCookie
    let frontendURL: String
    /// Origin check (security review M1); Google's redirect is a top-level GET that carries no `Origin`.
    let requestGuard: CookieRouteGuard
    /// `GOOGLE_CALLBACK_TOKEN_IN_URL`. true (the seed's documented behaviour): the success redirect carries
    /// `access_token=…`. false (security review M9): it carries `success=true` only, so the token never
    /// lands in browser history or access logs; the page gets one from `POST /api/auth/refresh` with the
    /// refresh cookie this response sets.
    var tokenInRedirect = true

    func addRoutes<Public: RouterMethods>(to routes: DocumentedRoutes<Public>) where Public.Context == ECGRequestContext {
        routes.get(
            "/api/auth/google/login",
            OpenAPIOperation(
                "Start Google sign-in: redirect to Google's authorization endpoint (state, nonce, PKCE S256 kept in a signed cookie)",
                responses: [
                    302: .init("To Google's authorization endpoint"),
                    503: .init("google_not_configured", .error),
                ]
            ),
            use: login
        )
        routes.get(
            "/api/auth/google/callback",
            OpenAPIOperation(
                "Google redirects here. Success: 302 to ${FRONTEND_URL}/auth/callback?success=true&access_token=… with the refresh cookie "
                    + "(without access_token when GOOGLE_CALLBACK_TOKEN_IN_URL=false: the page then calls POST /api/auth/refresh); "
                    + "any failure: 302 to ${FRONTEND_URL}/auth/callback?error=<message>",
                responses: [302: .init("To the frontend's callback page")],
                query: [("code", false), ("state", false), ("error", false)]
            ),
            use: callback
        )
    }

    // MARK: - Handlers

    @Sendable func login(_ request: Request, context: ECGRequestContext) async throws -> Response {
        guard let provider = google?.provider else { throw AuthErrors.googleNotConfigured }
        let contents = GoogleStateCookie.Contents(
            state: RandomToken.make(),
            nonce: RandomToken.make(),
            verifier: PKCE.makeVerifier(),
            exp: Int(Date().addingTimeInterval(GoogleStateCookie.lifetime).timeIntervalSince1970)
        )
        let query = FormEncoding.encode([
            ("response_type", "code"), ("client_id", provider.settings.clientID), ("redirect_uri", provider.settings.redirectURI),
            ("scope", "openid email profile"), ("state", contents.state), ("nonce", contents.nonce),
            ("code_challenge", PKCE.challenge(for: contents.verifier)), ("code_challenge_method", "S256"),
        ])
        let authURL = provider.settings.authURL
        var response = Self.redirect(to: authURL + (authURL.contains("?") ? "&" : "?") + query)
        response.setCookie(stateCookie.setting(try stateCookie.seal(contents)))
        return response
    }

    @Sendable func callback(_ request: Request, context: ECGRequestContext) async throws -> Response {
        try requestGuard.check(request, jsonBody: false)
        do {
            let signedIn = try await signIn(request)
            context.logger.info("Google sign-in", metadata: ["user_id": "\(signedIn.user.id)"])
            var response = Self.redirect(to: successLocation(accessToken: signedIn.issued.accessToken))
            response.setCookie(stateCookie.clearing())
            response.setCookie(cookie.setting(signedIn.issued.refreshToken))
            return response
        } catch let error as GoogleSignInError {
            context.logger.info("Google sign-in failed", metadata: ["reason": "\(error)"])
            var response = Self.redirect(to: "\(frontendURL)/auth/callback?error=\(FormEncoding.escape(error.message))")
            response.setCookie(stateCookie.clearing())
            return response
        } catch {
            context.logger.error("Google sign-in failed", metadata: ["error": "\(String(reflecting: error))"])
            var response = Self.redirect(to: "\(frontendURL)/auth/callback?error=\(FormEncoding.escape("Sign-in failed. Please try again."))")
            response.setCookie(stateCookie.clearing())
            return response
        }
    }

    // MARK: - Helpers

    /// The callback's query and state cookie checked, then `GoogleSignIn` with what they carry.
    private func signIn(_ request: Request) async throws -> AccountService.SignedIn {
        guard let google else { throw GoogleSignInError.notConfigured }
        let query = request.uri.queryParameters
        if let error = query["error"] { throw GoogleSignInError.providerError(String(error)) }
        guard let code = query["code"].map(String.init), !code.isEmpty else { throw GoogleSignInError.missingCode }
        guard let state = query["state"].map(String.init), let sealed = request.cookies[GoogleStateCookie.name]?.value,
            let contents = stateCookie.open(sealed), GoogleIDTokenVerifier.constantTimeEquals(state, contents.state)
        else { throw GoogleSignInError.invalidState }
        return try await google.signIn(code: code, codeVerifier: contents.verifier, nonce: contents.nonce)
    }

    /// Where a successful sign-in sends the browser.
    func successLocation(accessToken: String) -> String {
        let base = "\(frontendURL)/auth/callback?success=true"
        return tokenInRedirect ? "\(base)&access_token=\(FormEncoding.escape(accessToken))" : base
    }

    private static func redirect(to location: String) -> Response {
        Response(
            status: .found,
            headers: [.location: location, .cacheControl: "no-store", HTTPField.Name("Referrer-Policy")!: "no-referrer"]
        )
    }
}
