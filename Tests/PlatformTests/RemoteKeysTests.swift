import AsyncHTTPClient
import ECGPlatform
import ECGTokens
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@Suite("Trusted issuers' keys over HTTP")
struct RemoteKeysTests {
    /// A JWKS endpoint whose keys can be rotated, counting how often it is fetched.
    final class RotatingIssuer: Sendable {
        let keys: Mutex<[SigningKey]>
        let fetches = Atomic<Int>(0)
        /// When set, the endpoint answers 503 (an auth outage).
        let failing = Atomic<Bool>(false)
        let cacheControl: String?
        let delay: Duration

        init(_ keys: [SigningKey], cacheControl: String? = nil, delay: Duration = .zero) {
            self.keys = Mutex(keys)
            self.cacheControl = cacheControl
            self.delay = delay
        }

        func app() -> some ApplicationProtocol {
            let router = Router()
            router.get("/.well-known/jwks.json") { _, _ -> Response in
                self.fetches.add(1, ordering: .relaxed)
                if self.delay > .zero { try await Task.sleep(for: self.delay) }
                if self.failing.load(ordering: .relaxed) { return Response(status: .serviceUnavailable) }
                var headers = HTTPFields()
                if let cacheControl = self.cacheControl { headers[.cacheControl] = cacheControl }
                headers[.contentType] = "application/json"
                let data = try JSONEncoder().encode(JWKSDocument(keys: self.keys.withLock { $0.map(\.jwk) }))
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    @Test("the callee fetches the issuer's JWKS, caches it, and refetches once on an unknown kid (rotation)")
    func rotation() async throws {
        let oldKey = try SigningKey.generate()
        let newKey = try SigningKey.generate()
        let issuer = RotatingIssuer([oldKey])
        try await issuer.app().test(.live) { client in
            let port = try #require(client.port)
            let source = RemoteJWKSKeySource(
                url: "http://127.0.0.1:\(port)/.well-known/jwks.json",
                httpClient: .shared,
                minimumRefetchInterval: 0,
                logger: Logger(label: "test")
            )
            let verifier = TokenVerifier(issuers: ["media-service": source], audience: "analysis-service", type: .service)
            let oldClient = ServiceTokenClient(serviceName: "media-service", signer: await TokenSigner(key: oldKey))
            let newClient = ServiceTokenClient(serviceName: "media-service", signer: await TokenSigner(key: newKey))

            _ = try await verifier.verify(try await oldClient.token(for: "analysis-service"))
            _ = try await verifier.verify(try await oldClient.token(for: "analysis-service"))
            #expect(issuer.fetches.load(ordering: .relaxed) == 1)

            issuer.keys.withLock { $0 = [oldKey, newKey] }
            let verified = try await verifier.verify(try await newClient.token(for: "analysis-service"))
            #expect(verified.subject == "media-service")
            #expect(issuer.fetches.load(ordering: .relaxed) == 2)
        }
    }

    @Test("unknown kids do not turn into a flood of JWKS requests")
    func refetchIsRateLimited() async throws {
        let issuer = RotatingIssuer([try SigningKey.generate()])
        try await issuer.app().test(.live) { client in
            let port = try #require(client.port)
            let source = RemoteJWKSKeySource(
                url: "http://127.0.0.1:\(port)/.well-known/jwks.json",
                httpClient: .shared,
                minimumRefetchInterval: 60,
                logger: Logger(label: "test")
            )
            for _ in 0..<5 {
                await #expect(throws: TokenError.unknownKey("nope")) { try await source.publicKey(kid: "nope") }
            }
            #expect(issuer.fetches.load(ordering: .relaxed) == 1)
        }
    }

    /// A clock a test moves by hand.
    final class TestClock: Sendable {
        let now = Mutex(Date())
        func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
        var read: @Sendable () -> Date { { self.now.withLock { $0 } } }
    }

    private func userToken(_ key: SigningKey) async throws -> String {
        try await TokenSigner(key: key).sign(issuer: "auth-service", audience: "ecg-api", subject: "7", type: .access, lifetime: 900).token
    }

    @Test("a key withdrawn from the issuer's JWKS stops being trusted once the cached set is older than its maximum age (M2)")
    func withdrawnKeyExpires() async throws {
        let oldKey = try SigningKey.generate()
        let newKey = try SigningKey.generate()
        let issuer = RotatingIssuer([newKey, oldKey])
        try await issuer.app().test(.live) { client in
            let port = try #require(client.port)
            let clock = TestClock()
            let source = RemoteJWKSKeySource(
                url: "http://127.0.0.1:\(port)/.well-known/jwks.json",
                httpClient: .shared,
                maximumAge: 300,
                logger: Logger(label: "test"),
                clock: clock.read
            )
            let verifier = TokenVerifier(issuers: ["auth-service": source], audience: "ecg-api", type: .access, cache: nil)
            let forged = try await userToken(oldKey)
            _ = try await verifier.verify(forged)
            issuer.keys.withLock { $0 = [newKey] }  // the operator removes the compromised key
            clock.advance(200)
            _ = try await verifier.verify(forged)  // still within the bound
            clock.advance(101)
            await #expect(throws: TokenError.unknownKey(oldKey.kid)) { try await verifier.verify(forged) }
            #expect(try await verifier.verify(try await userToken(newKey)).subject == "7")
            #expect(issuer.fetches.load(ordering: .relaxed) == 2)
        }
    }

    @Test("the issuer's Cache-Control max-age shortens the cache lifetime")
    func honoursMaxAge() async throws {
        let key = try SigningKey.generate()
        let issuer = RotatingIssuer([key], cacheControl: "public, max-age=30")
        try await issuer.app().test(.live) { client in
            let port = try #require(client.port)
            let clock = TestClock()
            let source = RemoteJWKSKeySource(
                url: "http://127.0.0.1:\(port)/.well-known/jwks.json",
                httpClient: .shared,
                logger: Logger(label: "test"),
                clock: clock.read
            )
            _ = try await source.publicKey(kid: key.kid)
            clock.advance(29)
            _ = try await source.publicKey(kid: key.kid)
            #expect(issuer.fetches.load(ordering: .relaxed) == 1)
            clock.advance(2)
            _ = try await source.publicKey(kid: key.kid)
            #expect(issuer.fetches.load(ordering: .relaxed) == 2)
        }
    }

    @Test("concurrent lookups that need the JWKS share one fetch (single-flight, L4)")
    func singleFlight() async throws {
        let key = try SigningKey.generate()
        let issuer = RotatingIssuer([key], delay: .milliseconds(300))
        try await issuer.app().test(.live) { client in
            let port = try #require(client.port)
            let source = RemoteJWKSKeySource(
                url: "http://127.0.0.1:\(port)/.well-known/jwks.json",
                httpClient: .shared,
                minimumRefetchInterval: 0,
                logger: Logger(label: "test")
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 { group.addTask { _ = try await source.publicKey(kid: key.kid) } }
                try await group.waitForAll()
            }
            #expect(issuer.fetches.load(ordering: .relaxed) == 1)
        }
    }

    @Test("a failed refetch keeps the last good keys for a bounded time, then reports unavailable keys (stale-if-error)")
    func staleIfError() async throws {
        let key = try SigningKey.generate()
        let issuer = RotatingIssuer([key])
        try await issuer.app().test(.live) { client in
            let port = try #require(client.port)
            let clock = TestClock()
            let source = RemoteJWKSKeySource(
                url: "http://127.0.0.1:\(port)/.well-known/jwks.json",
                httpClient: .shared,
                minimumRefetchInterval: 10,
                maximumAge: 300,
                staleIfError: 600,
                logger: Logger(label: "test"),
                clock: clock.read
            )
            let verifier = TokenVerifier(issuers: ["auth-service": source], audience: "ecg-api", type: .access, cache: nil)
            let token = try await userToken(key)
            _ = try await verifier.verify(token)
            issuer.failing.store(true, ordering: .relaxed)
            clock.advance(301)
            #expect(try await verifier.verify(token).subject == "7")  // refetch failed: last good keys
            #expect(issuer.fetches.load(ordering: .relaxed) == 2)
            // An unknown kid while the issuer is down is 503 material, not a bad token.
            do {
                _ = try await source.publicKey(kid: "rotated-in-meanwhile")
                Issue.record("expected an error")
            } catch {
                guard case .keysUnavailable? = error as? TokenError else {
                    Issue.record("expected keysUnavailable, got \(error)")
                    return
                }
            }
            clock.advance(600)
            do {
                _ = try await verifier.verify(token)
                Issue.record("expected an error")
            } catch {
                guard case .keysUnavailable? = error as? TokenError else {
                    Issue.record("expected keysUnavailable, got \(error)")
                    return
                }
            }
            issuer.failing.store(false, ordering: .relaxed)
            clock.advance(11)
            #expect(try await verifier.verify(token).subject == "7")
        }
    }

    @Test("an unreachable issuer is reported as unavailable keys, not as a bad token")
    func unreachable() async throws {
        let source = RemoteJWKSKeySource(url: "http://127.0.0.1:1/.well-known/jwks.json", httpClient: .shared, logger: Logger(label: "test"))
        do {
            _ = try await source.publicKey(kid: "k")
            Issue.record("expected an error")
        } catch {
            guard case .keysUnavailable = error else {
                Issue.record("expected keysUnavailable, got \(error)")
                return
            }
        }
    }
}
