import ECGEvents
import ECGPlatform
import ECGTokens
import Foundation
import Hummingbird

/// auth-service: users, passwords, sessions, Google sign-in and the user-token signing key.
///
/// The composition root: `buildRouter` makes the whole router from a set of dependencies (the live
/// one in `buildApplication`, an in-memory one in the tests' `TestAuthApp`).
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

    /// What auth-service's routes are built from: PostgreSQL (with the `/me` cache) in production,
    /// memory in the route tests.
    struct Dependencies: Sendable {
        let users: any UserRepository
        /// What `GET /api/auth/me` reads accounts from (the `/me` cache in production).
        let profiles: any UserRepository
        let refreshSessions: any RefreshSessionRepository
        let attempts: any LoginAttemptRepository
        /// Account changes with their outbox events.
        let accounts: any AccountRepository
        /// Where `user.deleted` goes: `ecg.auth.events` (or its `TOPIC_AUTH_EVENTS` override).
        var eventsTopic = Topics().authEvents
        let hasher: PasswordHasher
        let userTokenKeys: UserTokenKeys
        /// Google sign-in, when configured.
        let google: GoogleSignIn.Provider?
        /// The time of the login/signup limits and the lockout.
        var clock: @Sendable () -> Date = { Date() }
    }

    /// Sessions over the dependencies' stores, signed with the current user-token key.
    static func sessions(_ dependencies: Dependencies, settings: AuthSettings) async -> SessionService {
        SessionService(
            users: dependencies.users,
            sessions: dependencies.refreshSessions,
            accessTokens: AccessTokenIssuer(
                signer: await TokenSigner(key: dependencies.userTokenKeys.current),
                lifetime: TimeInterval(settings.accessTokenTTL)
            ),
            policy: RefreshPolicy(
                graceWindow: 10,
                lifetime: TimeInterval(settings.refreshTokenTTL),
                maxFamilyAge: TimeInterval(settings.refreshFamilyMaxAge)
            )
        )
    }

    /// The router production serves and the route tests call: common middleware and routes, then the
    /// password, session, account and Google routes.
    static func buildRouter(
        platform: ServicePlatform,
        settings: AuthSettings,
        dependencies: Dependencies,
        document: OpenAPIDocument? = nil
    ) async -> Router<ECGRequestContext> {
        let sessions = await sessions(dependencies, settings: settings)
        let cookie = RefreshCookie(maxAge: settings.refreshTokenTTL, secure: settings.cookieSecure)
        let clientAddresses = ClientAddressResolver(trustedProxyHops: settings.rateLimits.trustedProxyHops)
        let requestGuard = CookieRouteGuard(corsOrigins: platform.configuration.corsOrigins, frontendURL: settings.frontendURL)
        let accounts = AccountService(
            users: dependencies.users,
            profiles: dependencies.profiles,
            accounts: dependencies.accounts,
            refreshSessions: dependencies.refreshSessions,
            attempts: dependencies.attempts,
            hasher: dependencies.hasher,
            sessions: sessions,
            eventSource: descriptor.name,
            eventsTopic: dependencies.eventsTopic
        )
        let auth = AuthController(
            accounts: accounts,
            sessions: sessions,
            cookie: cookie,
            accessTokenLifetime: settings.accessTokenTTL,
            requestGuard: requestGuard,
            rateLimits: PasswordRouteLimits(settings.rateLimits),
            clientAddresses: clientAddresses,
            clock: dependencies.clock
        )
        let account = AccountController(
            accounts: accounts,
            cookie: cookie,
            accessTokenLifetime: settings.accessTokenTTL,
            clientAddresses: clientAddresses
        )
        let google = GoogleAuthController(
            google: dependencies.google.map { provider in
                GoogleSignIn(
                    provider: provider,
                    accounts: GoogleAccountResolver(users: dependencies.users, sessions: dependencies.refreshSessions),
                    sessions: sessions
                )
            },
            stateCookie: GoogleStateCookie(keys: dependencies.userTokenKeys.all.map(GoogleStateCookie.deriveKey), secure: settings.cookieSecure),
            cookie: cookie,
            frontendURL: settings.frontendURL,
            requestGuard: requestGuard,
            tokenInRedirect: settings.googleCallbackTokenInURL
        )
        return ServiceApplication.buildRouter(platform: platform, document: document) { routes in
            auth.addRoutes(to: routes.public, authenticated: routes.user)
            account.addRoutes(to: routes.user)
            google.addRoutes(to: routes.public)
        }
    }

    /// The production application: PostgreSQL stores, the `/me` cache, Google over HTTP, and the
    /// background services (outbox relay, cache listener, maintenance).
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
        let dependencies = Dependencies(
            users: users,
            profiles: CachedUserRepository(wrapped: users, cache: meCache),
            refreshSessions: refreshSessions,
            attempts: attempts,
            accounts: CacheInvalidatingAccountRepository(
                wrapped: PostgresAccountRepository(client: shared.postgres, outbox: shared.outbox, logger: logger),
                cache: meCache
            ),
            eventsTopic: shared.topics.authEvents,
            hasher: hasher,
            userTokenKeys: runtime.userTokenKeys,
            google: settings.google.map { google in
                GoogleSignIn.Provider(
                    settings: google,
                    tokens: GoogleTokenClient(settings: google, httpClient: shared.httpClient, logger: logger),
                    verifier: GoogleIDTokenVerifier(
                        clientID: google.clientID,
                        issuer: google.issuer,
                        keys: RemoteGoogleKeySet(url: google.jwksURL, httpClient: shared.httpClient, logger: logger)
                    )
                )
            }
        )
        var beforeServing: [@Sendable () async throws -> Void] = []
        if settings.seedsDevelopmentData {
            beforeServing.append { try await DevelopmentSeed.run(users: users, hasher: hasher, logger: logger) }
        }
        return ServiceApplication.build(
            runtime: shared,
            router: await buildRouter(platform: shared.platform, settings: settings, dependencies: dependencies),
            services: [shared.makeOutboxRelay(), meCache, AuthMaintenance(sessions: refreshSessions, attempts: attempts, logger: logger)],
            beforeServing: beforeServing
        )
    }
}
