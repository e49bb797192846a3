import ECGEvents
import ECGKafka
import ECGMessaging
import ECGPlatform
import Foundation
import Hummingbird

/// analysis-service: analysis jobs, their state machine, progress and results.
enum AnalysisService {
    static let descriptor = ServiceDescriptor(
        name: "analysis-service",
        schema: "analysis",
        migrationsDirectory: Bundle.module.url(forResource: "Migrations", withExtension: nil),
        usesMessaging: true,
        honoursUserDeletion: true
    )

    static func makeRuntime(settings: EnvironmentSettings) async throws -> (ServiceRuntime, AnalysisSettings) {
        let configuration = ServiceConfiguration(serviceName: descriptor.name, schema: descriptor.schema, settings: settings)
        let analysis = AnalysisSettings(settings: settings)
        try settings.validate()
        return (try await ServiceRuntime(descriptor: descriptor, configuration: configuration), analysis)
    }

    static func buildApplication(runtime: ServiceRuntime, settings: AnalysisSettings) async throws -> some ApplicationProtocol {
        let jobs = JobRepository(postgres: runtime.postgres, logger: runtime.logger)
        let changes = JobChangeBroadcaster(postgres: runtime.postgres, logger: runtime.logger)
        let consumer = try await KafkaConsumer(
            configuration: runtime.configuration.kafka,
            groupID: ConsumerGroup.analysisService,
            topics: [runtime.topics.analysisEvents],
            logger: runtime.logger
        )
        let workerEvents = IdempotentConsumer(
            consumer: consumer,
            processor: IdempotentEventProcessor(
                schema: runtime.outbox.schema,
                postgres: runtime.postgres,
                logger: runtime.logger,
                handler: WorkerEventHandler.handler(logger: runtime.logger)
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
                    outbox: runtime.outbox,
                    requestsTopic: runtime.topics.analysisRequests,
                    deletedUsers: runtime.deletedUsers,
                    logger: runtime.logger
                )
            ),
            deadLetters: runtime.kafka,
            logger: runtime.logger,
            topics: [runtime.topics.mediaEvents, runtime.topics.authEvents]
        )
        let sweeper = JobTimeoutSweeper(
            jobs: jobs,
            timeout: settings.jobTimeout,
            interval: min(settings.jobTimeout / 4, .seconds(30)),
            logger: runtime.logger
        )
        let controller = JobController(
            jobs: jobs,
            media: MediaClient(
                baseURL: settings.mediaServiceURL,
                httpClient: runtime.httpClient,
                serviceTokens: runtime.keys.serviceTokens,
                logger: runtime.logger
            ),
            outbox: runtime.outbox,
            topics: runtime.topics,
            changes: changes,
            heartbeat: settings.streamHeartbeat,
            limits: JobController.Limits(
                maxProcessingJobsPerUser: settings.maxProcessingJobsPerUser,
                maxStreamsPerUser: settings.maxStreamsPerUser
            )
        )
        return try ServiceApplication.build(runtime: runtime, services: [runtime.makeOutboxRelay(), changes, workerEvents, lifecycleEvents, sweeper])
        { routes in
            controller.addRoutes(to: routes.user)
            controller.addCaptionRoutes(to: routes.user)
        }
    }
}
