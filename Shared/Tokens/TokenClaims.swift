import Foundation
import JWTKit

/// What a token is for: `access` tokens are user sessions, `service` tokens are service-to-service calls.
public enum TokenType: String, Codable, Sendable {
    case access
    case service
}

/// The claims of every token ECG signs (SPEC.md §4): `iss aud sub iat exp jti typ`.
public struct TokenClaims: JWTPayload, Equatable {
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var sub: SubjectClaim
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    public var jti: IDClaim
    public var typ: String

    public init(issuer: String, audience: String, subject: String, type: TokenType, issuedAt: Date, lifetime: TimeInterval) {
        // Whole seconds, as the JWT NumericDate is normally written.
        let now = Date(timeIntervalSince1970: issuedAt.timeIntervalSince1970.rounded(.down))
        self.iss = IssuerClaim(value: issuer)
        self.aud = AudienceClaim(value: [audience])
        self.sub = SubjectClaim(value: subject)
        self.iat = IssuedAtClaim(value: now)
        self.exp = ExpirationClaim(value: now.addingTimeInterval(lifetime))
        self.jti = IDClaim(value: UUID().uuidString.lowercased())
        self.typ = type.rawValue
    }

    /// Signature checks happen before this; issuer, audience, type and expiry are checked by `TokenVerifier`.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The identity a verified token carries.
public struct VerifiedToken: Sendable, Equatable {
    public let issuer: String
    public let subject: String
    public let type: TokenType
    public let tokenID: String
    public let expiresAt: Date
}
