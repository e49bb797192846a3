import Crypto
import ECGTokens
import Foundation

/// Proof Key for Code Exchange (RFC 7636) with the S256 method.
enum PKCE {
    /// 43 characters from the unreserved set (32 random bytes, base64url).
    static func makeVerifier() -> String {
        RandomToken.make(bytes: 32)
    }

    /// `BASE64URL(SHA256(ASCII(verifier)))`.
    static func challenge(for verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
    }
}
