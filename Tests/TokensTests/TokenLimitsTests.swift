import Crypto
import ECGTokens
import Foundation
import JWTKit
import Synchronization
import Testing

/// Security review L3, L9 and the verified-token cache's bound (M2).
@Suite("Token limits: nbf, maximum lifetime, canonical base64url, cache age")
struct TokenLimitsTests {
    let raw = Curve25519.Signing.PrivateKey()
    var signingKey: SigningKey { SigningKey(privateKey: EdDSA.PrivateKey(backing: raw)) }

    private func verifier(type: TokenType = .access, audience: String = "ecg-api") -> TokenVerifier {
        TokenVerifier(issuers: ["auth-service": StaticKeySource([signingKey])], audience: audience, type: type, cache: nil)
    }

    private func token(_ payload: [String: Any]) throws -> String {
        let header = try JSONSerialization.data(withJSONObject: ["alg": "EdDSA", "kid": signingKey.kid]).base64URLEncodedString()
        let body = try JSONSerialization.data(withJSONObject: payload).base64URLEncodedString()
        let signature = try raw.signature(for: Data("\(header).\(body)".utf8))
        return "\(header).\(body).\(signature.base64URLEncodedString())"
    }

    private func payload(lifetime: Int = 900, type: String = "access", audience: String = "ecg-api", extra: [String: Any] = [:]) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: Any] = ["iss": "auth-service", "aud": audience, "sub": "42", "iat": now, "exp": now + lifetime, "jti": "j", "typ": type]
        claims.merge(extra) { _, new in new }
        return claims
    }

    @Test("a token whose nbf lies in the future is refused; a past nbf is fine")
    func notBefore() async throws {
        let now = Int(Date().timeIntervalSince1970)
        await #expect(throws: TokenError.notYetValid) {
            try await verifier().verify(try token(payload(extra: ["nbf": now + 86_400])))
        }
        #expect(try await verifier().verify(try token(payload(extra: ["nbf": now - 10]))).subject == "42")
    }

    @Test("access tokens live at most 1 h, service tokens at most 5 min (SPEC §4), plus leeway")
    func maximumLifetime() async throws {
        await #expect(throws: TokenError.lifetimeTooLong) {
            try await verifier().verify(try token(payload(lifetime: 10 * 365 * 86_400)))
        }
        #expect(try await verifier().verify(try token(payload(lifetime: 3600))).subject == "42")
        let services = verifier(type: .service, audience: "media-service")
        await #expect(throws: TokenError.lifetimeTooLong) {
            try await services.verify(try token(payload(lifetime: 3600, type: "service", audience: "media-service")))
        }
        #expect(try await services.verify(try token(payload(lifetime: 300, type: "service", audience: "media-service"))).subject == "42")
    }

    @Test("only the canonical base64url spelling of a token is accepted")
    func strictBase64URL() async throws {
        let good = try token(payload())
        #expect(try await verifier().verify(good).subject == "42")
        let parts = good.split(separator: ".").map(String.init)
        // An Ed25519 signature is 64 bytes: 86 characters, the last carrying 4 unused bits.
        #expect(parts[2].count == 86)
        var variants: [String] = []
        variants.append([parts[0], parts[1], parts[2] + "=="].joined(separator: "."))
        let last = parts[2].last!
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let value = alphabet.firstIndex(of: last)!
        let flipped = alphabet[value ^ 1]  // a low, unused bit: same bytes, other spelling
        variants.append([parts[0], parts[1], String(parts[2].dropLast()) + String(flipped)].joined(separator: "."))
        variants.append(
            [parts[0], parts[1], parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + " "].joined(
                separator: "."
            )
        )
        variants.append([parts[0] + "=", parts[1], parts[2]].joined(separator: "."))
        for variant in variants {
            await #expect(throws: TokenError.malformed) { try await verifier().verify(variant) }
        }
        #expect(Data(strictBase64URLEncoded: "AQ") == Data([1]))
        #expect(Data(strictBase64URLEncoded: "AR") == nil)
        #expect(Data(strictBase64URLEncoded: "AQ==") == nil)
        #expect(Data(strictBase64URLEncoded: "A") == nil)
    }

    @Test("a remembered verification is re-checked after the cache's maximum age: a withdrawn key's tokens are refused")
    func cacheEntriesAgeOut() async throws {
        let source = WithdrawableKeySource([signingKey])
        let cache = VerifiedTokenCache(maximumAge: 60)
        let verifier = TokenVerifier(issuers: ["auth-service": source], audience: "ecg-api", type: .access, cache: cache)
        let start = Date()
        let token = try token(payload())
        #expect(try await verifier.verify(token, now: start).subject == "42")
        source.withdrawAll()
        // Within the bound the cached verification still answers...
        #expect(try await verifier.verify(token, now: start.addingTimeInterval(30)).subject == "42")
        // ...but not beyond it.
        await #expect(throws: TokenError.unknownKey(signingKey.kid)) {
            try await verifier.verify(token, now: start.addingTimeInterval(61))
        }
    }
}

/// A key source whose keys a test can withdraw, as an issuer's JWKS refetch would.
final class WithdrawableKeySource: KeySource {
    private let keys: Mutex<[String: EdDSA.PublicKey]>

    init(_ keys: [SigningKey]) { self.keys = Mutex(Dictionary(uniqueKeysWithValues: keys.map { ($0.kid, $0.publicKey) })) }

    func withdrawAll() { keys.withLock { $0.removeAll() } }

    func publicKey(kid: String) async throws(TokenError) -> EdDSA.PublicKey {
        guard let key = keys.withLock({ $0[kid] }) else { throw .unknownKey(kid) }
        return key
    }
}
