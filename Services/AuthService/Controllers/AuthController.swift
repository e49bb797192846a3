import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird

/// Local accounts and sessions: SPEC.md §3 auth-service rows 1–5. HTTP in and out; `AccountService`
/// signs in and reads accounts, `SessionService` refreshes and ends sessions.
struct AuthController: Sendable {
    let accounts: AccountService
    let sessions: SessionService
    let cookie: RefreshCookie
    let accessTokenLifetime: Int
    /// Origin and Content-Type checks of the cookie-setting routes (security review M1).
    let requestGuard: CookieRouteGuard
    /// Per-client and global limits on login and signup, which cost a bcrypt hash (security review M4).
    var rateLimits = PasswordRouteLimits(AuthSettings.RateLimits.defaults)
    /// Who the client is, for the limits and the login lockout.
    var clientAddresses = ClientAddressResolver(trustedProxyHops: AuthSettings.RateLimits.defaults.trustedProxyHops)
    /// The time of the limits and the lockout; tests move it instead of sleeping.
    var clock: @Sendable () -> Date = { Date() }

    static let logoutMessage = "로그아웃 되었습니다."

    /// - Parameters:
    ///   - routes: routes without authentication.
    ///   - authenticated: routes behind the user-token middleware.
    func addRoutes<Public: RouterMethods, Authenticated: RouterMethods>(
        to routes: DocumentedRoutes<Public>,
        authenticated: DocumentedRoutes<Authenticated>
    ) where Public.Context == ECGRequestContext, Authenticated.Context == ECGRequestContext {
        let cookieNote = "Sets the `refresh_token` cookie (HttpOnly, SameSite=Lax, Path=/api/auth)."
        routes.post(
            "/api/auth/signup",
            OpenAPIOperation(
                "Create a local account and start a session. \(cookieNote)",
                body: AuthSchemas.signupRequest,
                responses: [
                    201: .init("Created; the access token and the account", AuthSchemas.session),
                    400: .init("Malformed JSON (invalid_json)", .error),
                    409: .init("email_taken or username_taken", .error),
                    422: .init("A field failed validation (validation_error names it)", .error),
                    429: .init("rate_limited: too many login and signup requests from this client, or to this server; see Retry-After", .error),
                ]
            ),
            use: signup
        )
        routes.post(
            "/api/auth/login",
            OpenAPIOperation(
                "Log in with email and password. \(cookieNote)",
                body: AuthSchemas.loginRequest,
                responses: [
                    200: .init("The access token and the account", AuthSchemas.session),
                    400: .init("Malformed JSON (invalid_json)", .error),
                    401: .init("invalid_credentials, for unknown email and wrong password alike", .error),
                    422: .init("A field is missing or not a string", .error),
                    429: .init(
                        "too_many_attempts: 5 failures for this email from this client within 15 minutes; rate_limited: too many "
                            + "login and signup requests from this client, or to this server; see Retry-After",
                        .error
                    ),
                ]
            ),
            use: login
        )
        authenticated.get(
            "/api/auth/me",
            OpenAPIOperation(
                "The account of the bearer token",
                responses: [200: .init("The account", AuthSchemas.me), 401: .init("Missing, invalid or expired bearer token", .error)]
            ),
            use: me
        )
        routes.post(
            "/api/auth/refresh",
            OpenAPIOperation(
                "Exchange the refresh_token cookie for a new access token and a new refresh cookie (rotation)",
                responses: [
                    200: .init("A new access token; the cookie is replaced", AuthSchemas.accessToken),
                    401: .init("invalid_refresh_token, or refresh_token_reused (the family is revoked)", .error),
                ],
                headers: [("Cookie", false)]
            ),
            use: refresh
        )
        routes.post(
            "/api/auth/logout",
            OpenAPIOperation(
                "Revoke the session of the refresh_token cookie and clear the cookie; idempotent",
                responses: [200: .init("Logged out", AuthSchemas.message)],
                headers: [("Cookie", false)]
            ),
            use: logout
        )
    }

    // MARK: - Handlers

    @Sendable func signup(_ request: Request, context: ECGRequestContext) async throws -> Response {
        try requestGuard.check(request, jsonBody: true)
        try admit(request, context: context, now: clock())
        let body = try await request.decodeJSON(SignupRequest.self, context: context)
        let signedIn = try await accounts.signUp(username: body.username, email: body.email, password: body.password)
        context.logger.info("account created", metadata: ["user_id": "\(signedIn.user.id)"])
        return try sessionResponse(signedIn, status: .created, request: request, context: context)
    }

    @Sendable func login(_ request: Request, context: ECGRequestContext) async throws -> Response {
        try requestGuard.check(request, jsonBody: true)
        let now = clock()
        let client = try admit(request, context: context, now: now)
        let body = try await request.decodeJSON(LoginRequest.self, context: context)
        let signedIn: AccountService.SignedIn
        do {
            signedIn = try await accounts.logIn(email: body.email, password: body.password, client: client, now: now)
        } catch let failure as AccountService.Failure {
            context.logger.info("login refused", metadata: ["reason": "\(failure)"])
            throw failure
        }
        return try sessionResponse(signedIn, status: .ok, request: request, context: context)
    }

    @Sendable func me(_ request: Request, context: ECGRequestContext) async throws -> Response {
        guard let id = Int64(try context.requireIdentity().subject) else { throw AccountService.Failure.accountGone }
        let user = try await accounts.profile(id: id)
        return try JSONResponse(MeResponse(user), headers: [.cacheControl: "no-store"]).response(from: request, context: context)
    }

    @Sendable func refresh(_ request: Request, context: ECGRequestContext) async throws -> Response {
        try requestGuard.check(request, jsonBody: false)
        do {
            let issued = try await sessions.refresh(RefreshCookie.token(in: request))
            var response = try JSONResponse(
                AccessTokenResponse(accessToken: issued.accessToken, tokenType: "bearer", expiresIn: accessTokenLifetime),
                headers: [.cacheControl: "no-store"]
            ).response(from: request, context: context)
            response.setCookie(cookie.setting(issued.refreshToken))
            return response
        } catch let failure as SessionService.RefreshFailure {
            context.logger.info("refresh refused", metadata: ["reason": "\(failure)"])
            var response = ErrorMapper.response(for: failure, logger: context.logger)
            response.setCookie(cookie.clearing())
            return response
        }
    }

    @Sendable func logout(_ request: Request, context: ECGRequestContext) async throws -> Response {
        try await sessions.logout(RefreshCookie.token(in: request))
        var response = try JSONResponse(MessageResponse(message: Self.logoutMessage), headers: [.cacheControl: "no-store"])
            .response(from: request, context: context)
        response.setCookie(cookie.clearing())
        return response
    }

    // MARK: - Helpers

    /// Applies the rate limits of the bcrypt routes; returns the client's key (its address).
    @discardableResult
    private func admit(_ request: Request, context: ECGRequestContext, now: Date) throws -> String {
        let client = clientAddresses.clientKey(headers: request.headers, peer: context.peerAddress)
        if let refusal = rateLimits.admit(client: client, now: now) {
            context.logger.info("rate limited", metadata: ["limit": "\(refusal)", "path": "\(request.uri.path)"])
            throw AuthErrors.rateLimited(refusal)
        }
        return client
    }

    private func sessionResponse(
        _ signedIn: AccountService.SignedIn,
        status: HTTPResponse.Status,
        request: Request,
        context: ECGRequestContext
    ) throws -> Response {
        var response = try JSONResponse(
            SessionResponse(
                accessToken: signedIn.issued.accessToken,
                tokenType: "bearer",
                expiresIn: accessTokenLifetime,
                user: UserSummary(signedIn.user)
            ),
            status: status,
            headers: [.cacheControl: "no-store"]
        ).response(from: request, context: context)
        response.setCookie(cookie.setting(signedIn.issued.refreshToken))
        return response
    }
}
