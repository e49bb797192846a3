import Crypto
import Foundation
import Hummingbird
import JWTKit
import Synchronization
import _CryptoExtras

/// A small stand-in for Google's OpenID Connect endpoints, for the Google sign-in tests: an
/// authorization endpoint that signs the configured person in at once, a token endpoint that checks
/// the client secret, redirect URI and PKCE verifier like Google does, and a JWKS. id_tokens are
/// real RS256 JWTs. `misbehaviour` makes it issue the bad tokens the tests expect auth-service to refuse.
final class FakeOpenIDProvider: Sendable {
    /// Who signs in at the next `/authorize`.
    struct Person: Sendable {
        var subject: String
        var email: String
        var emailVerified: Bool
        var name: String
    }

    enum Misbehaviour: Sendable {
        case none
        case wrongNonce
        case wrongAudience
        /// Signed with another RSA key under the published `kid`.
        case badSignature
    }

    private struct Grant {
        let person: Person
        let nonce: String
        let challenge: String
        let redirectURI: String
    }

    private struct State {
        var person = Person(subject: "sub", email: "person@example.com", emailVerified: true, name: "Person")
        var misbehaviour = Misbehaviour.none
        var grants: [String: Grant] = [:]
        /// Token requests that passed every check, for assertions.
        var exchanges = 0
        var lastTokenError: String?
    }

    let clientID = "ecg-test-client"
    let clientSecret = "ecg-test-secret"
    let kid = "fake-google-key"
    private let key: JWTKit.Insecure.RSA.PrivateKey
    private let impostorKey: JWTKit.Insecure.RSA.PrivateKey
    private let state = Mutex(State())

    init() throws {
        key = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        impostorKey = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
    }

    func signInNext(_ person: Person, misbehaviour: Misbehaviour = .none) {
        state.withLock {
            $0.person = person
            $0.misbehaviour = misbehaviour
        }
    }

    var successfulExchanges: Int { state.withLock { $0.exchanges } }
    var lastTokenError: String? { state.withLock { $0.lastTokenError } }

    /// The provider's routes; `issuer` is its base URL (`http://127.0.0.1:<port>`), known once it listens.
    func router(issuer: @escaping @Sendable () -> String) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/authorize") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard query["response_type"] == "code", query["client_id"].map(String.init) == self.clientID,
                query["scope"].map({ $0.split(separator: " ").contains("openid") }) == true, query["code_challenge_method"] == "S256",
                let redirectURI = query["redirect_uri"].map(String.init), let state = query["state"].map(String.init),
                let nonce = query["nonce"].map(String.init), let challenge = query["code_challenge"].map(String.init)
            else {
                return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "bad authorization request")))
            }
            let code = UUID().uuidString
            self.state.withLock { $0.grants[code] = Grant(person: $0.person, nonce: nonce, challenge: challenge, redirectURI: redirectURI) }
            let location = "\(redirectURI)?code=\(code)&state=\(state.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
            return Response(status: .found, headers: [.location: location])
        }
        router.post("/token") { request, context -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let form = Self.formDecode(String(buffer: body))
            let (grant, misbehaviour): (Grant?, Misbehaviour) = self.state.withLock { state in
                (form["code"].flatMap { state.grants.removeValue(forKey: $0) }, state.misbehaviour)
            }
            let problem: String? =
                if form["grant_type"] != "authorization_code" {
                    "grant_type"
                } else if form["client_id"] != self.clientID || form["client_secret"] != self.clientSecret {
                    "client authentication"
                } else if grant == nil { "unknown or reused code" } else if form["redirect_uri"] != grant?.redirectURI {
                    "redirect_uri differs from the authorization request"
                } else if let verifier = form["code_verifier"], Self.s256(verifier) == grant?.challenge { nil } else {
                    "PKCE verifier does not match the challenge"
                }
            if let problem {
                self.state.withLock { $0.lastTokenError = problem }
                return Response(
                    status: .badRequest,
                    headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error":"invalid_grant","error_description":"\#(problem)"}"#))
                )
            }
            let idToken = try await self.idToken(for: grant!, issuer: issuer(), misbehaviour: misbehaviour)
            self.state.withLock { $0.exchanges += 1 }
            let json = try JSONSerialization.data(withJSONObject: [
                "access_token": "fake-access-token", "token_type": "Bearer", "expires_in": 3599, "scope": "openid email profile", "id_token": idToken,
            ])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        router.get("/jwks") { _, _ -> Response in
            let (n, e) = try self.key.publicKey.getKeyPrimitives()
            let json = try JSONSerialization.data(withJSONObject: [
                "keys": [["kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": Self.base64URL(n), "e": Self.base64URL(e)]]
            ])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        return router
    }

    struct IDTokenClaims: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var azp: String
        var sub: SubjectClaim
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        var nonce: String
        var email: String
        var email_verified: Bool
        var name: String
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    private func idToken(for grant: Grant, issuer: String, misbehaviour: Misbehaviour) async throws -> String {
        let audience = misbehaviour == .wrongAudience ? "someone-elses-client" : clientID
        let claims = IDTokenClaims(
            iss: .init(value: issuer),
            aud: .init(value: [audience]),
            azp: audience,
            sub: .init(value: grant.person.subject),
            iat: .init(value: Date()),
            exp: .init(value: Date().addingTimeInterval(3600)),
            nonce: misbehaviour == .wrongNonce ? "not-the-nonce" : grant.nonce,
            email: grant.person.email,
            email_verified: grant.person.emailVerified,
            name: grant.person.name
        )
        let keys = JWTKeyCollection()
        await keys.add(rsa: misbehaviour == .badSignature ? impostorKey : key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    static func s256(_ verifier: String) -> String {
        base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=",
            with: ""
        )
    }

    static func formDecode(_ body: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            result[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return result
    }
}
