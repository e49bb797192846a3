import ECGEvents
import ECGPlatform

extension AuthServiceCommand: SettingsReporting {
    /// `auth-service print-settings --json` (infra/validate).
    typealias PrintSettings = PrintSettingsCommand<AuthServiceCommand>

    static var reportedName: String { AuthService.descriptor.name }

    /// Writes account events through its outbox; consumes nothing.
    static let kafkaUse = SettingsReport.KafkaUse(produces: [Topics().authEvents], consumes: [], groups: [], deadLetters: false)

    /// What AuthService.makeRuntime reads before it connects anywhere.
    static func readAllSettings(_ settings: EnvironmentSettings) {
        _ = ServiceConfiguration(serviceName: AuthService.descriptor.name, schema: AuthService.descriptor.schema, settings: settings)
        _ = AuthSettings(settings: settings)
    }
}
