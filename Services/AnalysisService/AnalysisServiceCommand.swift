import ArgumentParser
import ECGEvents
import ECGKafka
import ECGMessaging
import ECGPlatform
import Foundation

@main
struct AnalysisServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analysis-service",
        abstract: "ECG analysis jobs, their state machine, progress and results.",
        subcommands: [Serve.self, Migrate.self, Worker.self],
        defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Migrate the analysis schema, then serve HTTP (default).")
        func run() async throws {
            try await ServiceMain.serve { settings in
                let (runtime, analysis) = try await AnalysisService.makeRuntime(settings: settings)
                return (try await AnalysisService.buildApplication(runtime: runtime, settings: analysis), runtime.logger)
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the analysis schema's migrations and exit.")
        func run() async throws {
            try await ServiceMain.migrate { settings in try await AnalysisService.makeRuntime(settings: settings).0 }
        }
    }

    struct Worker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the reference ML worker: consume analysis requests, measure the audio with ffmpeg, report results."
        )

        @Option(help: "measure (download and measure with ffmpeg) or none (complete at once, for pipeline benchmarks).")
        var analysis: String = "measure"

        @Option(help: "This worker's id in its events (default: worker-<pid>).")
        var workerID: String?

        func run() async throws {
            guard let mode = ReferenceWorker.Analysis(rawValue: analysis) else {
                throw ValidationError("--analysis must be measure or none")
            }
            try await ServiceMain.runWorker { settings in
                let kafka = ServiceConfiguration.kafka(settings: settings, clientID: "ecg-reference-worker")
                try settings.validate()
                return kafka
            } build: { kafka, logger in
                let consumer = try await KafkaConsumer(
                    configuration: kafka,
                    groupID: ConsumerGroup.mlWorkers,
                    topics: [Topics().analysisRequests],
                    logger: logger
                )
                let producer = try KafkaProducer(configuration: kafka, logger: logger)
                let worker = ReferenceWorker(
                    consumer: consumer,
                    events: EventPublisher(producer: producer),
                    topics: Topics(),
                    workerID: workerID ?? "worker-\(ProcessInfo.processInfo.processIdentifier)",
                    analysis: mode,
                    httpClient: .shared,
                    logger: logger
                )
                return [worker, producer]
            }
        }
    }
}
