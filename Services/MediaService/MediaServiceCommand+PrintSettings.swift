import ArgumentParser
import ECGEvents
import ECGPlatform
import Foundation

extension MediaServiceCommand {
    /// `media-service print-settings --json`: the variables media-service reads, its port and its Kafka use (infra/validate).
    struct PrintSettings: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print-settings",
            abstract: "Print the variables media-service reads, its port and the Kafka topics and groups it uses, as JSON, and exit."
        )

        @Flag(help: "Print JSON (the only format).")
        var json = false

        func run() throws {
            let report = SettingsReport(service: MediaService.descriptor.name, kafka: MediaServiceCommand.kafkaUse) { settings in
                // What MediaService.makeRuntime reads before it connects anywhere.
                _ = ServiceConfiguration(serviceName: MediaService.descriptor.name, schema: MediaService.descriptor.schema, settings: settings)
                _ = MediaSettings(settings: settings)
            }
            FileHandle.standardOutput.write(try report.json())
        }
    }

    /// Writes video events through its outbox; consumes user deletions (MediaService.buildApplication),
    /// parking what it cannot process in the dead-letter topic.
    static let kafkaUse = SettingsReport.KafkaUse(
        produces: [Topics(environment: [:]).mediaEvents],
        consumes: [Topics(environment: [:]).authEvents],
        groups: [.literal(ConsumerGroup.mediaService)],
        deadLetters: true
    )
}
