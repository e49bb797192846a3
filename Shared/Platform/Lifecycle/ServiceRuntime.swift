import AsyncHTTPClient
import ECGDatabase
import ECGEvents
import ECGKafka
import ECGMessaging
import ECGTokens
import Foundation
import Logging
import PostgresNIO

/// Who a service is: its name, its schema and its migrations.
package struct ServiceDescriptor: Sendable {
    package let name: String
    package let schema: String
    package let migrationsDirectory: URL?
    /// True for services that publish or consume events: their schema gets the outbox and processed-events tables.
    package let usesMessaging: Bool
    /// True for services that keep users' data and delete it on `ecg.auth.user.deleted.v1`: their schema
    /// gets `deleted_users` and their bearer-token middleware refuses deleted users at once.
    package let honoursUserDeletion: Bool

    package init(name: String, schema: String, migrationsDirectory: URL?, usesMessaging: Bool = false, honoursUserDeletion: Bool = false) {
        self.name = name
        self.schema = schema
        self.migrationsDirectory = migrationsDirectory
        self.usesMessaging = usesMessaging
        self.honoursUserDeletion = honoursUserDeletion
    }

    /// The service's own numbered migrations, plus the shared tables it uses.
    package func migrations() throws -> [Migration] {
        let own = try migrationsDirectory.map { try Migration.load(from: $0) } ?? []
        return own + (usesMessaging ? MessagingMigrations.all : []) + (honoursUserDeletion ? [DeletedUsers.migration] : [])
    }
}

/// The long-lived clients a service is built from: configuration, logger, PostgreSQL, Kafka, HTTP, keys.
/// The PostgreSQL client and Kafka producer are `Service`s and must run in the application's service group.
/// Logging and metrics are bootstrapped by the process entry point (`ServiceMain`), not here.
package struct ServiceRuntime: Sendable {
    package let descriptor: ServiceDescriptor
    package let configuration: ServiceConfiguration
    package let logger: Logger
    package let postgres: PostgresClient
    package let kafka: KafkaProducer
    package let httpClient: HTTPClient
    package let keys: ServiceKeys
    /// The topic names, with their `TOPIC_*` overrides (`configuration.topics`).
    package let topics: Topics
    /// This service's outbox (its tables exist when `descriptor.usesMessaging`).
    package let outbox: Outbox
    /// Users deleted recently, refused by the user-token middleware (filled when `descriptor.honoursUserDeletion`).
    package let deletedUsers: DeletedUsers

    package init(
        descriptor: ServiceDescriptor,
        configuration: ServiceConfiguration,
        additionalPublicKeys: [SigningKey] = [],
        userTokenKeys: (any KeySource)? = nil
    ) async throws {
        var logger = Logger(label: descriptor.name)
        logger.logLevel = configuration.logLevel
        logger[metadataKey: "service"] = .string(descriptor.name)
        self.descriptor = descriptor
        self.configuration = configuration
        self.logger = logger
        do {
            var postgresConfiguration = try PostgresClient.Configuration.fromURL(
                configuration.databaseURL,
                maximumConnections: configuration.databasePoolSize
            )
            // Unqualified table names resolve in the service's own schema, whatever the role's default.
            postgresConfiguration.options.additionalStartupParameters.append(("search_path", descriptor.schema))
            self.postgres = PostgresClient(configuration: postgresConfiguration, backgroundLogger: logger)
        } catch {
            throw ConfigurationError(problems: ["DATABASE_URL: \(error)"])
        }
        self.kafka = try KafkaProducer(configuration: configuration.kafka, logger: logger)
        self.httpClient = HTTPClient.shared
        self.topics = configuration.topics
        self.outbox = Outbox(schema: try SchemaName(descriptor.schema))
        self.deletedUsers = DeletedUsers()
        self.keys = try await ServiceKeys(
            configuration: configuration,
            httpClient: httpClient,
            logger: logger,
            additionalPublicKeys: additionalPublicKeys,
            userTokenKeys: userTokenKeys
        )
    }

    /// Applies the service's migrations; the PostgreSQL client must be running.
    package func migrate() async throws {
        let runner = try MigrationRunner(schema: descriptor.schema, migrations: try descriptor.migrations())
        let applied = try await runner.run(on: postgres, logger: logger)
        logger.info("schema is up to date", metadata: ["schema": "\(descriptor.schema)", "applied": "\(applied)"])
    }

    /// The relay that publishes this service's outbox; add it to the application's services.
    package func makeOutboxRelay() -> OutboxRelay {
        OutboxRelay(outbox: outbox, postgres: postgres, producer: kafka, logger: logger)
    }

    /// What the shared router is built from, with this runtime's keys and readiness checks.
    package var platform: ServicePlatform {
        ServicePlatform(descriptor: descriptor, configuration: configuration, keys: keys, deletedUsers: deletedUsers, readiness: readinessChecks)
    }

    package var readinessChecks: [ReadinessCheck] {
        [.postgres(postgres, logger: logger), .kafka(kafka)]
    }
}
