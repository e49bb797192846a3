import ECGEvents
import ECGPlatform

extension MediaServiceCommand: SettingsReporting {
    /// `media-service print-settings --json` (infra/validate).
    typealias PrintSettings = PrintSettingsCommand<MediaServiceCommand>

    static var reportedName: String { MediaService.descriptor.name }

    /// Writes video events through its outbox; consumes user deletions (MediaService.buildApplication),
    /// parking what it cannot process in the dead-letter topic.
    static let kafkaUse = SettingsReport.KafkaUse(
        produces: [Topics().mediaEvents],
        consumes: [Topics().authEvents],
        groups: [.literal(ConsumerGroup.mediaService)],
        deadLetters: true
    )

    /// What MediaService.makeRuntime reads before it connects anywhere.
    static func readAllSettings(_ settings: EnvironmentSettings) {
        _ = ServiceConfiguration(serviceName: MediaService.descriptor.name, schema: MediaService.descriptor.schema, settings: settings)
        _ = MediaSettings(settings: settings)
    }
}
