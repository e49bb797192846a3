import Crypto
import ECGTokens
import Foundation
import Hummingbird

/// What the browser carries from `/api/auth/google/login` to the callback: state, nonce and the PKCE
/// verifier, in a short-lived HttpOnly cookie signed with HMAC-SHA256.
///
/// The HMAC key is derived (HKDF-SHA256) from the user-token signing key, which every replica of
/// auth-service shares; keys derived from `USER_TOKEN_PREVIOUS_KEYS` are still accepted, so a login
/// that spans a key rotation completes.
struct GoogleStateCookie: Sendable {
    static let name = "google_oauth_state"
    static let path = "/api/auth/google"
    /// Ten minutes to sign in at Google.
    static let lifetime: TimeInterval = 600

    struct Contents: Codable, Sendable, Equatable {
        let state: String
        let nonce: String
        let verifier: String
        /// Expiry, seconds since 1970.
        let exp: Int
    }

    /// The first key signs; all verify.
    private let keys: [SymmetricKey]
    let secure: Bool

    init(keys: [SymmetricKey], secure: Bool) {
        precondition(!keys.isEmpty)
        self.keys = keys
        self.secure = secure
    }

    /// The cookie key derived from a user-token signing key.
    static func deriveKey(from signingKey: SigningKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: signingKey.privateKey.rawRepresentation),
            info: Data("ecg auth-service google oauth state v1".utf8),
            outputByteCount: 32
        )
    }

    func seal(_ contents: Contents) throws -> String {
        let payload = try JSONEncoder().encode(contents).base64URLEncodedString()
        let mac = Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: keys[0])).base64URLEncodedString()
        return "\(payload).\(mac)"
    }

    /// The contents when the value is intact, signed by one of the keys, and not expired.
    func open(_ value: String, now: Date = Date()) -> Contents? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Data(base64URLEncoded: String(parts[1])) else { return nil }
        let payload = Data(parts[0].utf8)
        guard keys.contains(where: { HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: $0) }),
            let json = Data(base64URLEncoded: String(parts[0])),
            let contents = try? JSONDecoder().decode(Contents.self, from: json),
            Date(timeIntervalSince1970: TimeInterval(contents.exp)) > now
        else { return nil }
        return contents
    }

    private var cookie: HttpOnlyCookie {
        HttpOnlyCookie(name: Self.name, path: Self.path, maxAge: Int(Self.lifetime), secure: secure)
    }

    func setting(_ value: String) -> Cookie { cookie.setting(value) }

    func clearing() -> Cookie { cookie.clearing() }
}
