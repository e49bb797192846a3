import ArgumentParser
import ECGEvents
import ECGPlatform
import Foundation

extension AnalysisServiceCommand {
    /// `analysis-service print-settings --json`: the variables analysis-service reads, its port and its Kafka use (infra/validate).
    struct PrintSettings: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print-settings",
            abstract: "Print the variables analysis-service reads, its port and the Kafka topics and groups it uses, as JSON, and exit."
        )

        @Flag(help: "Print JSON (the only format).")
        var json = false

        func run() throws {
            let report = SettingsReport(service: AnalysisService.descriptor.name, kafka: AnalysisServiceCommand.kafkaUse) { settings in
                // What AnalysisService.makeRuntime reads before it connects anywhere.
                _ = ServiceConfiguration(serviceName: AnalysisService.descriptor.name, schema: AnalysisService.descriptor.schema, settings: settings)
                _ = AnalysisSettings(settings: settings)
            }
            FileHandle.standardOutput.write(try report.json())
        }
    }

    /// Writes job requests and cancellations through its outbox; consumes the workers' job events and the
    /// media and user lifecycle events (AnalysisService.buildApplication), each consumer with a dead-letter topic.
    static let kafkaUse: SettingsReport.KafkaUse = {
        let topics = Topics(environment: [:])
        return SettingsReport.KafkaUse(
            produces: [topics.analysisRequests],
            consumes: [topics.analysisEvents, topics.mediaEvents, topics.authEvents],
            groups: [.literal(ConsumerGroup.analysisService), .literal(ConsumerGroup.analysisServiceLifecycle)],
            deadLetters: true
        )
    }()
}
