import Crypto
import ECGPlatform
import ECGTokens
import Foundation
import Testing

@testable import AuthService

@Suite("User access tokens (SPEC.md §3, §4)")
struct AccessTokenTests {
    let key: SigningKey
    let issuer: AccessTokenIssuer
    let verifier: TokenVerifier

    init() async throws {
        key = try SigningKey.generate()
        issuer = AccessTokenIssuer(signer: await TokenSigner(key: key), lifetime: 900)
        verifier = TokenVerifier(issuers: ["auth-service": StaticKeySource([key])], audience: "ecg-api", type: .access)
    }

    static func decodePart(_ token: String, _ index: Int) throws -> [String: Any] {
        let part = String(token.split(separator: ".")[index])
        let data = try #require(Data(base64URLEncoded: part))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("EdDSA with the key's kid; iss, aud, sub, iat, exp (15 min), jti, typ access")
    func claims() async throws {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let token = try await issuer.issue(for: 42, now: now)
        let header = try Self.decodePart(token, 0)
        #expect(header["alg"] as? String == "EdDSA")
        #expect(header["kid"] as? String == key.kid)
        let payload = try Self.decodePart(token, 1)
        #expect(payload["iss"] as? String == "auth-service")
        #expect((payload["aud"] as? String ?? (payload["aud"] as? [String])?.first) == "ecg-api")
        #expect(payload["sub"] as? String == "42")
        #expect(payload["typ"] as? String == "access")
        #expect(payload["iat"] as? Int == 1_750_000_000)
        #expect(payload["exp"] as? Int == 1_750_000_900)
        #expect((payload["jti"] as? String)?.isEmpty == false)
    }

    @Test("the shared verifier accepts it, with the user id as subject")
    func verifies() async throws {
        let verified = try await verifier.verify(try await issuer.issue(for: 7))
        #expect(verified.subject == "7")
        #expect(verified.type == .access)
    }

    @Test("after a rotation, tokens of the previous key still verify while it is listed")
    func rotation() async throws {
        let newKey = try SigningKey.generate()
        let oldToken = try await issuer.issue(for: 1)
        let newIssuer = AccessTokenIssuer(signer: await TokenSigner(key: newKey), lifetime: 900)
        let newToken = try await newIssuer.issue(for: 1)
        let keys = UserTokenKeys(current: newKey, previous: [key])
        let rotated = TokenVerifier(issuers: ["auth-service": StaticKeySource(keys.all)], audience: "ecg-api", type: .access)
        #expect(try await rotated.verify(oldToken).subject == "1")
        #expect(try await rotated.verify(newToken).subject == "1")
        // Once the previous key is removed, its tokens are refused.
        let retired = TokenVerifier(issuers: ["auth-service": StaticKeySource([newKey])], audience: "ecg-api", type: .access)
        await #expect(throws: TokenError.unknownKey(key.kid)) { try await retired.verify(oldToken) }
    }

    @Test("a refresh token is not a bearer token")
    func refreshTokenIsNotABearer() async throws {
        await #expect(throws: TokenError.malformed) { try await verifier.verify(RefreshToken.generate()) }
    }

    @Test("refresh tokens are 256 random bits, base64url, and stored as SHA-256")
    func refreshTokens() {
        let token = RefreshToken.generate()
        #expect(token.count == 43)
        #expect(RefreshToken.isWellFormed(token))
        #expect(RefreshToken.generate() != token)
        #expect(RefreshToken.hash(token).count == 32)
        #expect(!RefreshToken.isWellFormed(token + "A"))
        #expect(!RefreshToken.isWellFormed(String(token.dropLast()) + "="))
    }
}
