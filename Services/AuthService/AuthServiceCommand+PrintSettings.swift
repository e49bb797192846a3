import ArgumentParser
import ECGEvents
import ECGPlatform
import Foundation

extension AuthServiceCommand {
    /// `auth-service print-settings --json`: the variables auth-service reads, its port and its Kafka use (infra/validate).
    struct PrintSettings: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print-settings",
            abstract: "Print the variables auth-service reads, its port and the Kafka topics it uses, as JSON, and exit."
        )

        @Flag(help: "Print JSON (the only format).")
        var json = false

        func run() throws {
            let report = SettingsReport(service: AuthService.descriptor.name, kafka: AuthServiceCommand.kafkaUse) { settings in
                // What AuthService.makeRuntime reads before it connects anywhere.
                _ = ServiceConfiguration(serviceName: AuthService.descriptor.name, schema: AuthService.descriptor.schema, settings: settings)
                _ = AuthSettings(settings: settings)
            }
            FileHandle.standardOutput.write(try report.json())
        }
    }

    /// Writes account events through its outbox; consumes nothing.
    static let kafkaUse = SettingsReport.KafkaUse(
        produces: [Topics(environment: [:]).authEvents],
        consumes: [],
        groups: [],
        deadLetters: false
    )
}
