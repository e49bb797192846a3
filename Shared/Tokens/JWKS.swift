import Foundation
import JWTKit

/// One Ed25519 public key in JWK form (RFC 8037).
public struct PublicJWK: Codable, Sendable, Equatable {
    public var kty = "OKP"
    public var crv = "Ed25519"
    public var alg = "EdDSA"
    public var use = "sig"
    public var kid: String
    public var x: String

    public init(kid: String, x: String) {
        self.kid = kid
        self.x = x
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
        }
        let loose = try JSONDecoder().decode(Loose.self, from: data)
        return JWKSDocument(
            keys: loose.keys.compactMap { key in
                guard key.kty == "OKP", key.crv == "Ed25519", key.alg == nil || key.alg == "EdDSA",
                    let kid = key.kid, let x = key.x
                else { return nil }
                return PublicJWK(kid: kid, x: x)
            }
        )
    }
}
