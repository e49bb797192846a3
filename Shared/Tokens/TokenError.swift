/// Why a token or key was refused. The reason is for logs; clients only ever see "invalid token".
package enum TokenError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed
    case unsupportedAlgorithm(String)
    case unknownKey(String)
    /// The key exists but is for the other kind of token (security review L1): a user-token key on a
    /// service token, or a service key on a user access token.
    case wrongKeyPurpose(kid: String, purpose: KeyPurpose)
    case badSignature
    case wrongIssuer(String)
    case wrongAudience
    case wrongType(String)
    case expired
    case notYetValid
    case lifetimeTooLong
    case invalidKey(String)
    case keysUnavailable(String)

    package var description: String {
        switch self {
        case .malformed: "the token is not a well-formed JWT"
        case .unsupportedAlgorithm(let alg): "algorithm \(alg) is not accepted (EdDSA only)"
        case .unknownKey(let kid): "no trusted key has kid \(kid)"
        case .wrongKeyPurpose(let kid, let purpose): "key \(kid) may not verify \(purpose.rawValue) tokens"
        case .badSignature: "the signature does not verify"
        case .wrongIssuer(let issuer): "issuer \(issuer) is not trusted here"
        case .wrongAudience: "the token is meant for another audience"
        case .wrongType(let type): "token type \(type) is not accepted here"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        case .lifetimeTooLong: "the token's lifetime exceeds the maximum accepted here"
        case .invalidKey(let reason): "invalid signing key: \(reason)"
        case .keysUnavailable(let reason): "the issuer's keys could not be fetched: \(reason)"
        }
    }
}
