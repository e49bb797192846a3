import ECGTokens
import Foundation
import Testing

/// Security review L1 at the token layer: `ecg_purpose` in a JWKS and its check in `TokenVerifier`.
@Suite("key purposes")
struct KeyPurposeTokenTests {
    static func token(_ key: SigningKey, type: TokenType, audience: String) async throws -> String {
        try await TokenSigner(key: key).sign(issuer: "auth-service", audience: audience, subject: "7", type: type, lifetime: 60).token
    }

    @Test("a key verifies only tokens of its purpose; an unmarked key (an older JWKS) verifies either")
    func verifierChecksPurpose() async throws {
        let userKey = try SigningKey.generate()
        let serviceKey = try SigningKey.generate()
        let legacyKey = try SigningKey.generate()
        let document = JWKSDocument(keys: [userKey.jwk(purpose: .userToken), serviceKey.jwk(purpose: .serviceToken), legacyKey.jwk])
        let source = StaticKeySource(jwks: try JWKSDocument.decode(JSONEncoder().encode(document)))
        let users = TokenVerifier(issuers: ["auth-service": source], audience: "ecg-api", type: .access, cache: nil)
        let services = TokenVerifier(issuers: ["auth-service": source], audience: "media-service", type: .service, cache: nil)

        _ = try await users.verify(try await Self.token(userKey, type: .access, audience: "ecg-api"))
        _ = try await services.verify(try await Self.token(serviceKey, type: .service, audience: "media-service"))
        await #expect(throws: TokenError.wrongKeyPurpose(kid: serviceKey.kid, purpose: .userToken)) {
            try await users.verify(try await Self.token(serviceKey, type: .access, audience: "ecg-api"))
        }
        await #expect(throws: TokenError.wrongKeyPurpose(kid: userKey.kid, purpose: .serviceToken)) {
            try await services.verify(try await Self.token(userKey, type: .service, audience: "media-service"))
        }
        _ = try await users.verify(try await Self.token(legacyKey, type: .access, audience: "ecg-api"))
        _ = try await services.verify(try await Self.token(legacyKey, type: .service, audience: "media-service"))
    }

    @Test("a static source pinned to a purpose refuses the other kind of token")
    func pinnedStaticSource() async throws {
        let key = try SigningKey.generate()
        let source = StaticKeySource([key], purpose: .userToken)
        _ = try await source.publicKey(kid: key.kid, purpose: .userToken)
        await #expect(throws: TokenError.wrongKeyPurpose(kid: key.kid, purpose: .serviceToken)) {
            try await source.publicKey(kid: key.kid, purpose: .serviceToken)
        }
    }

    @Test("JWKS: ecg_purpose round-trips; a key with a purpose this version does not know is dropped")
    func jwksPurpose() throws {
        let key = try SigningKey.generate()
        let json = String(decoding: try JSONEncoder().encode(JWKSDocument(keys: [key.jwk(purpose: .serviceToken)])), as: UTF8.self)
        #expect(json.contains(#""ecg_purpose":"service_token""#))
        #expect(!String(decoding: try JSONEncoder().encode(JWKSDocument(keys: [key.jwk])), as: UTF8.self).contains("ecg_purpose"))
        let x = key.jwk.x
        let unknown = Data(#"{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"k1","x":"\#(x)","ecg_purpose":"encryption"}]}"#.utf8)
        #expect(try JWKSDocument.decode(unknown).keys.isEmpty)
        let marked = Data(#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"\#(x)","ecg_purpose":"user_token"}]}"#.utf8)
        #expect(try JWKSDocument.decode(marked).keys.first?.purpose == .userToken)
    }
}
