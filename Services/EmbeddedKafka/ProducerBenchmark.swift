import ArgumentParser
import ECGKafka
import Foundation
import Logging

/// `make bench`'s producer row: messages per second with delivery reports, through `KafkaProducer`.
struct ProducerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-producer",
        abstract: "Measures producer throughput (acknowledged messages per second) and prints one JSON line."
    )

    @Option(help: "Bootstrap servers; by default a broker is started in this process.")
    var brokers: String?

    @Option(help: "Messages to send.")
    var messages: Int = 20_000

    @Option(help: "Value size in bytes.")
    var size: Int = 1_024

    @Option(help: "Sends awaiting their delivery report at once.")
    var inFlight: Int = 1_000

    func run() async throws {
        var logger = Logger(label: "bench-producer")
        logger.logLevel = .error
        let cluster = brokers == nil ? try KafkaMockCluster(logger: logger) : nil
        let bootstrap = brokers ?? cluster!.bootstrapServers
        let topic = "bench.producer.\(UUID().uuidString.prefix(8))"
        try cluster?.createTopic(topic, partitions: 3)
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap), logger: logger)
        let value = [UInt8](repeating: 0x61, count: size)
        try await producer.send(topic: topic, key: "warm-up", value: value)

        let total = messages
        let window = max(1, inFlight)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<total {
                if index >= window { try await group.next() }
                group.addTask { try await producer.send(topic: topic, key: "k\(index % 64)", value: value) }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        await producer.shutdown()
        await cluster?.shutdown()
        let rate = Double(total) / seconds
        print(#"{"messages": \#(total), "value_bytes": \#(size), "in_flight": \#(window), "seconds": \#(seconds), "rate": \#(rate)}"#)
    }
}
