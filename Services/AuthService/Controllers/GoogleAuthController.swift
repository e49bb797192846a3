import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird

/// Google sign-in, the OpenID Connect authorization-code flow with PKCE: SPEC.md §3 rows 6–7.
struct GoogleAuthController: Sendable {
    /// What the flow needs when Google is configured.
    struct Provider: Sendable {
        let settings: AuthSettings.Google
        let tokens: GoogleTokenClient
        let verifier: GoogleIDTokenVerifier
    }

    /// nil when `GOOGLE_CLIENT_ID`/`GOOGLE_CLIENT_SECRET` are unset.
    let provider: Provider?
    let stateCookie: GoogleStateCookie
    let accounts: GoogleAccountResolver
    let sessions: SessionService
    let cookie: RefreshCookie
    let frontendURL: String
    /// Origin check (security review M1); Google's redirect is a top-level GET that carries no `Origin`.
    let requestGuard: CookieRouteGuard
    /// `GOOGLE_CALLBACK_TOKEN_IN_URL`. true (the seed's documented behaviour): the success redirect carries
    /// `access_token=…`. false (security review M9): it carries `success=true` only, so the token never
    /// lands in browser history or access logs; the page gets one from `POST /api/auth/refresh` with the
    /// refresh cookie this response sets.
    var tokenInRedirect = true

    static let notConfigured = APIError(
        .serviceUnavailable,
        code: "google_not_configured",
        detail: "Google sign-in is not configured on this server."
    )

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
        guard let provider else { throw Self.notConfigured }
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
            let issued = try await signIn(request, context: context)
            var response = Self.redirect(to: successLocation(accessToken: issued.accessToken))
            response.setCookie(stateCookie.clearing())
            response.setCookie(cookie.setting(issued.refreshToken))
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

    // MARK: - The flow

    private func signIn(_ request: Request, context: ECGRequestContext) async throws -> SessionService.Issued {
        guard let provider else { throw GoogleSignInError.notConfigured }
        let query = request.uri.queryParameters
        if let error = query["error"] { throw GoogleSignInError.providerError(String(error)) }
        guard let code = query["code"].map(String.init), !code.isEmpty else { throw GoogleSignInError.missingCode }
        guard let state = query["state"].map(String.init), let sealed = request.cookies[GoogleStateCookie.name]?.value,
            let contents = stateCookie.open(sealed), GoogleIDTokenVerifier.constantTimeEquals(state, contents.state)
        else { throw GoogleSignInError.invalidState }

        let idToken = try await provider.tokens.exchange(code: code, verifier: contents.verifier)
        let identity = try await provider.verifier.verify(idToken, nonce: contents.nonce)
        let user = try await accounts.resolve(identity)
        guard user.isActive else { throw GoogleSignInError.accountDisabled }
        context.logger.info("Google sign-in", metadata: ["user_id": "\(user.id)"])
        return try await sessions.start(for: user, authenticatedWith: .google)
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
