import AsyncHTTPClient
import ECGPlatform
import ECGTokens
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Security review L1: auth-service publishes its service key and its user-token keys in one JWKS,
/// and media/analysis verify both kinds of token against it. Each published key carries its purpose,
/// and a verifier takes a key only for tokens of that purpose.
@Suite("key purposes at verification")
struct KeyPurposeTests {
    /// auth-service's keys as the service publishes them (the real `ServiceKeys`), and the JWKS as a
    /// remote verifier sees it after a fetch (encoded, then decoded the way `RemoteJWKSKeySource` does).
    struct PublishedAuthKeys {
        let serviceKey: SigningKey
        let userKey: SigningKey
        let fetched: StaticKeySource
        let document: JWKSDocument

        init() async throws {
            serviceKey = try SigningKey.generate()
            userKey = try SigningKey.generate()
            let configuration = ServiceConfiguration(
                serviceName: "auth-service",
                schema: "auth",
                settings: EnvironmentSettings(environment: ["ECG_ENV": "test", "SERVICE_SIGNING_KEY": serviceKey.pemRepresentation])
            )
            let keys = try await ServiceKeys(
                configuration: configuration,
                httpClient: .shared,
                logger: Logger(label: "key-purpose-tests"),
                additionalPublicKeys: [userKey]
            )
            document = try JWKSDocument.decode(JSONEncoder().encode(keys.jwks))
            fetched = StaticKeySource(jwks: document)
        }
    }

    @Test("the JWKS marks the service key service_token and the user-token key user_token")
    func published() async throws {
        let keys = try await PublishedAuthKeys()
        let purposes = Dictionary(uniqueKeysWithValues: keys.document.keys.map { ($0.kid, $0.purpose) })
        #expect(purposes == [keys.serviceKey.kid: .serviceToken, keys.userKey.kid: .userToken])
        let json = String(decoding: try JSONEncoder().encode(keys.document), as: UTF8.self)
        #expect(json.contains(#""ecg_purpose":"user_token""#))
    }

    @Test("a user route refuses an access token signed with the service key; a service route refuses a service token signed with the user key")
    func routes() async throws {
        let keys = try await PublishedAuthKeys()
        // As media-service wires them: one source of auth's keys for both verifiers.
        let users = TokenVerifier(issuers: ["auth-service": keys.fetched], audience: "ecg-api", type: .access)
        let services = TokenVerifier(issuers: ["auth-service": keys.fetched], audience: "media-service", type: .service)
        // The services' router: its error middleware answers a refused token 401 invalid_token.
        let router = ServiceApplication.makeRouter(
            configuration: ServiceConfiguration(
                serviceName: "media-service",
                schema: "media",
                settings: EnvironmentSettings(environment: ["ECG_ENV": "test"])
            )
        )
        router.group("/api/videos").add(middleware: BearerAuthenticationMiddleware(verifier: users)).get { _, _ in "user route" }
        router.group("/internal/videos").add(middleware: BearerAuthenticationMiddleware(verifier: services)).get { _, _ in "service route" }

        func token(_ key: SigningKey, audience: String, type: TokenType) async throws -> String {
            try await TokenSigner(key: key).sign(issuer: "auth-service", audience: audience, subject: "42", type: type, lifetime: 60).token
        }
        let userToken = try await token(keys.userKey, audience: "ecg-api", type: .access)
        let accessSignedWithServiceKey = try await token(keys.serviceKey, audience: "ecg-api", type: .access)
        let serviceToken = try await token(keys.serviceKey, audience: "media-service", type: .service)
        let serviceSignedWithUserKey = try await token(keys.userKey, audience: "media-service", type: .service)

        let cases: [(path: String, token: String, expected: HTTPResponse.Status)] = [
            ("/api/videos", userToken, .ok),
            ("/api/videos", accessSignedWithServiceKey, .unauthorized),
            ("/internal/videos", serviceToken, .ok),
            ("/internal/videos", serviceSignedWithUserKey, .unauthorized),
        ]
        try await Application(router: router).test(.router) { client in
            for (path, token, expected) in cases {
                let response = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(response.status == expected, "\(path)")
            }
        }
        await #expect(throws: TokenError.wrongKeyPurpose(kid: keys.serviceKey.kid, purpose: .userToken)) {
            try await users.verify(accessSignedWithServiceKey)
        }
        await #expect(throws: TokenError.wrongKeyPurpose(kid: keys.userKey.kid, purpose: .serviceToken)) {
            try await services.verify(serviceSignedWithUserKey)
        }
    }

    @Test("the same key as service key and user-token key is refused at start")
    func sameKeyRefused() async throws {
        let key = try SigningKey.generate()
        let configuration = ServiceConfiguration(
            serviceName: "auth-service",
            schema: "auth",
            settings: EnvironmentSettings(environment: ["ECG_ENV": "test", "SERVICE_SIGNING_KEY": key.pemRepresentation])
        )
        await #expect(throws: ConfigurationError.self) {
            try await ServiceKeys(configuration: configuration, httpClient: .shared, logger: Logger(label: "test"), additionalPublicKeys: [key])
        }
    }
}
