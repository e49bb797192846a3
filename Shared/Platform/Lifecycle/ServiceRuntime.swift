import AsyncHTTPClient
import ECGDatabase
import ECGKafka
import Foundation
import Logging
import PostgresNIO

/// Who a service is: its name, its schema and its migrations.
public struct ServiceDescriptor: Sendable {
    public let name: String
    public let schema: String
    public let migrationsDirectory: URL?

    public init(name: String, schema: String, migrationsDirectory: URL?) {
        self.name = name
        self.schema = schema
        self.migrationsDirectory = migrationsDirectory
    }

    public func migrations() throws -> [Migration] {
        guard let migrationsDirectory else { return [] }
        return try Migration.load(from: migrationsDirectory)
    }
}

/// The long-lived clients a service is built from: configuration, logger, PostgreSQL, Kafka, HTTP, keys.
/// The PostgreSQL client and Kafka producer are `Service`s and must run in the application's service group.
public struct ServiceRuntime: Sendable {
    public let descriptor: ServiceDescriptor
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let postgres: PostgresClient
    public let kafka: KafkaProducer
    public let httpClient: HTTPClient
    public let keys: ServiceKeys

    public init(
        descriptor: ServiceDescriptor,
        configuration: ServiceConfiguration,
        additionalPublicKeys: [SigningKey] = [],
        userTokenKeys: (any KeySource)? = nil
    ) async throws {
        LoggingSetup.bootstrap(environment: configuration.environment, level: configuration.logLevel)
        _ = MetricsSetup.bootstrap()
        var logger = Logger(label: descriptor.name)
        logger.logLevel = configuration.logLevel
        logger[metadataKey: "service"] = .string(descriptor.name)
        self.descriptor = descriptor
        self.configuration = configuration
        self.logger = logger
        do {
            self.postgres = PostgresClient(configuration: try .fromURL(configuration.databaseURL), backgroundLogger: logger)
        } catch {
            throw ConfigurationError(problems: ["DATABASE_URL: \(error)"])
        }
        self.kafka = try KafkaProducer(configuration: configuration.kafka, logger: logger)
        self.httpClient = HTTPClient.shared
        self.keys = try await ServiceKeys(
            configuration: configuration, httpClient: httpClient, logger: logger,
            additionalPublicKeys: additionalPublicKeys, userTokenKeys: userTokenKeys)
    }

    /// Applies the service's migrations; the PostgreSQL client must be running.
    public func migrate() async throws {
        let runner = try MigrationRunner(schema: descriptor.schema, migrations: try descriptor.migrations())
        let applied = try await runner.run(on: postgres, logger: logger)
        logger.info("schema is up to date", metadata: ["schema": "\(descriptor.schema)", "applied": "\(applied)"])
    }

    public var readinessChecks: [ReadinessCheck] {
        [.postgres(postgres, logger: logger), .kafka(kafka)]
    }
}

import ECGTokens
