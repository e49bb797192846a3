import ECGPlatform
import Testing

@Suite("Configuration from the environment")
struct ConfigurationTests {
    private func load(
        _ variables: [String: String],
        service: String = "auth-service",
        schema: String = "auth"
    ) -> (
        ServiceConfiguration, EnvironmentSettings
    ) {
        let settings = EnvironmentSettings(environment: variables)
        return (ServiceConfiguration(serviceName: service, schema: schema, settings: settings), settings)
    }

    @Test("development fills in the local stack's defaults")
    func developmentDefaults() throws {
        let (configuration, settings) = load([:])
        try settings.validate()
        #expect(configuration.environment == .development)
        #expect(configuration.port == 8081)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.databaseURL == "postgres://auth_service:auth_service_pw@127.0.0.1:54320/ecg")
        #expect(configuration.trustedServices["media-service"] == "http://127.0.0.1:8082/.well-known/jwks.json")
        #expect(configuration.serviceSigningKeyPEM == nil)
    }

    @Test("production refuses to start without its secrets and names every missing variable")
    func productionNeedsSecrets() {
        let (_, settings) = load(["ECG_ENV": "production"])
        let error = #expect(throws: ConfigurationError.self) { try settings.validate() }
        let text = error?.description ?? ""
        for name in ["DATABASE_URL", "KAFKA_BROKERS", "SERVICE_SIGNING_KEY", "TRUSTED_SERVICES"] {
            #expect(text.contains(name), "\(name) should be named in: \(text)")
        }
    }

    @Test("production refuses a development default even when it is set explicitly")
    func productionRefusesDevelopmentDefaults() {
        let (_, settings) = load([
            "ECG_ENV": "production",
            "DATABASE_URL": "postgres://auth_service:auth_service_pw@127.0.0.1:54320/ecg",
            "KAFKA_BROKERS": "kafka:9092",
            "SERVICE_SIGNING_KEY": "pem",
            "TRUSTED_SERVICES": "auth-service=https://auth.example.com/.well-known/jwks.json",
        ])
        let error = #expect(throws: ConfigurationError.self) { try settings.validate() }
        #expect(error?.problems == ["DATABASE_URL is set to the development default; set a production value"])
    }

    @Test("production refuses plain-text PostgreSQL and Kafka across the network, and accepts them on the host's own network")
    func productionTransport() throws {
        let production = [
            "ECG_ENV": "production",
            "SERVICE_SIGNING_KEY": "pem",
            "TRUSTED_SERVICES": "auth-service=https://auth.example.com/.well-known/jwks.json",
        ]
        for sslmode in ["", "?sslmode=disable", "?sslmode=prefer", "?sslmode=allow"] {
            let (_, settings) = load(production.merging([
                "DATABASE_URL": "postgres://auth:s3cret@ecg.abc.eu-west-1.rds.amazonaws.com:5432/ecg\(sslmode)",
                "KAFKA_BROKERS": "b-1.ecg.kafka.eu-west-1.amazonaws.com:9096,b-2.ecg.kafka.eu-west-1.amazonaws.com:9096",
            ]) { $1 })
            let error = #expect(throws: ConfigurationError.self) { try settings.validate() }
            let problems = error?.problems ?? []
            #expect(problems.contains { $0.hasPrefix("DATABASE_URL must use sslmode=verify-full") }, "\(sslmode): \(problems)")
            #expect(problems.contains { $0.hasPrefix("KAFKA_SECURITY_PROTOCOL must be ssl or sasl_ssl") }, "\(problems)")
        }
        // compose's single-host network: the services reach postgres and kafka by name.
        let (_, compose) = load(production.merging(["DATABASE_URL": "postgres://auth:s3cret@postgres:5432/ecg", "KAFKA_BROKERS": "kafka:9092"]) { $1 })
        try compose.validate()
        let (_, tls) = load(production.merging([
            "DATABASE_URL": "postgres://auth:s3cret@ecg.abc.eu-west-1.rds.amazonaws.com:5432/ecg?sslmode=require",
            "KAFKA_BROKERS": "b-1.ecg.kafka.eu-west-1.amazonaws.com:9094",
            "KAFKA_SECURITY_PROTOCOL": "ssl",
        ]) { $1 })
        try tls.validate()
    }

    @Test("production with real values starts")
    func productionWithValues() throws {
        let (configuration, settings) = load([
            "ECG_ENV": "production",
            "DATABASE_URL": "postgres://auth:s3cret@db.internal:5432/ecg?sslmode=require",
            "KAFKA_BROKERS": "b-1.msk.internal:9096",
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SASL_USERNAME": "ecg",
            "KAFKA_SASL_PASSWORD": "secret",
            "SERVICE_SIGNING_KEY": "pem",
            "TRUSTED_SERVICES":
                "auth-service=https://auth.example.com/.well-known/jwks.json,media-service=http://media-service:8082/.well-known/jwks.json",
            "CORS_ORIGINS": "https://ecg.example.com",
        ])
        try settings.validate()
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.kafka.securityProtocol == "sasl_ssl")
        #expect(configuration.corsOrigins == ["https://ecg.example.com"])
        #expect(configuration.trustedServices.count == 2)
    }

    @Test("malformed values are reported with the variable and the expected form")
    func malformedValues() {
        let (_, settings) = load([
            "PORT": "eighty", "LOG_LEVEL": "loud", "TRUSTED_SERVICES": "auth-service", "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
        ])
        let error = #expect(throws: ConfigurationError.self) { try settings.validate() }
        let problems = error?.problems ?? []
        #expect(problems.contains { $0.hasPrefix("PORT must be a whole number") })
        #expect(problems.contains { $0.hasPrefix("LOG_LEVEL must be one of") })
        #expect(problems.contains { $0.hasPrefix("TRUSTED_SERVICES entries must look like") })
        #expect(problems.contains { $0.hasPrefix("KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required") })
    }

    @Test("Swift tasks run on the event loops unless TASKS_ON_EVENT_LOOPS turns it off")
    func tasksOnEventLoops() throws {
        let (development, developmentSettings) = load([:])
        try developmentSettings.validate()
        #expect(development.tasksOnEventLoops)
        let (off, offSettings) = load(["TASKS_ON_EVENT_LOOPS": "false"])
        try offSettings.validate()
        #expect(!off.tasksOnEventLoops)
        let (_, malformed) = load(["TASKS_ON_EVENT_LOOPS": "sometimes"])
        let error = #expect(throws: ConfigurationError.self) { try malformed.validate() }
        #expect(error?.problems.contains("TASKS_ON_EVENT_LOOPS must be true or false (got sometimes)") == true)
    }

    @Test("an unknown ECG_ENV is an error and is treated as production")
    func unknownEnvironment() {
        let (configuration, settings) = load(["ECG_ENV": "staging"])
        #expect(configuration.environment == .production)
        #expect(throws: ConfigurationError.self) { try settings.validate() }
    }
}
