import Foundation
import JWTKit

/// Verifies ECG tokens: algorithm EdDSA only, a `kid` from a trusted issuer's keys, the signature,
/// then issuer, audience, type and expiry.
public struct TokenVerifier: Sendable {
    /// Trusted issuers and where their keys come from.
    private let issuers: [String: any KeySource]
    private let audience: String
    private let acceptedType: TokenType
    private let leeway: TimeInterval

    /// - Parameters:
    ///   - issuers: issuer name → its keys; tokens from anyone else are refused.
    ///   - audience: the `aud` this verifier accepts (`ecg-api` for user tokens, the service's name for service tokens).
    ///   - type: the only `typ` accepted.
    public init(issuers: [String: any KeySource], audience: String, type: TokenType, leeway: TimeInterval = 30) {
        self.issuers = issuers
        self.audience = audience
        self.acceptedType = type
        self.leeway = leeway
    }

    public func verify(_ token: String, now: Date = Date()) async throws(TokenError) -> VerifiedToken {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(base64URLEncoded: String(parts[0])),
            let header = try? JSONDecoder().decode(Header.self, from: headerData),
            let payloadData = Data(base64URLEncoded: String(parts[1])),
            let unverified = try? JSONDecoder().decode(UnverifiedClaims.self, from: payloadData)
        else { throw .malformed }
        guard header.alg == "EdDSA" else { throw .unsupportedAlgorithm(header.alg ?? "none") }
        guard let kid = header.kid, !kid.isEmpty else { throw .unknownKey("(missing)") }
        // The issuer picks the key set; the signature then proves the issuer claim.
        guard let issuer = unverified.iss, let keySource = issuers[issuer] else { throw .wrongIssuer(unverified.iss ?? "(missing)") }
        let publicKey = try await keySource.publicKey(kid: kid)

        let claims: TokenClaims
        do {
            let keys = JWTKeyCollection()
            await keys.add(eddsa: publicKey, kid: JWKIdentifier(string: kid))
            claims = try await keys.verify(token, as: TokenClaims.self)
        } catch {
            throw .badSignature
        }
        guard claims.iss.value == issuer else { throw .wrongIssuer(claims.iss.value) }
        guard claims.aud.value.contains(audience) else { throw .wrongAudience }
        guard claims.typ == acceptedType.rawValue else { throw .wrongType(claims.typ) }
        guard claims.exp.value.addingTimeInterval(leeway) > now else { throw .expired }
        guard claims.iat.value.addingTimeInterval(-leeway) <= now else { throw .notYetValid }
        return VerifiedToken(
            issuer: claims.iss.value,
            subject: claims.sub.value,
            type: acceptedType,
            tokenID: claims.jti.value,
            expiresAt: claims.exp.value
        )
    }

    private struct Header: Decodable {
        var alg: String?
        var kid: String?
    }

    private struct UnverifiedClaims: Decodable {
        var iss: String?
    }
}
