import ArgumentParser
import ECGKafka
import Foundation
import Logging
import UnixSignals

/// Hosts librdkafka's mock cluster as the local Kafka broker until SIGTERM/SIGINT.
@main
struct EmbeddedKafkaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecg-kafka-broker",
        abstract: "librdkafka's embedded Kafka broker, the local and test Kafka of ECG Backend.",
        subcommands: [EmbeddedKafka.self, ProducerBenchmark.self],
        defaultSubcommand: EmbeddedKafka.self
    )
}

struct EmbeddedKafka: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Runs librdkafka's embedded Kafka broker and writes its bootstrap address to a file (default)."
    )

    @Option(help: "File that receives the bootstrap address (host:port) once the broker listens.")
    var bootstrapFile: String = ".data/kafka.bootstrap"

    @Option(help: "Number of brokers in the cluster.")
    var brokers: Int = 1

    @Option(help: "Partitions for the topics created at start (SPEC.md §5).")
    var partitions: Int = 3

    @Option(help: "Topics to create at start, comma-separated.")
    var topics: String =
        "ecg.auth.events,ecg.auth.events.dlq,ecg.media.events,ecg.media.events.dlq,ecg.analysis.requests,ecg.analysis.events,ecg.analysis.events.dlq"

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "ecg-kafka-broker")
        logger.logLevel = .warning
        let cluster = try KafkaMockCluster(brokers: brokers, logger: logger)
        for topic in topics.split(separator: ",") where !topic.isEmpty {
            try cluster.createTopic(String(topic), partitions: partitions)
        }
        let url = URL(fileURLWithPath: bootstrapFile)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Write then rename, so a reader never sees a half-written address.
        let temporary = url.appendingPathExtension("tmp")
        try Data((cluster.bootstrapServers + "\n").utf8).write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            throw ValidationError("could not write \(bootstrapFile): \(String(cString: strerror(errno)))")
        }
        print("Kafka broker listening on \(cluster.bootstrapServers)")
        await waitForTerminationSignal()
        try? FileManager.default.removeItem(at: url)
        await cluster.shutdown()
    }
}

/// Suspends until SIGTERM or SIGINT arrives.
private func waitForTerminationSignal() async {
    for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { return }
}
