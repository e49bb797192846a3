import Foundation
import JWTKit

/// Signs ECG tokens with one Ed25519 key, putting its `kid` in the header.
public struct TokenSigner: Sendable {
    public let key: SigningKey
    private let keys: JWTKeyCollection

    public init(key: SigningKey) async {
        self.key = key
        self.keys = JWTKeyCollection()
        await keys.add(eddsa: key.privateKey, kid: JWKIdentifier(string: key.kid))
    }

    /// Signs a token; returns it with its claims.
    public func sign(
        issuer: String,
        audience: String,
        subject: String,
        type: TokenType,
        lifetime: TimeInterval,
        now: Date = Date()
    ) async throws -> (token: String, claims: TokenClaims) {
        let claims = TokenClaims(issuer: issuer, audience: audience, subject: subject, type: type, issuedAt: now, lifetime: lifetime)
        let token = try await keys.sign(claims, kid: JWKIdentifier(string: key.kid))
        return (token, claims)
    }
}
