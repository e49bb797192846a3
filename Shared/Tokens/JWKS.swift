import Foundation
import JWTKit

/// What a key may verify (security review L1). auth-service publishes its service key and its
/// user-token keys in one JWKS; each carries its purpose in the private JWK member `ecg_purpose`
/// (RFC 7517 §4 lets a JWK carry members of its own), and verifiers take a key only for tokens of
/// its purpose.
package enum KeyPurpose: String, Codable, Sendable, Equatable {
    /// Signs user access tokens (`typ: access`); only auth-service has such keys.
    case userToken = "user_token"
    /// Signs service tokens (`typ: service`); every service has one.
    case serviceToken = "service_token"
}

extension TokenType {
    /// The purpose of the keys that may sign tokens of this type.
    package var keyPurpose: KeyPurpose {
        switch self {
        case .access: .userToken
        case .service: .serviceToken
        }
    }
}

/// One Ed25519 public key in JWK form (RFC 8037).
package struct PublicJWK: Codable, Sendable, Equatable {
    package var kty = "OKP"
    package var crv = "Ed25519"
    package var alg = "EdDSA"
    package var use = "sig"
    package var kid: String
    package var x: String
    /// What the key may verify; nil (a JWKS published before purposes existed) means either.
    package var purpose: KeyPurpose?

    enum CodingKeys: String, CodingKey {
        case kty, crv, alg, use, kid, x
        case purpose = "ecg_purpose"
    }

    package init(kid: String, x: String, purpose: KeyPurpose? = nil) {
        self.kid = kid
        self.x = x
        self.purpose = purpose
    }

    /// The verification key, or nil when this JWK is not an Ed25519 signing key.
    package var publicKey: EdDSA.PublicKey? {
        guard kty == "OKP", crv == "Ed25519", alg == "EdDSA" else { return nil }
        return try? EdDSA.PublicKey(x: x, curve: .ed25519)
    }
}

/// The document served at `/.well-known/jwks.json`.
package struct JWKSDocument: Codable, Sendable, Equatable {
    package var keys: [PublicJWK]

    package init(keys: [PublicJWK]) {
        self.keys = keys
    }

    /// Decodes a JWKS, keeping only the Ed25519 keys (others are ignored, as RFC 7517 §5 allows).
    package static func decode(_ data: Data) throws -> JWKSDocument {
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
