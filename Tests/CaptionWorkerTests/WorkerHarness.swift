import ECGEvents
import ECGKafka
import ECGMessaging
import ECGSpeech
import Foundation
import Logging
import NIOCore

@testable import CaptionWorker

/// A caption-worker (recognising, with the Debian model) consuming requests from an in-process
/// embedded broker, with a reader of the events it publishes.
struct WorkerHarness {
    let producer: KafkaProducer
    let events: KafkaConsumer
    let topics: Topics

    struct Event {
        let type: String
        let bytes: [UInt8]
    }

    /// Runs `body` with a worker consuming; `protection` is the ECS agent URI the worker gets.
    static func run(
        protection agentURI: String? = nil,
        downloadTimeout: TimeAmount = .seconds(300),
        logger: Logger,
        _ body: (WorkerHarness) async throws -> Void
    ) async throws {
        let cluster = try KafkaMockCluster(logger: logger)
        let topics = Topics(environment: ["TOPIC_ANALYSIS_REQUESTS": "harness.requests", "TOPIC_ANALYSIS_EVENTS": "harness.events"])
        try cluster.createTopic(topics.analysisRequests)
        try cluster.createTopic(topics.analysisEvents)
        let kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        do {
            var worker = CaptionWorker(
                consumer: try await KafkaConsumer(configuration: kafka, groupID: "harness-workers", topics: [topics.analysisRequests], logger: logger),
                events: EventPublisher(producer: producer),
                topics: topics,
                workerID: "worker-1",
                mode: .recognise,
                analysis: CaptionAnalysis(decoder: try PocketSphinxDecoder(model: .english(directory: SpeechModel.debianDirectory))),
                cancelled: CancelledJobs(),
                httpClient: .shared,
                protection: ScaleInProtection(agentURI: agentURI, httpClient: .shared, logger: logger),
                logger: logger
            )
            worker.downloadTimeout = downloadTimeout
            let events = try await KafkaConsumer(configuration: kafka, groupID: "harness-reader", topics: [topics.analysisEvents], logger: logger)
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await body(WorkerHarness(producer: producer, events: events, topics: topics))
            events.stop()
            await events.close()
        } catch {
            await producer.shutdown()
            await cluster.shutdown()
            throw error
        }
        await producer.shutdown()
        await cluster.shutdown()
    }

    /// Publishes a `job.requested` for `videoURL`, as analysis-service does.
    func request(jobID: JobID = JobID(), videoURL: String) async throws {
        let request = JobRequested(
            jobID: jobID,
            userID: UserID(1),
            videoFileKey: VideoKey("uploads/1/a.mp4"),
            analysisType: "full",
            videoURL: videoURL,
            videoURLExpiresAt: Date().addingTimeInterval(600),
            requestedAt: Date()
        )
        try await EventPublisher(producer: producer).publish(
            CloudEvent(source: "tests", type: EventType.jobRequested, subject: jobID.description, data: request),
            topic: topics.analysisRequests
        )
    }

    /// The worker's events, in order, up to and including the first of type `last`.
    func events(until last: String) async throws -> [Event] {
        var received: [Event] = []
        for await message in events.messages {
            received.append(Event(type: message.header(EventHeader.type) ?? "?", bytes: message.value))
            if received.last?.type == last { break }
        }
        return received
    }
}
