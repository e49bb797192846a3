import Foundation
import JWTKit

/// Signs ECG tokens with one Ed25519 key, putting its `kid` in the header.
package struct TokenSigner: Sendable {
    package let key: SigningKey
    private let keys: JWTKeyCollection

    package init(key: SigningKey) async {
        self.key = key
        self.keys = JWTKeyCollection()
        await keys.add(eddsa: key.privateKey, kid: JWKIdentifier(string: key.kid))
    }

    /// Signs a token; returns it with its claims.
    package func sign(
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
