import ECGPlatform
import ECGTokens
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

@testable import AuthService

/// auth-service's routes over in-memory repositories, with bcrypt at cost 4: the middleware and
/// error mapping of the real service, without PostgreSQL or Kafka.
struct TestAuthApp {
    let users = InMemoryUserRepository()
    let sessionsStore = InMemoryRefreshSessionRepository()
    let attempts = InMemoryLoginAttemptRepository()
    /// Account changes over the three repositories above; its `deletedEvents` stand in for the outbox.
    let accounts: InMemoryAccountRepository
    let sessions: SessionService
    let key: SigningKey
    let document = OpenAPIDocument(title: "auth-service")
    let router: Router<ECGRequestContext>
    /// The time of the login/signup rate limits and the login lockout; tests advance it.
    let clock = TestClock()
    /// Limits no route test reaches unless it asks for lower ones.
    static let generousLimits = AuthSettings.RateLimits(perClientPerMinute: 10_000, globalPerSecond: 10_000, trustedProxyHops: 1)

    init(
        google: GoogleAuthController.Provider? = nil,
        cookieSecure: Bool = true,
        frontendURL: String = "http://localhost:3000",
        rateLimits: AuthSettings.RateLimits = TestAuthApp.generousLimits,
        googleTokenInRedirect: Bool = true
    ) async throws {
        key = try SigningKey.generate()
        accounts = InMemoryAccountRepository(users: users, sessions: sessionsStore, attempts: attempts)
        let configuration = ServiceConfiguration(
            serviceName: "auth-service",
            schema: "auth",
            settings: EnvironmentSettings(environment: ["ECG_ENV": "test"])
        )
        router = ServiceApplication.makeRouter(configuration: configuration)
        let hasher = try await PasswordHasher.forTests()
        let sessions = SessionService(
            users: users,
            sessions: sessionsStore,
            accessTokens: AccessTokenIssuer(signer: await TokenSigner(key: key), lifetime: 900),
            policy: RefreshPolicy(graceWindow: 10, lifetime: 2_592_000)
        )
        self.sessions = sessions
        let cookie = RefreshCookie(maxAge: 2_592_000, secure: cookieSecure)
        let requestGuard = CookieRouteGuard(corsOrigins: configuration.corsOrigins, frontendURL: frontendURL)
        let auth = AuthController(
            users: users,
            attempts: attempts,
            hasher: hasher,
            sessions: sessions,
            cookie: cookie,
            accessTokenLifetime: 900,
            requestGuard: requestGuard,
            rateLimits: PasswordRouteLimits(rateLimits),
            clientAddresses: ClientAddressResolver(trustedProxyHops: rateLimits.trustedProxyHops),
            clock: { [clock] in clock.now }
        )
        let account = AccountController(
            users: users,
            accounts: AccountService(
                accounts: accounts,
                refreshSessions: sessionsStore,
                attempts: attempts,
                hasher: hasher,
                sessions: sessions,
                eventSource: "auth-service"
            ),
            cookie: cookie,
            accessTokenLifetime: 900,
            clientAddresses: ClientAddressResolver(trustedProxyHops: rateLimits.trustedProxyHops)
        )
        let googleController = GoogleAuthController(
            provider: google,
            stateCookie: GoogleStateCookie(keys: [GoogleStateCookie.deriveKey(from: key)], secure: cookieSecure),
            accounts: GoogleAccountResolver(users: users, sessions: sessionsStore),
            sessions: sessions,
            cookie: cookie,
            frontendURL: frontendURL,
            requestGuard: requestGuard,
            tokenInRedirect: googleTokenInRedirect
        )
        let verifier = TokenVerifier(issuers: ["auth-service": StaticKeySource([key])], audience: "ecg-api", type: .access)
        let publicRoutes = DocumentedRoutes(router, document: document, security: .none)
        let userRoutes = DocumentedRoutes(
            router.group().add(middleware: BearerAuthenticationMiddleware(verifier: verifier)),
            document: document,
            security: .userBearer
        )
        auth.addRoutes(to: publicRoutes, authenticated: userRoutes)
        account.addRoutes(to: userRoutes)
        googleController.addRoutes(to: publicRoutes)
    }

    var application: some ApplicationProtocol { Application(router: router) }
}

/// A clock that moves only when told to.
final class TestClock: Sendable {
    private let current = Mutex(Date())
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

extension TestResponse {
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] }
    var text: String { String(buffer: body) }
    /// The `Set-Cookie` lines for one cookie name.
    func setCookies(named name: String) -> [String] {
        headers[values: .setCookie].filter { $0.hasPrefix("\(name)=") }
    }
}

/// The value of `name` in a `Set-Cookie` line.
func cookieValue(_ setCookie: String) -> String {
    let pair = setCookie.split(separator: ";", maxSplits: 1)[0]
    return String(pair.split(separator: "=", maxSplits: 1).dropFirst().first ?? "")
}

extension TestClientProtocol {
    /// POSTs `object` as JSON.
    func post(_ uri: String, json object: [String: Any]) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: jsonBody(object))
    }
}

func jsonBody(_ object: [String: Any]) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
}

extension PasswordHasher {
    /// Cost 4 on one hashing pool shared by the whole test process.
    static func forTests() async throws -> PasswordHasher {
        try await PasswordHasher(cost: 4, threadPool: testPool)
    }

    private static let testPool = PasswordHasher.makeThreadPool(threads: 2)
}
