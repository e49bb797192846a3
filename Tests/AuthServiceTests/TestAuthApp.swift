import ECGPlatform
import ECGTokens
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

@testable import AuthService

/// auth-service's router as production builds it (`AuthService.buildRouter`: the whole middleware
/// stack and route groups), over in-memory repositories, with bcrypt at cost 4 and keys made here.
struct TestAuthApp {
    let users = InMemoryUserRepository()
    let sessionsStore = InMemoryRefreshSessionRepository()
    let attempts = InMemoryLoginAttemptRepository()
    /// Account changes over the three repositories above; its `deletedEvents` stand in for the outbox.
    let accounts: InMemoryAccountRepository
    /// Sessions as the routes make them (same stores, key and policy).
    let sessions: SessionService
    let key: SigningKey
    let document = OpenAPIDocument(title: "auth-service")
    let router: Router<ECGRequestContext>
    /// The time of the login/signup rate limits and the login lockout; tests advance it.
    let clock = TestClock()
    /// Limits no route test reaches unless it asks for lower ones.
    static let generousLimits = AuthSettings.RateLimits(perClientPerMinute: 10_000, globalPerSecond: 10_000, trustedProxyHops: 1)

    init(
        google: GoogleSignIn.Provider? = nil,
        cookieSecure: Bool = true,
        frontendURL: String = "http://localhost:3000",
        rateLimits: AuthSettings.RateLimits = TestAuthApp.generousLimits,
        googleTokenInRedirect: Bool = true
    ) async throws {
        key = try SigningKey.generate()
        accounts = InMemoryAccountRepository(users: users, sessions: sessionsStore, attempts: attempts)
        let environment = [
            "ECG_ENV": "test",
            "COOKIE_SECURE": String(cookieSecure),
            "FRONTEND_URL": frontendURL,
            "AUTH_RATE_LIMIT_PER_CLIENT_PER_MINUTE": String(rateLimits.perClientPerMinute),
            "AUTH_RATE_LIMIT_GLOBAL_PER_SECOND": String(rateLimits.globalPerSecond),
            "TRUSTED_PROXY_HOPS": String(rateLimits.trustedProxyHops),
            "GOOGLE_CALLBACK_TOKEN_IN_URL": String(googleTokenInRedirect),
        ]
        let settings = EnvironmentSettings(environment: environment)
        let authSettings = AuthSettings(settings: settings)
        try settings.validate()
        let dependencies = AuthService.Dependencies(
            users: users,
            profiles: users,
            refreshSessions: sessionsStore,
            attempts: attempts,
            accounts: accounts,
            hasher: try await PasswordHasher.forTests(),
            userTokenKeys: UserTokenKeys(current: key, previous: []),
            google: google,
            clock: { [clock] in clock.now }
        )
        sessions = await AuthService.sessions(dependencies, settings: authSettings)
        let platform = await ServicePlatform.withKeys(
            descriptor: AuthService.descriptor,
            environment: environment,
            serviceKey: try SigningKey.generate(),
            userTokenKey: key,
            publishedUserTokenKeys: [key]
        )
        router = await AuthService.buildRouter(platform: platform, settings: authSettings, dependencies: dependencies, document: document)
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
