import Crypto
import Foundation
import JWTKit

/// An Ed25519 signing key with its key id (`kid`), the RFC 7638 thumbprint of its public key.
package struct SigningKey: Sendable {
    package let kid: String
    package let privateKey: EdDSA.PrivateKey

    package var publicKey: EdDSA.PublicKey { privateKey.publicKey }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    package init(pem: String) throws {
        do {
            self.init(privateKey: try EdDSA.PrivateKey(pem: pem))
        } catch {
            throw TokenError.invalidKey("not an Ed25519 private key in PKCS#8 PEM form")
        }
    }

    package init(privateKey: EdDSA.PrivateKey) {
        self.privateKey = privateKey
        self.kid = Self.thumbprint(of: privateKey.publicKey)
    }

    /// A new random key.
    package static func generate() throws -> SigningKey {
        SigningKey(privateKey: try EdDSA.PrivateKey(curve: .ed25519))
    }

    /// The PKCS#8 PEM form, for development key files.
    package var pemRepresentation: String {
        privateKey.pemRepresentation
    }

    /// The public half as a JWK.
    package var jwk: PublicJWK {
        PublicJWK(kid: kid, x: publicKey.rawRepresentation.base64URLEncodedString())
    }

    /// The public key marked with what it may verify (how services publish their keys).
    package func jwk(purpose: KeyPurpose) -> PublicJWK {
        PublicJWK(kid: kid, x: publicKey.rawRepresentation.base64URLEncodedString(), purpose: purpose)
    }

    static func thumbprint(of key: EdDSA.PublicKey) -> String {
        // RFC 7638: the required members in lexicographic order, no whitespace.
        let canonical = #"{"crv":"Ed25519","kty":"OKP","x":"\#(key.rawRepresentation.base64URLEncodedString())"}"#
        return Data(SHA256.hash(data: Data(canonical.utf8))).base64URLEncodedString()
    }
}

extension Data {
    /// Base64url without padding (RFC 7515 §2).
    package func base64URLEncodedString() -> String {
        var bytes = base64EncodedData()
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        return String(decoding: bytes.map(Self.base64URLByte), as: UTF8.self)
    }

    /// Decodes base64url with or without padding. Byte-wise: this runs for every token verified.
    package init?(base64URLEncoded string: String) {
        var bytes = Array(string.utf8)
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "-"): bytes[index] = UInt8(ascii: "+")
            case UInt8(ascii: "_"): bytes[index] = UInt8(ascii: "/")
            case UInt8(ascii: "+"), UInt8(ascii: "/"): return nil
            default: break
            }
        }
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "="), count: (4 - bytes.count % 4) % 4))
        self.init(base64Encoded: Data(bytes))
    }

    /// Decodes canonical base64url only (RFC 7515 §2, RFC 4648 §3.5): no padding, no character
    /// outside `A–Z a–z 0–9 - _`, no impossible length, and the unused bits of the last character
    /// zero. Each byte string then has exactly one accepted spelling, so tokens are not malleable.
    package init?(strictBase64URLEncoded text: Substring) {
        let utf8 = text.utf8
        guard utf8.count % 4 != 1 else { return nil }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            default:
                return nil
            }
        }
        guard let decoded = Data(base64URLEncoded: String(text)) else { return nil }
        // Canonical trailing bits: re-encoding must give back the same text.
        if utf8.count % 4 != 0 {
            guard let last = utf8.last, let lastValue = Self.base64URLValue(last) else { return nil }
            let unusedBits = utf8.count % 4 == 2 ? 4 : 2
            guard lastValue & ((1 << unusedBits) - 1) == 0 else { return nil }
        }
        self = decoded
    }

    private static func base64URLValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }

    private static func base64URLByte(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "+"): UInt8(ascii: "-")
        case UInt8(ascii: "/"): UInt8(ascii: "_")
        default: byte
        }
    }
}
