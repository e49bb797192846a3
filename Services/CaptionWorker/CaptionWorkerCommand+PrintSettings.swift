import ArgumentParser
import ECGEvents
import ECGPlatform
import Foundation

extension CaptionWorkerCommand {
    /// `caption-worker print-settings --json`: the variables the worker reads and its Kafka use (infra/validate).
    struct PrintSettings: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print-settings",
            abstract: "Print the variables the worker reads and the Kafka topics and groups it uses, as JSON, and exit."
        )

        @Flag(help: "Print JSON (the only format).")
        var json = false

        func run() throws {
            let report = SettingsReport(service: CaptionWorkerCommand.configuration.commandName ?? "caption-worker", kafka: CaptionWorkerCommand.kafkaUse) {
                _ = CaptionWorkerCommand.readSettings($0)
            }
            FileHandle.standardOutput.write(try report.json())
        }
    }

    /// Consumes the requests (jobs in the shared group, cancellations in a group of each process's own)
    /// and produces the job events (`CaptionWorker`, `CancellationWatcher`).
    static let kafkaUse = SettingsReport.KafkaUse(
        produces: [Topics(environment: [:]).analysisEvents],
        consumes: [Topics(environment: [:]).analysisRequests],
        groups: [.literal(ConsumerGroup.mlWorkers), .prefixed("\(ConsumerGroup.mlWorkers)-cancellations-")],
        deadLetters: false
    )
}
