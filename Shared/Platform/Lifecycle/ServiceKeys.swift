import AsyncHTTPClient
import ECGTokens
import Logging

/// A service's keys and token checks (SPEC.md §4).
package struct ServiceKeys: Sendable {
    /// Signs this service's outgoing service tokens.
    package let serviceTokens: ServiceTokenClient
    /// What `/.well-known/jwks.json` publishes.
    package let jwks: JWKSDocument
    /// Accepts user access tokens from auth-service (`aud=ecg-api`, `typ=access`).
    package let userTokenVerifier: TokenVerifier
    /// Accepts service tokens for this service from the issuers in `TRUSTED_SERVICES`.
    package let serviceTokenVerifier: TokenVerifier

    package static let userTokenIssuer = "auth-service"
    package static let userTokenAudience = "ecg-api"

    /// Every published key carries its purpose (`ecg_purpose`, security review L1): the service key
    /// `service_token`, the additional keys `user_token`; the verifiers take a key only for tokens of
    /// its purpose.
    ///
    /// - Parameters:
    ///   - additionalPublicKeys: user-token keys this service also publishes (auth-service's); none may be the service key.
    ///   - userTokenKeys: where user-token keys come from; by default auth-service's JWKS from `TRUSTED_SERVICES`.
    package init(
        configuration: ServiceConfiguration,
        httpClient: HTTPClient,
        logger: Logger,
        additionalPublicKeys: [SigningKey] = [],
        userTokenKeys: (any KeySource)? = nil
    ) async throws {
        let serviceKey: SigningKey
        do {
            serviceKey = try SigningKeyStore.load(
                pem: configuration.serviceSigningKeyPEM,
                fileName: "\(configuration.serviceName).service.pem",
                directory: configuration.keysDirectory,
                mayGenerate: !configuration.environment.isProduction
            )
        } catch {
            throw ConfigurationError(problems: ["SERVICE_SIGNING_KEY: \(error)"])
        }
        self.serviceTokens = ServiceTokenClient(serviceName: configuration.serviceName, signer: await TokenSigner(key: serviceKey))
        if additionalPublicKeys.contains(where: { $0.kid == serviceKey.kid }) {
            throw ConfigurationError(problems: ["USER_TOKEN_SIGNING_KEY must differ from SERVICE_SIGNING_KEY (they have the same kid \(serviceKey.kid))"])
        }
        self.jwks = JWKSDocument(
            keys: [serviceKey.jwk(purpose: .serviceToken)] + additionalPublicKeys.map { $0.jwk(purpose: .userToken) }
        )

        let remoteSources = configuration.trustedServices.mapValues { url -> any KeySource in
            RemoteJWKSKeySource(url: url, httpClient: httpClient, logger: logger)
        }
        var userIssuers: [String: any KeySource] = [:]
        if let userTokenKeys {
            userIssuers[Self.userTokenIssuer] = userTokenKeys
        } else if let authKeys = remoteSources[Self.userTokenIssuer] {
            userIssuers[Self.userTokenIssuer] = authKeys
        }
        self.userTokenVerifier = TokenVerifier(issuers: userIssuers, audience: Self.userTokenAudience, type: .access)
        self.serviceTokenVerifier = TokenVerifier(issuers: remoteSources, audience: configuration.serviceName, type: .service)
    }
}
