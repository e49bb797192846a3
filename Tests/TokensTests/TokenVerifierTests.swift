import Crypto
import ECGTokens
import Foundation
import JWTKit
import Testing

@Suite("Token verification (SPEC.md §4)")
struct TokenVerifierTests {
    let key: SigningKey
    let signer: TokenSigner
    let verifier: TokenVerifier

    init() async throws {
        key = try SigningKey.generate()
        signer = await TokenSigner(key: key)
        verifier = TokenVerifier(issuers: ["auth-service": StaticKeySource([key])], audience: "ecg-api", type: .access)
    }

    private func accessToken(
        issuer: String = "auth-service",
        audience: String = "ecg-api",
        type: TokenType = .access,
        lifetime: TimeInterval = 900,
        now: Date = Date()
    )
        async throws -> String
    {
        try await signer.sign(issuer: issuer, audience: audience, subject: "42", type: type, lifetime: lifetime, now: now).token
    }

    /// Builds a token by hand with any header, payload and signature.
    private func forge(header: [String: Any], payload: [String: Any], signature: (Data) -> Data) throws -> String {
        let headerPart = try JSONSerialization.data(withJSONObject: header).base64URLEncodedString()
        let payloadPart = try JSONSerialization.data(withJSONObject: payload).base64URLEncodedString()
        let input = Data("\(headerPart).\(payloadPart)".utf8)
        return "\(headerPart).\(payloadPart).\(signature(input).base64URLEncodedString())"
    }

    /// The token with another `sub` in its payload and its original signature.
    private func withSubject(_ subject: String, keepingSignatureOf token: String) throws -> String {
        let parts = token.split(separator: ".").map(String.init)
        let payloadData = try #require(Data(base64URLEncoded: parts[1]))
        var payload = try #require(try JSONSerialization.jsonObject(with: payloadData) as? [String: Any])
        payload["sub"] = subject
        return [parts[0], try JSONSerialization.data(withJSONObject: payload).base64URLEncodedString(), parts[2]].joined(separator: ".")
    }

    private var validPayload: [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        return ["iss": "auth-service", "aud": "ecg-api", "sub": "42", "iat": now, "exp": now + 900, "jti": "j1", "typ": "access"]
    }

    @Test("a token signed by the trusted key is accepted with its subject")
    func acceptsGoodToken() async throws {
        let verified = try await verifier.verify(try await accessToken())
        #expect(verified.subject == "42")
        #expect(verified.issuer == "auth-service")
        #expect(verified.type == .access)
    }

    @Test("the header names EdDSA and the key's kid")
    func headerHasKid() async throws {
        let token = try await accessToken()
        let header = try JSONSerialization.jsonObject(with: Data(base64URLEncoded: String(token.split(separator: ".")[0]))!) as? [String: Any]
        #expect(header?["alg"] as? String == "EdDSA")
        #expect(header?["kid"] as? String == key.kid)
    }

    @Test("alg none is refused")
    func refusesNone() async throws {
        let token = try forge(header: ["alg": "none", "kid": key.kid, "typ": "JWT"], payload: validPayload) { _ in Data() }
        await #expect(throws: TokenError.unsupportedAlgorithm("none")) { try await verifier.verify(token) }
    }

    @Test("HS256 signed with the public key as the secret is refused")
    func refusesHS256() async throws {
        let token = try forge(header: ["alg": "HS256", "kid": key.kid, "typ": "JWT"], payload: validPayload) { input in
            Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key.publicKey.rawRepresentation)))
        }
        await #expect(throws: TokenError.unsupportedAlgorithm("HS256")) { try await verifier.verify(token) }
    }

    @Test("a kid the issuer does not publish is refused")
    func refusesUnknownKid() async throws {
        let other = try SigningKey.generate()
        let token = try await (await TokenSigner(key: other)).sign(
            issuer: "auth-service",
            audience: "ecg-api",
            subject: "42",
            type: .access,
            lifetime: 900
        ).token
        await #expect(throws: TokenError.unknownKey(other.kid)) { try await verifier.verify(token) }
    }

    @Test("a token signed by another key under the trusted kid is refused")
    func refusesWrongSignature() async throws {
        let other = Curve25519.Signing.PrivateKey()
        let token = try forge(header: ["alg": "EdDSA", "kid": key.kid, "typ": "JWT"], payload: validPayload) { input in
            try! other.signature(for: input)
        }
        await #expect(throws: TokenError.badSignature) { try await verifier.verify(token) }
    }

    @Test("an untrusted issuer is refused")
    func refusesIssuer() async throws {
        await #expect(throws: TokenError.wrongIssuer("evil-service")) { try await verifier.verify(try await accessToken(issuer: "evil-service")) }
    }

    @Test("a token for another audience is refused")
    func refusesAudience() async throws {
        await #expect(throws: TokenError.wrongAudience) { try await verifier.verify(try await accessToken(audience: "media-service")) }
    }

    @Test("a service token is not a user token")
    func refusesType() async throws {
        await #expect(throws: TokenError.wrongType("service")) { try await verifier.verify(try await accessToken(type: .service)) }
    }

    @Test("an expired token is refused")
    func refusesExpired() async throws {
        let token = try await accessToken(lifetime: 900, now: Date().addingTimeInterval(-3600))
        await #expect(throws: TokenError.expired) { try await verifier.verify(token) }
    }

    @Test("a verified token is remembered: the same text is not checked again until it expires")
    func cachesVerifiedTokens() async throws {
        let keys = CountingKeySource(StaticKeySource([key]))
        let verifier = TokenVerifier(issuers: ["auth-service": keys], audience: "ecg-api", type: .access, leeway: 0)
        let now = Date()
        let token = try await signer.sign(issuer: "auth-service", audience: "ecg-api", subject: "42", type: .access, lifetime: 60, now: now).token
        #expect(try await verifier.verify(token, now: now).subject == "42")
        #expect(try await verifier.verify(token, now: now.addingTimeInterval(30)).subject == "42")
        #expect(keys.lookups == 1, "the second request verified the signature again")
        // A remembered token still expires.
        await #expect(throws: TokenError.expired) { try await verifier.verify(token, now: now.addingTimeInterval(61)) }
    }

    @Test("a remembered token does not vouch for an altered copy of it")
    func cacheNeedsExactText() async throws {
        let token = try await accessToken()
        _ = try await verifier.verify(token)
        let altered = try withSubject("1", keepingSignatureOf: token)
        await #expect(throws: TokenError.badSignature) { try await verifier.verify(altered) }
    }

    @Test("a full cache keeps working: it makes room and never exceeds its capacity")
    func boundedCache() async throws {
        let cache = VerifiedTokenCache(capacity: 3)
        let verifier = TokenVerifier(issuers: ["auth-service": StaticKeySource([key])], audience: "ecg-api", type: .access, cache: cache)
        for _ in 0..<10 {
            #expect(try await verifier.verify(try await accessToken()).subject == "42")
            #expect(cache.count <= 3)
        }
    }

    @Test("a tampered payload is refused")
    func refusesTampered() async throws {
        let tampered = try withSubject("1", keepingSignatureOf: try await accessToken())
        await #expect(throws: TokenError.badSignature) { try await verifier.verify(tampered) }
    }

    @Test("a header with critical extensions (crit) is refused, even correctly signed")
    func refusesCriticalExtensions() async throws {
        let raw = Curve25519.Signing.PrivateKey()
        let signingKey = SigningKey(privateKey: EdDSA.PrivateKey(backing: raw))
        let verifier = TokenVerifier(issuers: ["auth-service": StaticKeySource([signingKey])], audience: "ecg-api", type: .access)
        let signed: (Data) -> Data = { input in try! raw.signature(for: input) }
        let plain = try forge(header: ["alg": "EdDSA", "kid": signingKey.kid], payload: validPayload, signature: signed)
        #expect(try await verifier.verify(plain).subject == "42")
        let critical = try forge(header: ["alg": "EdDSA", "kid": signingKey.kid, "crit": ["exp"]], payload: validPayload, signature: signed)
        await #expect(throws: TokenError.malformed) { try await verifier.verify(critical) }
    }

    @Test("garbage is malformed")
    func refusesGarbage() async throws {
        await #expect(throws: TokenError.malformed) { try await verifier.verify("not.a.jwt") }
        await #expect(throws: TokenError.malformed) { try await verifier.verify("") }
    }
}

@Suite("Signing keys and service tokens")
struct SigningKeyTests {
    @Test("a key survives its PKCS#8 PEM form, and its kid is the RFC 7638 thumbprint")
    func pemRoundTrip() throws {
        let key = try SigningKey.generate()
        #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let reloaded = try SigningKey(pem: key.pemRepresentation)
        #expect(reloaded.kid == key.kid)
        let canonical = #"{"crv":"Ed25519","kty":"OKP","x":"\#(key.jwk.x)"}"#
        #expect(key.kid == Data(SHA256.hash(data: Data(canonical.utf8))).base64URLEncodedString())
    }

    @Test("development keys are generated once into the keys directory and reused")
    func keyStore() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-keys-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try SigningKeyStore.load(pem: nil, fileName: "x.service.pem", directory: directory, mayGenerate: true)
        let second = try SigningKeyStore.load(pem: nil, fileName: "x.service.pem", directory: directory, mayGenerate: true)
        #expect(first.kid == second.kid)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/x.service.pem")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(throws: TokenError.self) { try SigningKeyStore.load(pem: nil, fileName: "y.pem", directory: directory, mayGenerate: false) }
    }

    @Test("service tokens name caller and callee, live at most 5 minutes and are reused until near expiry")
    func serviceTokens() async throws {
        let key = try SigningKey.generate()
        let client = ServiceTokenClient(serviceName: "analysis-service", signer: await TokenSigner(key: key))
        let now = Date()
        let first = try await client.token(for: "media-service", now: now)
        #expect(try await client.token(for: "media-service", now: now.addingTimeInterval(60)) == first)
        #expect(try await client.token(for: "media-service", now: now.addingTimeInterval(250)) != first)

        let verifier = TokenVerifier(issuers: ["analysis-service": StaticKeySource([key])], audience: "media-service", type: .service)
        let verified = try await verifier.verify(first, now: now)
        #expect(verified.subject == "analysis-service")
        #expect(verified.expiresAt.timeIntervalSince(now) <= 300)
        let wrongAudience = TokenVerifier(issuers: ["analysis-service": StaticKeySource([key])], audience: "auth-service", type: .service)
        await #expect(throws: TokenError.wrongAudience) { try await wrongAudience.verify(first, now: now) }
    }

    @Test("JWKS documents round-trip and ignore keys that are not Ed25519")
    func jwks() throws {
        let key = try SigningKey.generate()
        let json =
            #"{"keys":[{"kty":"RSA","kid":"r","n":"x","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"\#(key.kid)","x":"\#(key.jwk.x)"}]}"#
        let document = try JWKSDocument.decode(Data(json.utf8))
        #expect(document.keys == [key.jwk])
        #expect(document.keys.first?.publicKey == key.publicKey)
    }
}

/// Counts key lookups: a lookup happens for each signature the verifier checks.
final class CountingKeySource: KeySource, @unchecked Sendable {
    private let inner: StaticKeySource
    private let lock = NSLock()
    private var count = 0

    init(_ inner: StaticKeySource) { self.inner = inner }

    var lookups: Int { lock.withLock { count } }

    func publicKey(kid: String) async throws(TokenError) -> EdDSA.PublicKey {
        lock.withLock { count += 1 }
        return try await inner.publicKey(kid: kid)
    }
}
