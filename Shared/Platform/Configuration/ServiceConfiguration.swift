import ECGEvents
import ECGKafka
import Foundation
import Logging

/// The settings every service shares (SPEC.md §6), typed and validated at start.
package struct ServiceConfiguration: Sendable {
    package let serviceName: String
    package let environment: DeploymentEnvironment
    package let host: String
    package let port: Int
    package let databaseURL: String
    /// `DATABASE_POOL_SIZE`: the most PostgreSQL connections one process opens (default 8).
    package let databasePoolSize: Int
    package let kafka: KafkaConfiguration
    /// The topic names, with their `TOPIC_*` overrides.
    package let topics: Topics
    /// `SERVICE_SIGNING_KEY` (PEM); nil in development/test, where a key file is generated.
    package let serviceSigningKeyPEM: String?
    /// `TRUSTED_SERVICES`: issuer name → JWKS URL.
    package let trustedServices: [String: String]
    package let logLevel: Logger.Level
    package let corsOrigins: [String]
    /// Where development/test keys live (`KEYS_DIR`, default `.data/keys`).
    package let keysDirectory: String
    /// `TASKS_ON_EVENT_LOOPS`: Swift tasks run on SwiftNIO's event loops (default true; `EventLoopTasks`).
    package let tasksOnEventLoops: Bool

    /// The local stack's addresses (SPEC.md §2), used only outside production.
    package enum LocalDefaults {
        package static let ports = ["auth-service": 8081, "media-service": 8082, "analysis-service": 8083]
        package static let trustedServices = ports.sorted { $0.key < $1.key }
            .map { "\($0.key)=http://127.0.0.1:\($0.value)/.well-known/jwks.json" }.joined(separator: ",")
        package static func databaseURL(schema: String) -> String {
            "postgres://\(schema)_service:\(schema)_service_pw@127.0.0.1:54320/ecg"
        }
    }

    /// Reads the common settings; problems are collected in `settings` (call `settings.validate()` after
    /// the service has read its own).
    package init(serviceName: String, schema: String, settings: EnvironmentSettings) {
        self.serviceName = serviceName
        self.environment = settings.environment
        self.host = settings.string("HOST", default: settings.environment.isProduction ? "0.0.0.0" : "127.0.0.1")
        self.port = settings.int("PORT", default: LocalDefaults.ports[serviceName] ?? 8080, range: 1...65535)
        self.databaseURL = settings.required("DATABASE_URL", developmentDefault: LocalDefaults.databaseURL(schema: schema))
        Self.requireEncryptedDatabase(databaseURL, settings: settings)
        // At least 4: analysis-service keeps two connections listening (outbox, job changes).
        self.databasePoolSize = settings.int("DATABASE_POOL_SIZE", default: 8, range: 4...500)
        self.kafka = Self.kafka(settings: settings, clientID: serviceName)
        self.serviceSigningKeyPEM = settings.optional("SERVICE_SIGNING_KEY")
        if settings.environment.isProduction, serviceSigningKeyPEM == nil {
            settings.report("SERVICE_SIGNING_KEY is required when ECG_ENV=production (an Ed25519 private key in PKCS#8 PEM form)")
        }
        let trusted = settings.required("TRUSTED_SERVICES", developmentDefault: LocalDefaults.trustedServices)
        self.trustedServices = Self.parseTrustedServices(trusted, settings: settings)
        let level = settings.string("LOG_LEVEL", default: settings.environment.isProduction ? "info" : "debug").lowercased()
        if let parsed = Logger.Level(rawValue: level) {
            self.logLevel = parsed
        } else {
            settings.report("LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (got \(level))")
            self.logLevel = .info
        }
        self.corsOrigins = settings.string(
            "CORS_ORIGINS",
            default: settings.environment.isProduction ? "" : "http://localhost:3000,http://127.0.0.1:3000"
        )
        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if settings.environment.isProduction, corsOrigins.contains("*") {
            settings.report("CORS_ORIGINS must list origins explicitly in production; * would let any site use the session cookie")
        }
        self.keysDirectory = settings.string("KEYS_DIR", default: ".data/keys")
        self.tasksOnEventLoops = EventLoopTasks.enabled(settings)
        self.topics = Topics(settings: settings)
    }

    /// `KAFKA_BROKERS` and the optional security settings, for services and for the worker alike.
    package static func kafka(settings: EnvironmentSettings, clientID: String) -> KafkaConfiguration {
        let brokers = settings.required("KAFKA_BROKERS", developmentDefault: localKafkaBootstrap())
        let securityProtocol = settings.optional("KAFKA_SECURITY_PROTOCOL")?.lowercased()
        if let securityProtocol, !["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].contains(securityProtocol) {
            settings.report("KAFKA_SECURITY_PROTOCOL must be plaintext, ssl, sasl_plaintext or sasl_ssl (got \(securityProtocol))")
        }
        // Production speaks TLS to a broker outside its own host network (security review L14).
        if settings.environment.isProduction, !["ssl", "sasl_ssl"].contains(securityProtocol ?? "plaintext"),
            let outside = brokers.split(separator: ",").first(where: { !isSameHostNetwork(String($0.split(separator: ":").first ?? "")) })
        {
            settings.report(
                "KAFKA_SECURITY_PROTOCOL must be ssl or sasl_ssl in production for a broker outside the cluster network (\(outside)); plaintext is accepted only on the host's own network (a compose service name or loopback)"
            )
        }
        let saslMechanism = settings.optional("KAFKA_SASL_MECHANISM")
        let saslUsername = settings.optional("KAFKA_SASL_USERNAME")
        let saslPassword = settings.optional("KAFKA_SASL_PASSWORD")
        if let securityProtocol, securityProtocol.hasPrefix("sasl"), saslMechanism == nil || saslUsername == nil || saslPassword == nil {
            settings.report(
                "KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SECURITY_PROTOCOL=\(securityProtocol)"
            )
        }
        return KafkaConfiguration(
            bootstrapServers: brokers,
            securityProtocol: securityProtocol,
            saslMechanism: saslMechanism,
            saslUsername: saslUsername,
            saslPassword: saslPassword,
            clientID: clientID,
            consumerFetchWaitMilliseconds: settings.int("KAFKA_FETCH_WAIT_MS", default: 100, range: 1...10_000)
        )
    }

    /// `name=url,name=url`; production requires https URLs.
    static func parseTrustedServices(_ raw: String, settings: EnvironmentSettings) -> [String: String] {
        var result: [String: String] = [:]
        for entry in raw.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("http://") || parts[1].hasPrefix("https://") else {
                settings.report("TRUSTED_SERVICES entries must look like name=https://host/.well-known/jwks.json (got \(entry))")
                continue
            }
            if settings.environment.isProduction, parts[1].hasPrefix("http://"), !Self.isClusterInternal(parts[1]) {
                settings.report("TRUSTED_SERVICES must use https for \(parts[0]) in production, or a cluster-internal host")
            }
            result[parts[0]] = parts[1]
        }
        return result
    }

    /// Service discovery names (ECS Service Connect, compose) are plain http inside the private network.
    private static func isClusterInternal(_ url: String) -> Bool {
        guard let host = url.split(separator: "/").dropFirst(1).first?.split(separator: ":").first else { return false }
        return isClusterInternal(host: String(host))
    }

    /// A host name without a dot (a compose service), or one of a private DNS namespace.
    private static func isClusterInternal(host: String) -> Bool {
        !host.isEmpty && (!host.contains(".") || host.hasSuffix(".internal") || host.hasSuffix(".local"))
    }

    /// Where plain-text PostgreSQL and Kafka are acceptable even in production: loopback, or a name
    /// without a dot (a service on the same compose network). Not a private DNS name: RDS and MSK
    /// are reached across the VPC.
    private static func isSameHostNetwork(_ host: String) -> Bool {
        !host.isEmpty && (!host.contains(".") || host.hasPrefix("127.") || host == "[::1]" || host == "::1")
    }

    /// In production the connection to PostgreSQL must be encrypted (`sslmode=require`, `verify-ca` or
    /// `verify-full`; RDS gets `verify-full` with the CA bundle) unless the database is on the host's own
    /// network, such as compose's `postgres` (security review L14). `allow` and `prefer` may fall back to
    /// plain text, so they do not count.
    private static func requireEncryptedDatabase(_ url: String, settings: EnvironmentSettings) {
        guard settings.environment.isProduction, let components = URLComponents(string: url), let host = components.host,
            !isSameHostNetwork(host)
        else { return }
        let mode = components.queryItems?.last(where: { $0.name == "sslmode" })?.value ?? "disable"
        if !["require", "verify-ca", "verify-full"].contains(mode) {
            settings.report(
                "DATABASE_URL must use sslmode=verify-full (or require/verify-ca) in production for \(host) (got sslmode=\(mode)); plain text is accepted only on the host's own network (a compose service name or loopback)"
            )
        }
    }

    /// The bootstrap address the embedded broker wrote (`.data/kafka.bootstrap`), else Kafka's usual port.
    private static func localKafkaBootstrap() -> String {
        let path = ".data/kafka.bootstrap"
        if let contents = try? String(contentsOfFile: path, encoding: .utf8) {
            let trimmed = contents.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return trimmed }
        }
        return "127.0.0.1:9092"
    }
}
