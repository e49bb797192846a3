import Crypto
import ECGTokens
import Foundation

/// Random URL-safe strings from the system's secure generator.
enum RandomToken {
    /// `bytes` random bytes, base64url without padding (32 bytes → 43 characters).
    static func make(bytes: Int = 32) -> String {
        SymmetricKey(size: SymmetricKeySize(bitCount: bytes * 8)).withUnsafeBytes { Data($0) }.base64URLEncodedString()
    }
}
