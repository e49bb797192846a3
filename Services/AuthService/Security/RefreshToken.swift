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

    /// Tokens this service could have issued; anything else is refused without a database lookup.
    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43
            && token.utf8.allSatisfy { byte in
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }
}
