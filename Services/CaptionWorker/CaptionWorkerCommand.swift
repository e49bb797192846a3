import ArgumentParser
import ECGEvents
import ECGKafka
import ECGMessaging
import ECGPlatform
import ECGSpeech
import Foundation

@main
struct CaptionWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption-worker",
        abstract: "The reference ML worker: consume analysis requests, transcribe with PocketSphinx, report captions with emotion from prosody."
    )

    @Option(help: "recognise (download, transcribe, build captions) or none (complete at once, for pipeline benchmarks).")
    var analysis: String = "recognise"

    @Option(help: "This worker's id in its events (default: caption-worker-<pid>).")
    var workerID: String?

    func run() async throws {
        guard let mode = CaptionWorker.Mode(rawValue: analysis) else {
            throw ValidationError("--analysis must be recognise or none")
        }
        let workerID = self.workerID ?? "caption-worker-\(ProcessInfo.processInfo.processIdentifier)"
        try await ServiceMain.runWorker { settings in
            let kafka = ServiceConfiguration.kafka(settings: settings, clientID: "ecg-caption-worker")
            let modelDirectory = settings.optional("POCKETSPHINX_MODEL_DIR") ?? SpeechModel.debianDirectory
            try settings.validate()
            return (kafka, modelDirectory)
        } build: { settings, logger in
            let (kafka, modelDirectory) = settings
            // The model loads before the worker joins its group: a worker without a model takes no job.
            let analysis = mode == .recognise ? CaptionAnalysis(decoder: try PocketSphinxDecoder(model: .english(directory: modelDirectory))) : nil
            let topics = Topics()
            let consumer = try await KafkaConsumer(
                configuration: kafka,
                groupID: ConsumerGroup.mlWorkers,
                topics: [topics.analysisRequests],
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
                httpClient: .shared,
                logger: logger
            )
            return [worker, producer]
        }
    }
}
