import Crypto
import ECGTokens
import Foundation

/// Opaque refresh tokens: 256 random bits, base64url (43 characters). Only their SHA-256 is stored.
enum RefreshToken {
    static func generate() -> String {
        RandomToken.make(bytes: 32)
    }

    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    /// The successor kept with a rotated token (security review M3), sealed with AES-GCM under a key derived
    /// from the rotated token: only whoever presents that token again can open it.
    static func seal(_ successor: String, under parent: String) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(successor.utf8), using: sealingKey(parent)).combined else {
            throw CryptoKitError.incorrectParameterSize
        }
        return combined
    }

    /// The successor sealed by `seal(_:under:)`, or nil when it does not open under this token.
    static func open(_ sealed: Data, under parent: String) -> String? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed), let plain = try? AES.GCM.open(box, using: sealingKey(parent)) else {
            return nil
        }
        return String(decoding: plain, as: UTF8.self)
    }

    private static func sealingKey(_ parent: String) -> SymmetricKey {
        // Not the stored hash (SHA-256 of the token alone): a different input, so the database can't derive it.
        SymmetricKey(data: SHA256.hash(data: Data("ecg-refresh-successor\u{0}".utf8) + Data(parent.utf8)))
    }

    /// Tokens this service could have issued; anything else is refused without a database lookup.
    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43
            && token.utf8.allSatisfy { byte in
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }
}
