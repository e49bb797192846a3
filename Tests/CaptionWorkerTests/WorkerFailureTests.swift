import ECGEvents
import Foundation
import Logging
import Testing

@testable import CaptionWorker

@Suite("What a failed job tells the client", .timeLimit(.minutes(2)))
struct WorkerFailureTests {
    let logger: Logger = {
        var logger = Logger(label: "worker-failure-tests")
        logger.logLevel = .critical
        return logger
    }()

    @Test("a download that cannot connect fails retryably with a fixed message that names no host, address or port")
    func unreachableStorage() async throws {
        try await WorkerHarness.run(downloadTimeout: .seconds(3), logger: logger) { harness in
            // Port 9 on loopback: connection refused; the error text would carry "127.0.0.1:9".
            try await harness.request(videoURL: "http://127.0.0.1:9/uploads/1/a.mp4")
            let events = try await harness.events(until: EventType.jobFailed)
            let failed = try EventCoding.decoder().decode(CloudEvent<JobFailed>.self, from: Data(try #require(events.last).bytes)).data
            #expect(failed.retryable == true)
            #expect(failed.error.code == "worker_error")
            #expect(failed.error.message == "The worker could not finish this job; retrying it may succeed.")
            for secret in ["127.0.0.1", ":9", "uploads/1", "Error", "NIO"] {
                #expect(!failed.error.message.contains(secret), "\(secret) in \(failed.error.message)")
            }
        }
    }
}
