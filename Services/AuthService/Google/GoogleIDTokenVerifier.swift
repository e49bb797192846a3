import Foundation
import JWTKit

/// Who Google says signed in.
struct GoogleIdentity: Sendable, Equatable {
    let subject: String
    let email: String
    let emailVerified: Bool
    let name: String?
}

/// The claims of a Google id_token that sign-in uses.
struct GoogleIDTokenClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim?
    var azp: String?
    var nonce: String?
    var email: String?
    var emailVerified: BoolClaim?
    var name: String?

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, exp, iat, azp, nonce, email, name
        case emailVerified = "email_verified"
    }

    /// Checked by `GoogleIDTokenVerifier` after the signature, each with its own reason.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Verifies a Google id_token (OpenID Connect Core §3.1.3.7): RS256 only, a `kid` from Google's
/// JWKS, the signature, then `iss`, `aud` (and `azp`), `exp`, `iat`, `nonce` and `email_verified`.
struct GoogleIDTokenVerifier: Sendable {
    let clientID: String
    /// Google writes `https://accounts.google.com` or `accounts.google.com`; both are accepted for Google's issuer.
    let issuers: Set<String>
    let keys: any GoogleKeySource
    let leeway: TimeInterval

    init(clientID: String, issuer: String, keys: any GoogleKeySource, leeway: TimeInterval = 60) {
        self.clientID = clientID
        var issuers: Set<String> = [issuer]
        if issuer == "https://accounts.google.com" { issuers.insert("accounts.google.com") }
        self.issuers = issuers
        self.keys = keys
        self.leeway = leeway
    }

    func verify(_ idToken: String, nonce expectedNonce: String, now: Date = Date()) async throws(GoogleSignInError) -> GoogleIdentity {
        struct Header: Decodable {
            var alg: String?
            var kid: String?
        }
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(base64URLEncoded: String(parts[0])),
            let header = try? JSONDecoder().decode(Header.self, from: headerData)
        else { throw .invalidIDToken("malformed") }
        guard header.alg == "RS256" else { throw .invalidIDToken("alg \(header.alg ?? "none") is not RS256") }
        guard let kid = header.kid, !kid.isEmpty else { throw .invalidIDToken("no kid") }
        let publicKey = try await keys.publicKey(kid: kid)

        let claims: GoogleIDTokenClaims
        do {
            let collection = JWTKeyCollection()
            await collection.add(rsa: publicKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            claims = try await collection.verify(idToken, as: GoogleIDTokenClaims.self)
        } catch {
            throw .invalidIDToken("signature does not verify")
        }
        guard issuers.contains(claims.iss.value) else { throw .invalidIDToken("issuer \(claims.iss.value)") }
        guard claims.aud.value.contains(clientID) else { throw .invalidIDToken("audience \(claims.aud.value)") }
        if claims.aud.value.count > 1 || claims.azp != nil {
            guard claims.azp == clientID else { throw .invalidIDToken("authorized party \(claims.azp ?? "(none)")") }
        }
        guard claims.exp.value.addingTimeInterval(leeway) > now else { throw .invalidIDToken("expired") }
        if let iat = claims.iat, iat.value.addingTimeInterval(-leeway) > now { throw .invalidIDToken("issued in the future") }
        guard let nonce = claims.nonce, Self.constantTimeEquals(nonce, expectedNonce) else { throw .invalidIDToken("nonce does not match") }
        guard let email = claims.email, !email.isEmpty else { throw .invalidIDToken("no email") }
        guard claims.emailVerified?.value == true else { throw .emailNotVerified }
        return GoogleIdentity(subject: claims.sub.value, email: email.lowercased(), emailVerified: true, name: claims.name)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
