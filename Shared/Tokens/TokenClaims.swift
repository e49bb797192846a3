import ECGEvents
import Foundation
import JWTKit

/// What a token is for: `access` tokens are user sessions, `service` tokens are service-to-service calls.
package enum TokenType: String, Codable, Sendable {
    case access
    case service
}

/// The claims of every token ECG signs (SPEC.md §4): `iss aud sub iat exp jti typ`.
package struct TokenClaims: JWTPayload, Equatable {
    package var iss: IssuerClaim
    package var aud: AudienceClaim
    package var sub: SubjectClaim
    package var iat: IssuedAtClaim
    package var exp: ExpirationClaim
    package var jti: IDClaim
    package var typ: String

    package init(issuer: String, audience: String, subject: String, type: TokenType, issuedAt: Date, lifetime: TimeInterval) {
        // Whole seconds, as the JWT NumericDate is normally written.
        let now = Date(timeIntervalSince1970: issuedAt.timeIntervalSince1970.rounded(.down))
        self.iss = IssuerClaim(value: issuer)
        self.aud = AudienceClaim(value: [audience])
        self.sub = SubjectClaim(value: subject)
        self.iat = IssuedAtClaim(value: now)
        self.exp = ExpirationClaim(value: now.addingTimeInterval(lifetime))
        self.jti = IDClaim(value: UUID.random().lowercasedString)
        self.typ = type.rawValue
    }

    /// Signature checks happen before this; issuer, audience, type and expiry are checked by `TokenVerifier`.
    package func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The identity a verified token carries.
package struct VerifiedToken: Sendable, Equatable {
    package let issuer: String
    package let subject: String
    package let type: TokenType
    package let tokenID: String
    package let expiresAt: Date
}
