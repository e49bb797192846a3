import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird

/// Local accounts and sessions: SPEC.md §3 auth-service rows 1–5.
struct AuthController: Sendable {
    let users: any UserRepository
    let attempts: any LoginAttemptRepository
    let hasher: PasswordHasher
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

    /// Failed logins allowed per email within `loginAttemptWindow`.
    static let loginAttemptLimit = LoginLimit.attempts
    static let loginAttemptWindow = LoginLimit.window
    static let logoutMessage = "로그아웃 되었습니다."

    /// One constant: unknown email and wrong password answer with byte-identical responses.
    static let invalidCredentials = APIError.unauthorized("Incorrect email or password.", code: "invalid_credentials")

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
        let username = try Validators.username(body.username)
        let email = try Validators.email(body.email)
        try Validators.password(body.password)
        // Cheap check first, so that a taken email costs no bcrypt; the unique indexes decide races.
        if let conflict = try await users.conflict(email: email, username: username) { throw Self.apiError(conflict) }
        let hash = try await hasher.hash(body.password)
        let user: User
        do {
            user = try await users.create(NewUser(username: username, email: email, passwordHash: hash, authProvider: .local, googleSubject: nil))
        } catch let conflict as UserConflict {
            throw Self.apiError(conflict)
        }
        context.logger.info("account created", metadata: ["user_id": "\(user.id)"])
        return try await sessionResponse(for: user, status: .created, request: request, context: context)
    }

    @Sendable func login(_ request: Request, context: ECGRequestContext) async throws -> Response {
        try requestGuard.check(request, jsonBody: true)
        let now = clock()
        let client = try admit(request, context: context, now: now)
        let body = try await request.decodeJSON(LoginRequest.self, context: context)
        let email = body.email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        // No account has a malformed address (signup checks it), and one of kilobytes or with NUL would
        // not fit PostgreSQL's index or text (security review L5): the usual 401, before any database work.
        guard Validators.isValidEmail(email) else {
            context.logger.info("login refused", metadata: ["reason": "malformed_email"])
            throw Self.invalidCredentials
        }
        let decision = try await attempts.reserve(
            email: email,
            client: client,
            limit: Self.loginAttemptLimit,
            window: Self.loginAttemptWindow,
            now: now
        )
        if case .blocked(let retryAfter) = decision { throw Self.tooManyAttempts(retryAfter: retryAfter) }
        // The same work whether or not the email exists: a lookup, then one bcrypt check.
        let user = try await users.find(email: email)
        let passwordMatches = try await hasher.verify(body.password, against: user?.passwordHash)
        guard let user, passwordMatches, user.isActive else {
            context.logger.info("login refused", metadata: ["reason": "invalid_credentials"])
            throw Self.invalidCredentials
        }
        try await attempts.reset(email: email, client: client)
        return try await sessionResponse(for: user, status: .ok, request: request, context: context)
    }

    @Sendable func me(_ request: Request, context: ECGRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        guard let id = Int64(identity.subject), let user = try await users.find(id: id), user.isActive else {
            throw APIError.unauthorized("The bearer token is invalid or expired.", code: "invalid_token")
        }
        return try JSONResponse(MeResponse(user), headers: [.cacheControl: "no-store"]).response(from: request, context: context)
    }

    @Sendable func refresh(_ request: Request, context: ECGRequestContext) async throws -> Response {
        try requestGuard.check(request, jsonBody: false)
        do {
            let issued = try await sessions.refresh(RefreshCookie.token(in: request))
            var response = try JSONResponse(
                AccessTokenResponse(access_token: issued.accessToken, token_type: "bearer", expires_in: accessTokenLifetime),
                headers: [.cacheControl: "no-store"]
            ).response(from: request, context: context)
            response.setCookie(cookie.setting(issued.refreshToken))
            return response
        } catch let failure as SessionService.RefreshFailure {
            context.logger.info("refresh refused", metadata: ["reason": "\(failure)"])
            var response = ErrorMapper.response(for: Self.apiError(failure), logger: context.logger)
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
            throw Self.rateLimited(refusal)
        }
        return client
    }

    /// 429 from the per-client or the global rate limit of login and signup.
    static func rateLimited(_ refusal: PasswordRouteLimits.Refusal) -> APIError {
        let (retryAfter, detail) =
            switch refusal {
            case .client(let retryAfter): (retryAfter, "Too many login and signup requests from your address. Try again in \(retryAfter) seconds.")
            case .global(let retryAfter): (retryAfter, "The server is handling too many logins right now. Try again in \(retryAfter) seconds.")
            }
        return APIError(.tooManyRequests, code: "rate_limited", detail: detail, headers: [.retryAfter: String(retryAfter)])
    }

    private func sessionResponse(for user: User, status: HTTPResponse.Status, request: Request, context: ECGRequestContext) async throws -> Response {
        let issued = try await sessions.start(for: user)
        var response = try JSONResponse(
            SessionResponse(access_token: issued.accessToken, token_type: "bearer", expires_in: accessTokenLifetime, user: UserSummary(user)),
            status: status,
            headers: [.cacheControl: "no-store"]
        ).response(from: request, context: context)
        response.setCookie(cookie.setting(issued.refreshToken))
        return response
    }

    /// 429 once an email's password checks reach the login limit (login, password change, account deletion).
    static func tooManyAttempts(retryAfter: Int) -> APIError {
        APIError(
            .tooManyRequests,
            code: "too_many_attempts",
            detail: "Too many failed logins for this email. Try again in \(retryAfter) seconds.",
            headers: [.retryAfter: String(retryAfter)]
        )
    }

    static func apiError(_ conflict: UserConflict) -> APIError {
        switch conflict {
        case .emailTaken: APIError(.conflict, code: "email_taken", detail: "An account with this email already exists.")
        case .usernameTaken: APIError(.conflict, code: "username_taken", detail: "This username is taken.")
        case .googleSubjectTaken: APIError(.conflict, code: "google_account_taken", detail: "This Google account is linked to another user.")
        }
    }

    static func apiError(_ failure: SessionService.RefreshFailure) -> APIError {
        switch failure {
        case .reused:
            APIError.unauthorized(
                "This refresh token was already used; every session of this login has been signed out. Log in again.",
                code: "refresh_token_reused"
            )
        case .missing:
            APIError.unauthorized("No refresh token: log in first.", code: "invalid_refresh_token")
        case .unknown, .expired, .revoked:
            APIError.unauthorized("The refresh token is invalid, expired or revoked. Log in again.", code: "invalid_refresh_token")
        }
    }
}
