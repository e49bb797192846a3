import ECGEvents
import ECGPlatform

extension CaptionWorkerCommand: SettingsReporting {
    /// `caption-worker print-settings --json` (infra/validate).
    typealias PrintSettings = PrintSettingsCommand<CaptionWorkerCommand>

    static var reportedName: String { configuration.commandName ?? "caption-worker" }

    /// Consumes the requests (jobs in the shared group, cancellations in a group of each process's own)
    /// and produces the job events (`CaptionWorker`, `CancellationWatcher`).
    static let kafkaUse = SettingsReport.KafkaUse(
        produces: [Topics().analysisEvents],
        consumes: [Topics().analysisRequests],
        groups: [.literal(ConsumerGroup.mlWorkers), .prefixed("\(ConsumerGroup.mlWorkers)-cancellations-")],
        deadLetters: false
    )

    static func readAllSettings(_ settings: EnvironmentSettings) {
        _ = readSettings(settings)
    }
}
