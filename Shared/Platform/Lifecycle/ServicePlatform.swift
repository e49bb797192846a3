import ECGTokens

/// What the shared router of every service is built from: who the service is, its configuration, its
/// keys, the deleted-users set and the readiness checks. Nothing here opens a connection, so the
/// tests build the same router as production (`ServiceRuntime.platform` in production).
package struct ServicePlatform: Sendable {
    package let descriptor: ServiceDescriptor
    package let configuration: ServiceConfiguration
    package let keys: ServiceKeys
    package let deletedUsers: DeletedUsers
    package let readiness: [ReadinessCheck]

    package init(
        descriptor: ServiceDescriptor,
        configuration: ServiceConfiguration,
        keys: ServiceKeys,
        deletedUsers: DeletedUsers = DeletedUsers(),
        readiness: [ReadinessCheck] = []
    ) {
        self.descriptor = descriptor
        self.configuration = configuration
        self.keys = keys
        self.deletedUsers = deletedUsers
        self.readiness = readiness
    }
}

extension ServiceKeys {
    /// Keys given directly rather than loaded from files and fetched JWKS: the verifiers accept user
    /// tokens signed by `userTokenKeys` and service tokens from `trustedServices`' keys; the JWKS
    /// publishes the service key and `publishedUserTokenKeys`, each with its purpose.
    package init(
        serviceName: String,
        serviceKey: SigningKey,
        userTokenKeys: any KeySource,
        trustedServices: [String: any KeySource],
        publishedUserTokenKeys: [SigningKey] = []
    ) async {
        self.serviceTokens = ServiceTokenClient(serviceName: serviceName, signer: await TokenSigner(key: serviceKey))
        self.jwks = JWKSDocument(keys: [serviceKey.jwk(purpose: .serviceToken)] + publishedUserTokenKeys.map { $0.jwk(purpose: .userToken) })
        self.userTokenVerifier = TokenVerifier(issuers: [Self.userTokenIssuer: userTokenKeys], audience: Self.userTokenAudience, type: .access)
        self.serviceTokenVerifier = TokenVerifier(issuers: trustedServices, audience: serviceName, type: .service)
    }
}

extension ServicePlatform {
    /// A platform whose keys are given rather than loaded, for building a service's router without
    /// files or network (the route tests): user tokens from auth-service signed by `userTokenKey`,
    /// service tokens from each of `trustedServices` signed by its key; the configuration is read
    /// from `environment` (the test environment by default).
    package static func withKeys(
        descriptor: ServiceDescriptor,
        environment: [String: String] = ["ECG_ENV": "test"],
        serviceKey: SigningKey,
        userTokenKey: SigningKey,
        trustedServices: [String: SigningKey] = [:],
        publishedUserTokenKeys: [SigningKey] = []
    ) async -> ServicePlatform {
        let configuration = ServiceConfiguration(
            serviceName: descriptor.name,
            schema: descriptor.schema,
            settings: EnvironmentSettings(environment: environment)
        )
        let keys = await ServiceKeys(
            serviceName: descriptor.name,
            serviceKey: serviceKey,
            userTokenKeys: StaticKeySource([userTokenKey], purpose: .userToken),
            trustedServices: trustedServices.mapValues { StaticKeySource([$0], purpose: .serviceToken) },
            publishedUserTokenKeys: publishedUserTokenKeys
        )
        return ServicePlatform(descriptor: descriptor, configuration: configuration, keys: keys)
    }
}
