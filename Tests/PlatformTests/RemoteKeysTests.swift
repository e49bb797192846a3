import AsyncHTTPClient
import ECGPlatform
import ECGTokens
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@Suite("Trusted issuers' keys over HTTP")
struct RemoteKeysTests {
    /// A JWKS endpoint whose keys can be rotated, counting how often it is fetched.
    final class RotatingIssuer: Sendable {
        let keys: Mutex<[SigningKey]>
        let fetches = Atomic<Int>(0)

        init(_ keys: [SigningKey]) { self.keys = Mutex(keys) }

        func app() -> some ApplicationProtocol {
            let router = Router()
            router.get("/.well-known/jwks.json") { _, _ in
                self.fetches.add(1, ordering: .relaxed)
                return JSONResponse(JWKSDocument(keys: self.keys.withLock { $0.map(\.jwk) }))
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
