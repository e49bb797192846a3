import Crypto
import Foundation
import JWTKit

/// Verifies ECG tokens: algorithm EdDSA only, a `kid` from a trusted issuer's keys, the signature,
/// then issuer, audience, type, expiry, `nbf` and a maximum lifetime.
package struct TokenVerifier: Sendable {
    /// Trusted issuers and where their keys come from.
    private let issuers: [String: any KeySource]
    private let audience: String
    private let acceptedType: TokenType
    private let leeway: TimeInterval
    private let maximumLifetime: TimeInterval
    private let cache: VerifiedTokenCache?

    /// The longest `exp - iat` accepted by default: access tokens 1 h (auth issues 15 min), service
    /// tokens 5 min (SPEC.md §4). The leeway is added on top.
    package static func defaultMaximumLifetime(for type: TokenType) -> TimeInterval {
        switch type {
        case .access: 3600
        case .service: 300
        }
    }

    /// - Parameters:
    ///   - issuers: issuer name → its keys; tokens from anyone else are refused.
    ///   - audience: the `aud` this verifier accepts (`ecg-api` for user tokens, the service's name for service tokens).
    ///   - type: the only `typ` accepted.
    ///   - maximumLifetime: the longest `exp - iat` accepted (plus `leeway`); by default per type.
    ///   - cache: tokens already verified by this verifier, skipped until they expire; `nil` checks every time.
    package init(
        issuers: [String: any KeySource],
        audience: String,
        type: TokenType,
        leeway: TimeInterval = 30,
        maximumLifetime: TimeInterval? = nil,
        cache: VerifiedTokenCache? = VerifiedTokenCache()
    ) {
        self.issuers = issuers
        self.audience = audience
        self.acceptedType = type
        self.leeway = leeway
        self.maximumLifetime = maximumLifetime ?? Self.defaultMaximumLifetime(for: type)
        self.cache = cache
    }

    package func verify(_ token: String, now: Date = Date()) async throws(TokenError) -> VerifiedToken {
        if let cached = cache?.lookup(token, now: now, leeway: leeway) { return cached }
        let verified = try await verifyUncached(token, now: now)
        cache?.store(verified, for: token, now: now)
        return verified
    }

    private func verifyUncached(_ token: String, now: Date) async throws(TokenError) -> VerifiedToken {
        // Split, decode and check in one pass, straight against swift-crypto: this runs on every
        // authenticated request (jwt-kit's key collection is an actor, and it decodes again).
        let parts = token.utf8.split(separator: UInt8(ascii: "."), maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(strictBase64URLEncoded: Substring(parts[0])),
            let header = try? JSONDecoder().decode(Header.self, from: headerData),
            let payloadData = Data(strictBase64URLEncoded: Substring(parts[1])),
            let claims = try? JSONDecoder().decode(Claims.self, from: payloadData),
            let signature = Data(strictBase64URLEncoded: Substring(parts[2]))
        else { throw .malformed }
        guard header.alg == "EdDSA" else { throw .unsupportedAlgorithm(header.alg ?? "none") }
        // RFC 7515 §4.1.11: critical extensions this verifier does not implement must be refused.
        guard header.crit == nil else { throw .malformed }
        guard let kid = header.kid, !kid.isEmpty else { throw .unknownKey("(missing)") }
        // The issuer picks the key set; the signature then proves the issuer claim.
        guard let issuer = claims.iss, let keySource = issuers[issuer] else { throw .wrongIssuer(claims.iss ?? "(missing)") }
        // A user access token only verifies with a user-token key, a service token only with a service key (review L1).
        let publicKey = try await keySource.publicKey(kid: kid, purpose: acceptedType.keyPurpose)
        let signingInput = token.utf8[token.utf8.startIndex..<parts[1].endIndex]
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey.rawRepresentation),
            key.isValidSignature(signature, for: Data(signingInput))
        else { throw .badSignature }

        guard let subject = claims.sub, let tokenID = claims.jti, let expiry = claims.exp, let issuedAt = claims.iat else {
            throw .malformed
        }
        guard claims.aud?.contains(audience) == true else { throw .wrongAudience }
        guard claims.typ == acceptedType.rawValue else { throw .wrongType(claims.typ ?? "(missing)") }
        let expiresAt = Date(timeIntervalSince1970: expiry)
        guard expiresAt.addingTimeInterval(leeway) > now else { throw .expired }
        guard Date(timeIntervalSince1970: issuedAt).addingTimeInterval(-leeway) <= now else { throw .notYetValid }
        // RFC 7519 §4.1.5: not before `nbf`.
        if let notBefore = claims.nbf {
            guard Date(timeIntervalSince1970: notBefore).addingTimeInterval(-leeway) <= now else { throw .notYetValid }
        }
        // A bounded lifetime limits what a leaked key or a buggy issuer can mint (review L3).
        guard expiry - issuedAt <= maximumLifetime + leeway else { throw .lifetimeTooLong }
        return VerifiedToken(issuer: issuer, subject: subject, type: acceptedType, tokenID: tokenID, expiresAt: expiresAt)
    }

    private struct Header: Decodable {
        var alg: String?
        var kid: String?
        var crit: [String]?
    }

    /// The claims of SPEC.md §4; `aud` may be one string or an array (RFC 7519 §4.1.3).
    private struct Claims: Decodable {
        var iss: String?
        var aud: [String]?
        var sub: String?
        var iat: Double?
        var exp: Double?
        var jti: String?
        var typ: String?
        var nbf: Double?

        enum CodingKeys: String, CodingKey { case iss, aud, sub, iat, exp, jti, typ, nbf }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            iss = try container.decodeIfPresent(String.self, forKey: .iss)
            if let single = try? container.decodeIfPresent(String.self, forKey: .aud) {
                aud = [single]
            } else {
                aud = try container.decodeIfPresent([String].self, forKey: .aud)
            }
            sub = try container.decodeIfPresent(String.self, forKey: .sub)
            iat = try container.decodeIfPresent(Double.self, forKey: .iat)
            exp = try container.decodeIfPresent(Double.self, forKey: .exp)
            jti = try container.decodeIfPresent(String.self, forKey: .jti)
            typ = try container.decodeIfPresent(String.self, forKey: .typ)
            nbf = try container.decodeIfPresent(Double.self, forKey: .nbf)
        }
    }
}
