import ECGEvents
import ECGKafka
import ECGMessaging
import ECGPlatform
import ECGS3
import Foundation
import Hummingbird

/// media-service: video records and S3 presigned upload/download.
///
/// The composition root: `buildRouter` makes the whole router from a set of dependencies (the live
/// one here, an in-memory one in the tests); `buildApplication` adds the live dependencies and the
/// background services (outbox relay, user-deletion consumer) around it.
enum MediaService {
    static let descriptor = ServiceDescriptor(
        name: "media-service",
        schema: "media",
        migrationsDirectory: Bundle.module.url(forResource: "Migrations", withExtension: nil),
        usesMessaging: true,
        honoursUserDeletion: true
    )

    /// What media-service's routes are built from.
    struct Dependencies: Sendable {
        let videos: any VideoRepository
        let storage: any VideoStorage
        /// Where `video.uploaded` and `video.deleted` go.
        var eventsTopic = Topics().mediaEvents
    }

    static func makeRuntime(settings: EnvironmentSettings) async throws -> (ServiceRuntime, MediaSettings) {
        let configuration = ServiceConfiguration(serviceName: descriptor.name, schema: descriptor.schema, settings: settings)
        let media = MediaSettings(settings: settings)
        try settings.validate()
        return (try await ServiceRuntime(descriptor: descriptor, configuration: configuration), media)
    }

    /// The router production serves and the route tests call: common middleware and routes, then
    /// the upload routes (user tokens) and the internal lookup (service tokens).
    static func buildRouter(platform: ServicePlatform, settings: MediaSettings, dependencies: Dependencies) -> Router<ECGRequestContext> {
        let records = VideoRecords(repository: dependencies.videos, topic: dependencies.eventsTopic, source: descriptor.name)
        let confirmation = UploadConfirmation(records: records, storage: dependencies.storage, maxUploadBytes: settings.maxUploadBytes)
        return ServiceApplication.buildRouter(platform: platform) { routes in
            UploadController(
                repository: dependencies.videos,
                records: records,
                storage: dependencies.storage,
                confirmation: confirmation,
                maxUploadBytes: settings.maxUploadBytes,
                urlSeconds: settings.browserURLSeconds,
                maxUserStorageBytes: settings.maxUserStorageBytes
            ).addRoutes(to: routes.user)
            InternalVideoController(
                repository: dependencies.videos,
                storage: dependencies.storage,
                confirmation: confirmation,
                workerURLSeconds: settings.workerURLSeconds
            ).addRoutes(to: routes.internal)
        }
    }

    /// The production application: PostgreSQL records, S3, and the background services.
    static func buildApplication(runtime: ServiceRuntime, settings: MediaSettings) async throws -> some ApplicationProtocol {
        let s3 = S3Client(configuration: settings.s3, httpClient: runtime.httpClient)
        let repository = PostgresVideoRepository(postgres: runtime.postgres, outbox: runtime.outbox, logger: runtime.logger)
        let records = VideoRecords(repository: repository, topic: runtime.topics.mediaEvents, source: descriptor.name)
        let logger = runtime.logger
        var beforeServing: [@Sendable () async throws -> Void] = []
        if settings.createBucketIfMissing {
            beforeServing.append {
                // Development and test only: production buckets are made by infrastructure (infra/).
                if try await s3.createBucketIfMissing() {
                    logger.info("created S3 bucket", metadata: ["bucket": "\(settings.s3.bucket)", "endpoint": "\(settings.s3.endpoint)"])
                }
            }
        }
        let userEvents = IdempotentConsumer(
            consumer: try await KafkaConsumer(
                configuration: runtime.configuration.kafka,
                groupID: ConsumerGroup.mediaService,
                topics: [runtime.topics.authEvents],
                logger: runtime.logger
            ),
            processor: IdempotentEventProcessor(
                schema: runtime.outbox.schema,
                postgres: runtime.postgres,
                logger: runtime.logger,
                handler: UserDeletionHandler.handler(records: records, repository: repository, storage: s3, deletedUsers: runtime.deletedUsers, logger: runtime.logger)
            ),
            deadLetters: runtime.kafka,
            logger: runtime.logger,
            topics: [runtime.topics.authEvents]
        )
        return ServiceApplication.build(
            runtime: runtime,
            router: buildRouter(platform: runtime.platform, settings: settings, dependencies: Dependencies(videos: repository, storage: s3, eventsTopic: runtime.topics.mediaEvents)),
            services: [runtime.makeOutboxRelay(), userEvents, repository.pendingVideos],
            beforeServing: beforeServing
        )
    }
}
