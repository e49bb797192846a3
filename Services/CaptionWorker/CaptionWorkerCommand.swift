import ArgumentParser
import ECGEvents
import ECGKafka
import ECGMessaging
import ECGPlatform
import ECGSpeech
import Foundation
import Logging

@main
struct CaptionWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption-worker",
        abstract: "The reference ML worker: consume analysis requests, transcribe with PocketSphinx, report captions with emotion from prosody.",
        subcommands: [PrintSettings.self]
    )

    @Option(help: "recognise (download, transcribe, build captions) or none (complete at once, for pipeline benchmarks).")
    var analysis: String = "recognise"

    @Option(help: "This worker's id in its events (default: caption-worker-<pid>).")
    var workerID: String?

    @Option(help: "Analyse this local video file, print the result JSON and exit (no Kafka): for trying the method and for make bench.")
    var file: String?

    @Option(help: "With --file: the spoken language to ask for.")
    var language: String = "en"

    func run() async throws {
        if let file {
            return try await analyse(file: file)
        }
        guard let mode = CaptionWorker.Mode(rawValue: analysis) else {
            throw ValidationError("--analysis must be recognise or none")
        }
        let workerID = self.workerID ?? "caption-worker-\(ProcessInfo.processInfo.processIdentifier)"
        // A worker stopped by ECS (a deployment, or a Spot interruption: 2 minutes' notice) finishes the
        // job in hand within its task's StopTimeout of 120 s (infra/aws/services.yaml), then stops.
        try await ServiceMain.runWorker(gracefulShutdown: .seconds(110)) { settings in
            let read = Self.readSettings(settings)
            try settings.validate()
            return read
        } build: { settings, logger in
            let kafka = settings.kafka
            let topics = settings.topics
            var logger = logger
            logger.logLevel = settings.logLevel
            // The model loads before the worker joins its group: a worker without a model takes no job.
            let analysis =
                mode == .recognise ? CaptionAnalysis(decoder: try PocketSphinxDecoder(model: .english(directory: settings.modelDirectory))) : nil
            let consumer = try await KafkaConsumer(
                configuration: kafka,
                groupID: ConsumerGroup.mlWorkers,
                topics: [topics.analysisRequests],
                logger: logger
            )
            // Cancellations reach every worker: a group of this process alone, from the newest offset.
            var watcherKafka = kafka
            watcherKafka.properties["auto.offset.reset"] = "latest"
            let cancelled = CancelledJobs()
            let watcher = CancellationWatcher(
                consumer: try await KafkaConsumer(
                    configuration: watcherKafka,
                    groupID: "\(ConsumerGroup.mlWorkers)-cancellations-\(workerID)-\(UUID.random().lowercasedString.prefix(8))",
                    topics: [topics.analysisRequests],
                    logger: logger
                ),
                cancelled: cancelled,
                logger: logger
            )
            let producer = try KafkaProducer(configuration: kafka, logger: logger)
            let worker = CaptionWorker(
                consumer: consumer,
                events: EventPublisher(producer: producer),
                topics: topics,
                workerID: workerID,
                mode: mode,
                analysis: analysis,
                cancelled: cancelled,
                httpClient: .shared,
                protection: ScaleInProtection(agentURI: settings.ecsAgentURI, httpClient: .shared, logger: logger),
                logger: logger
            )
            return [watcher, worker, producer]
        }
    }

    /// What the worker is configured with.
    struct Settings: Sendable {
        let kafka: KafkaConfiguration
        /// `POCKETSPHINX_MODEL_DIR`: the speech model (Debian's by default).
        let modelDirectory: String
        /// `ECS_AGENT_URI`: injected by the ECS agent on ECS; absent elsewhere, where scale-in protection does nothing.
        let ecsAgentURI: String?
        let logLevel: Logger.Level
        /// The topic names, with their `TOPIC_*` overrides.
        let topics: Topics
    }

    /// Every variable the worker reads (print-settings runs this too): Kafka, the speech model, the ECS agent,
    /// `LOG_LEVEL`, the topics.
    static func readSettings(_ settings: EnvironmentSettings) -> Settings {
        let kafka = ServiceConfiguration.kafka(settings: settings, clientID: "ecg-caption-worker")
        let modelDirectory = settings.optional("POCKETSPHINX_MODEL_DIR") ?? SpeechModel.debianDirectory
        let ecsAgentURI = settings.optional("ECS_AGENT_URI")
        let level = settings.string("LOG_LEVEL", default: settings.environment.isProduction ? "info" : "debug").lowercased()
        let logLevel = Logger.Level(rawValue: level)
        if logLevel == nil {
            settings.report("LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (got \(level))")
        }
        return Settings(
            kafka: kafka,
            modelDirectory: modelDirectory,
            ecsAgentURI: ecsAgentURI,
            logLevel: logLevel ?? .info,
            topics: Topics(settings: settings)
        )
    }

    private func analyse(file: String) async throws {
        let directory = ProcessInfo.processInfo.environment["POCKETSPHINX_MODEL_DIR"] ?? SpeechModel.debianDirectory
        let analysis = CaptionAnalysis(decoder: try PocketSphinxDecoder(model: .english(directory: directory)))
        do {
            let result = try await analysis.analyse(URL(fileURLWithPath: file), language: language)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(result) + Data("\n".utf8))
        } catch let rejection as CaptionAnalysis.Rejection {
            FileHandle.standardError.write(Data("\(rejection.code): \(rejection.message)\n".utf8))
            throw ExitCode(65)
        }
    }
}
