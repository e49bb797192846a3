import Foundation
import JWTKit

/// What a key may verify (security review L1). auth-service publishes its service key and its
/// user-token keys in one JWKS; each carries its purpose in the private JWK member `ecg_purpose`
/// (RFC 7517 §4 lets a JWK carry members of its own), and verifiers take a key only for tokens of
/// its purpose.
public enum KeyPurpose: String, Codable, Sendable, Equatable {
    /// Signs user access tokens (`typ: access`); only auth-service has such keys.
    case userToken = "user_token"
    /// Signs service tokens (`typ: service`); every service has one.
    case serviceToken = "service_token"
}

extension TokenType {
    /// The purpose of the keys that may sign tokens of this type.
    public var keyPurpose: KeyPurpose {
        switch self {
        case .access: .userToken
        case .service: .serviceToken
        }
    }
}

/// One Ed25519 public key in JWK form (RFC 8037).
public struct PublicJWK: Codable, Sendable, Equatable {
    public var kty = "OKP"
    public var crv = "Ed25519"
    public var alg = "EdDSA"
    public var use = "sig"
    public var kid: String
    public var x: String
    /// What the key may verify; nil (a JWKS published before purposes existed) means either.
    public var purpose: KeyPurpose?

    enum CodingKeys: String, CodingKey {
        case kty, crv, alg, use, kid, x
        case purpose = "ecg_purpose"
    }

    public init(kid: String, x: String, purpose: KeyPurpose? = nil) {
        self.kid = kid
        self.x = x
        self.purpose = purpose
    }

    /// The verification key, or nil when this JWK is not an Ed25519 signing key.
    public var publicKey: EdDSA.PublicKey? {
        guard kty == "OKP", crv == "Ed25519", alg == "EdDSA" else { return nil }
        return try? EdDSA.PublicKey(x: x, curve: .ed25519)
    }
}

/// The document served at `/.well-known/jwks.json`.
public struct JWKSDocument: Codable, Sendable, Equatable {
    public var keys: [PublicJWK]

    public init(keys: [PublicJWK]) {
        self.keys = keys
    }

    /// Decodes a JWKS, keeping only the Ed25519 keys (others are ignored, as RFC 7517 §5 allows).
    public static func decode(_ data: Data) throws -> JWKSDocument {
        struct Loose: Decodable { var keys: [LooseKey] }
        struct LooseKey: Decodable {
            var kty: String?
            var crv: String?
            var alg: String?
            var kid: String?
            var x: String?
            var ecg_purpose: String?
        }
        let loose = try JSONDecoder().decode(Loose.self, from: data)
        return JWKSDocument(
            keys: loose.keys.compactMap { key in
                guard key.kty == "OKP", key.crv == "Ed25519", key.alg == nil || key.alg == "EdDSA",
                    let kid = key.kid, let x = key.x
                else { return nil }
                // A purpose this version does not know: the key is for something else, never trusted here.
                guard let purpose = key.ecg_purpose else { return PublicJWK(kid: kid, x: x) }
                guard let known = KeyPurpose(rawValue: purpose) else { return nil }
                return PublicJWK(kid: kid, x: x, purpose: known)
            }
        )
    }
}
