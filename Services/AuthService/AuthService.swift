import ECGPlatform
import ECGTokens
import Foundation
import Hummingbird

/// auth-service: users, passwords, sessions, Google sign-in and the user-token signing key.
enum AuthService {
    static let descriptor = ServiceDescriptor(
        name: "auth-service",
        schema: "auth",
        migrationsDirectory: Bundle.module.url(forResource: "Migrations", withExtension: nil),
        // `ecg.auth.user.deleted.v1` leaves through the schema's outbox.
        usesMessaging: true
    )

    /// The shared runtime plus what only auth-service has: its settings and the user-token keys.
    struct Runtime: Sendable {
        let shared: ServiceRuntime
        let settings: AuthSettings
        let userTokenKeys: UserTokenKeys
    }

    static func makeRuntime(settings: EnvironmentSettings) async throws -> Runtime {
        let configuration = ServiceConfiguration(serviceName: descriptor.name, schema: descriptor.schema, settings: settings)
        let authSettings = AuthSettings(settings: settings)
        try settings.validate()
        let keys = try UserTokenKeys.load(settings: authSettings, configuration: configuration)
        // The user-token keys are published beside the service key, and auth verifies its own tokens
        // locally instead of fetching its own JWKS.
        let shared = try await ServiceRuntime(
            descriptor: descriptor,
            configuration: configuration,
            additionalPublicKeys: keys.all,
            userTokenKeys: StaticKeySource(keys.all, purpose: .userToken)
        )
        return Runtime(shared: shared, settings: authSettings, userTokenKeys: keys)
    }

    static func buildApplication(runtime: Runtime) async throws -> some ApplicationProtocol {
        let shared = runtime.shared
        let settings = runtime.settings
        let logger = shared.logger

        let users = PostgresUserRepository(client: shared.postgres, logger: logger)
        // `/api/auth/me`'s lookup from memory, dropped on every change of the row (issue 13).
        let meCache = CachedUserRepository.makeCache(postgres: shared.postgres, logger: logger)
        let refreshSessions = PostgresRefreshSessionRepository(client: shared.postgres, logger: logger)
        let attempts = PostgresLoginAttemptRepository(client: shared.postgres, logger: logger)
        let hasher = try await PasswordHasher(cost: settings.bcryptCost, threadPool: PasswordHasher.makeThreadPool())
        let sessions = SessionService(
            users: users,
            sessions: refreshSessions,
            accessTokens: AccessTokenIssuer(
                signer: await TokenSigner(key: runtime.userTokenKeys.current),
                lifetime: TimeInterval(settings.accessTokenTTL)
            ),
            policy: RefreshPolicy(
                graceWindow: 10,
                lifetime: TimeInterval(settings.refreshTokenTTL),
                maxFamilyAge: TimeInterval(settings.refreshFamilyMaxAge)
            )
        )
        let cookie = RefreshCookie(maxAge: settings.refreshTokenTTL, secure: settings.cookieSecure)
        let accounts = AccountService(
            accounts: CacheInvalidatingAccountRepository(
                wrapped: PostgresAccountRepository(client: shared.postgres, outbox: shared.outbox, topic: shared.topics.authEvents, logger: logger),
                cache: meCache
            ),
            refreshSessions: refreshSessions,
            attempts: attempts,
            hasher: hasher,
            sessions: sessions,
            eventSource: descriptor.name
        )

        let requestGuard = CookieRouteGuard(corsOrigins: shared.configuration.corsOrigins, frontendURL: settings.frontendURL)
        let auth = AuthController(
            users: CachedUserRepository(wrapped: users, cache: meCache),
            attempts: attempts,
            hasher: hasher,
            sessions: sessions,
            cookie: cookie,
            accessTokenLifetime: settings.accessTokenTTL,
            requestGuard: requestGuard,
            rateLimits: PasswordRouteLimits(settings.rateLimits),
            clientAddresses: ClientAddressResolver(trustedProxyHops: settings.rateLimits.trustedProxyHops)
        )
        let account = AccountController(
            users: users,
            accounts: accounts,
            cookie: cookie,
            accessTokenLifetime: settings.accessTokenTTL,
            clientAddresses: ClientAddressResolver(trustedProxyHops: settings.rateLimits.trustedProxyHops)
        )
        let google = GoogleAuthController(
            provider: settings.google.map { google in
                GoogleAuthController.Provider(
                    settings: google,
                    tokens: GoogleTokenClient(settings: google, httpClient: shared.httpClient, logger: logger),
                    verifier: GoogleIDTokenVerifier(
                        clientID: google.clientID,
                        issuer: google.issuer,
                        keys: RemoteGoogleKeySet(url: google.jwksURL, httpClient: shared.httpClient, logger: logger)
                    )
                )
            },
            stateCookie: GoogleStateCookie(keys: runtime.userTokenKeys.all.map(GoogleStateCookie.deriveKey), secure: settings.cookieSecure),
            accounts: GoogleAccountResolver(users: users, sessions: refreshSessions),
            sessions: sessions,
            cookie: cookie,
            frontendURL: settings.frontendURL,
            requestGuard: requestGuard,
            tokenInRedirect: settings.googleCallbackTokenInURL
        )

        var beforeServing: [@Sendable () async throws -> Void] = []
        if settings.seedsDevelopmentData {
            beforeServing.append { try await DevelopmentSeed.run(users: users, hasher: hasher, logger: logger) }
        }
        return try ServiceApplication.build(
            runtime: shared,
            services: [shared.makeOutboxRelay(), meCache, AuthMaintenance(sessions: refreshSessions, attempts: attempts, logger: logger)],
            beforeServing: beforeServing
        ) { routes in
            auth.addRoutes(to: routes.public, authenticated: routes.user)
            account.addRoutes(to: routes.user)
            google.addRoutes(to: routes.public)
        }
    }
}
