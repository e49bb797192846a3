import ECGEvents
import ECGPlatform

extension AnalysisServiceCommand: SettingsReporting {
    /// `analysis-service print-settings --json` (infra/validate).
    typealias PrintSettings = PrintSettingsCommand<AnalysisServiceCommand>

    static var reportedName: String { AnalysisService.descriptor.name }

    /// Writes job requests and cancellations through its outbox; consumes the workers' job events and the
    /// media and user lifecycle events (AnalysisService.buildApplication), each consumer with a dead-letter topic.
    static let kafkaUse = SettingsReport.KafkaUse(
        produces: [Topics().analysisRequests],
        consumes: [Topics().analysisEvents, Topics().mediaEvents, Topics().authEvents],
        groups: [.literal(ConsumerGroup.analysisService), .literal(ConsumerGroup.analysisServiceLifecycle)],
        deadLetters: true
    )

    /// What AnalysisService.makeRuntime reads before it connects anywhere.
    static func readAllSettings(_ settings: EnvironmentSettings) {
        _ = ServiceConfiguration(serviceName: AnalysisService.descriptor.name, schema: AnalysisService.descriptor.schema, settings: settings)
        _ = AnalysisSettings(settings: settings)
    }
}
