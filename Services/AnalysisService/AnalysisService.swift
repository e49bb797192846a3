import ECGEvents
import ECGKafka
import ECGMessaging
import ECGPlatform
import Foundation
import Hummingbird

/// analysis-service: analysis jobs, their state machine, progress and results.
///
/// The composition root: `buildRouter` makes the whole router from a set of dependencies (the live
/// one here, an in-memory one in the tests); `buildApplication` adds the live dependencies and the
/// background services (outbox relay, consumers, change listener, timeout sweeper) around it.
enum AnalysisService {
    static let descriptor = ServiceDescriptor(
        name: "analysis-service",
        schema: "analysis",
        migrationsDirectory: Bundle.module.url(forResource: "Migrations", withExtension: nil),
        usesMessaging: true,
        honoursUserDeletion: true
    )

    /// What analysis-service's routes are built from.
    struct Dependencies: Sendable {
        let jobs: any JobRepository
        let videos: any VideoLookup
        let changes: JobChangeBroadcaster
        /// job-status from memory; nil reads the repository on every poll.
        var statusCache: JobStatusCache? = nil
    }

    static func makeRuntime(settings: EnvironmentSettings) async throws -> (ServiceRuntime, AnalysisSettings) {
        let configuration = ServiceConfiguration(serviceName: descriptor.name, schema: descriptor.schema, settings: settings)
        let analysis = AnalysisSettings(settings: settings)
        try settings.validate()
        return (try await ServiceRuntime(descriptor: descriptor, configuration: configuration), analysis)
    }

    /// The use cases over `repository`, with the settings' limits.
    static func jobs(_ repository: any JobRepository, settings: AnalysisSettings, topics: Topics) -> AnalysisJobs {
        AnalysisJobs(repository: repository, topics: topics, maxProcessingJobsPerUser: settings.maxProcessingJobsPerUser)
    }

    /// The router production serves and the route tests call: common middleware and routes, then the
    /// job routes (user tokens).
    static func buildRouter(
        platform: ServicePlatform,
        settings: AnalysisSettings,
        topics: Topics,
        dependencies: Dependencies
    ) -> Router<ECGRequestContext> {
        let controller = JobController(
            jobs: jobs(dependencies.jobs, settings: settings, topics: topics),
            videos: dependencies.videos,
            changes: dependencies.changes,
            heartbeat: settings.streamHeartbeat,
            maxStreamsPerUser: settings.maxStreamsPerUser,
            statusCache: dependencies.statusCache
        )
        return ServiceApplication.buildRouter(platform: platform) { routes in
            controller.addRoutes(to: routes.user)
            controller.addCaptionRoutes(to: routes.user)
        }
    }

    /// The production application: PostgreSQL jobs, media-service over HTTP, and the background services.
    static func buildApplication(runtime: ServiceRuntime, settings: AnalysisSettings) async throws -> some ApplicationProtocol {
        let repository = PostgresJobRepository(postgres: runtime.postgres, outbox: runtime.outbox, logger: runtime.logger)
        let jobs = jobs(repository, settings: settings, topics: runtime.topics)
        let changes = JobChangeBroadcaster()
        let statusCache = JobStatusCache(jobs: repository, postgres: runtime.postgres, logger: runtime.logger)
        let workerEvents = IdempotentConsumer(
            consumer: try await KafkaConsumer(
                configuration: runtime.configuration.kafka,
                groupID: ConsumerGroup.analysisService,
                topics: [runtime.topics.analysisEvents],
                logger: runtime.logger
            ),
            processor: IdempotentEventProcessor(
                schema: runtime.outbox.schema,
                postgres: runtime.postgres,
                logger: runtime.logger,
                handler: WorkerEventHandler.handler(jobs: jobs, repository: repository, logger: runtime.logger)
            ),
            deadLetters: runtime.kafka,
            logger: runtime.logger,
            topics: [runtime.topics.analysisEvents]
        )
        let lifecycleEvents = IdempotentConsumer(
            consumer: try await KafkaConsumer(
                configuration: runtime.configuration.kafka,
                groupID: ConsumerGroup.analysisServiceLifecycle,
                topics: [runtime.topics.mediaEvents, runtime.topics.authEvents],
                logger: runtime.logger
            ),
            processor: IdempotentEventProcessor(
                schema: runtime.outbox.schema,
                postgres: runtime.postgres,
                logger: runtime.logger,
                handler: LifecycleEventHandler.handler(
                    jobs: jobs,
                    repository: repository,
                    deletedUsers: runtime.deletedUsers,
                    logger: runtime.logger
                )
            ),
            deadLetters: runtime.kafka,
            logger: runtime.logger,
            topics: [runtime.topics.mediaEvents, runtime.topics.authEvents]
        )
        let sweeper = JobTimeoutSweeper(
            jobs: repository,
            timeout: settings.jobTimeout,
            interval: min(settings.jobTimeout / 4, .seconds(30)),
            logger: runtime.logger
        )
        let media = MediaClient(
            baseURL: settings.mediaServiceURL,
            httpClient: runtime.httpClient,
            serviceTokens: runtime.keys.serviceTokens,
            logger: runtime.logger
        )
        let dependencies = Dependencies(jobs: repository, videos: media, changes: changes, statusCache: statusCache)
        return ServiceApplication.build(
            runtime: runtime,
            router: buildRouter(platform: runtime.platform, settings: settings, topics: runtime.topics, dependencies: dependencies),
            services: [
                runtime.makeOutboxRelay(),
                JobChangeListener(broadcaster: changes, postgres: runtime.postgres, logger: runtime.logger),
                statusCache.cache,
                workerEvents,
                lifecycleEvents,
                sweeper,
            ]
        )
    }
}
