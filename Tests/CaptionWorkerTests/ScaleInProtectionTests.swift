import AsyncHTTPClient
import ECGEvents
import ECGKafka
import ECGMessaging
import ECGSpeech
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import CaptionWorker

/// A stand-in for the ECS container agent's task-protection endpoint (what `ECS_AGENT_URI` points to on
/// ECS), plus a video URL whose download the test holds open, so the worker is seen mid-job.
private final class FakeECSAgent: Sendable {
    /// The `ProtectionEnabled` values PUT so far, in order.
    let states = Mutex<[Bool]>([])
    let bodies = Mutex<[String]>([])
    /// The agent's answer: "protection" (success), "failure" (200 with a failure) or "error" (500).
    let answer = Mutex("protection")
    /// Set while a download is in progress; the download returns when `releaseDownload` is called.
    let downloadStarted = Mutex(false)
    let downloadReleased = Mutex(false)

    var protected: Bool { states.withLock { $0.last ?? false } }

    func releaseDownload() { downloadReleased.withLock { $0 = true } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.put("task-protection/v1/state") { request, context -> Response in
            let body = try await request.body.collect(upTo: 4096)
            let text = String(buffer: body)
            self.bodies.withLock { $0.append(text) }
            let enabled = text.contains("\"ProtectionEnabled\":true")
            switch self.answer.withLock({ $0 }) {
            case "failure":
                return Self.json(.ok, #"{"failure":{"Arn":"arn:aws:ecs:task/x","Reason":"TASK_NOT_VALID"}}"#)
            case "error":
                return Self.json(.internalServerError, #"{"error":{"Code":"ServerException","Message":"boom"}}"#)
            default:
                self.states.withLock { $0.append(enabled) }
                return Self.json(.ok, #"{"protection":{"ProtectionEnabled":\#(enabled),"TaskArn":"arn:aws:ecs:task/x"}}"#)
            }
        }
        router.get("video.mp4") { _, _ -> Response in
            self.downloadStarted.withLock { $0 = true }
            while !self.downloadReleased.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "not a video")))
        }
        return router
    }

    private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Runs the agent on a free local port; `body` gets its base URI (the value of `ECS_AGENT_URI`).
    func serve(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let app = Application(router: router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }
}

@Suite("ECS task scale-in protection", .timeLimit(.minutes(2)))
struct ScaleInProtectionTests {
    let logger: Logger = {
        var logger = Logger(label: "scale-in-protection-tests")
        logger.logLevel = .critical
        return logger
    }()

    @Test("outside ECS (no ECS_AGENT_URI) protection is off and no request is made")
    func outsideECS() async {
        let protection = ScaleInProtection(agentURI: nil, httpClient: .shared, logger: logger)
        #expect(!protection.isAvailable)
        #expect(await protection.protect() == false)
        #expect(ScaleInProtection(agentURI: "", httpClient: .shared, logger: logger).isAvailable == false)
    }

    @Test("protect and release PUT the agent's state endpoint with JSON and report what the agent confirmed")
    func protectAndRelease() async throws {
        let agent = FakeECSAgent()
        try await agent.serve { uri in
            let protection = ScaleInProtection(agentURI: uri, expiresInMinutes: 35, httpClient: .shared, logger: logger)
            #expect(await protection.protect())
            #expect(agent.protected)
            #expect(await protection.release())
            #expect(!agent.protected)
            let bodies = agent.bodies.withLock { $0 }
            #expect(bodies.first?.contains(#""ExpiresInMinutes":35"#) == true, "\(bodies)")
            #expect(bodies.last == #"{"ProtectionEnabled":false}"#)
        }
    }

    @Test("a refusal (failure in a 200, or an error status) or an unreachable agent is reported, never thrown")
    func refusals() async throws {
        let agent = FakeECSAgent()
        try await agent.serve { uri in
            let protection = ScaleInProtection(agentURI: uri, httpClient: .shared, logger: logger)
            agent.answer.withLock { $0 = "failure" }
            #expect(await protection.protect() == false)
            agent.answer.withLock { $0 = "error" }
            #expect(await protection.protect() == false)
        }
        let unreachable = ScaleInProtection(agentURI: "http://127.0.0.1:9", httpClient: .shared, logger: logger)
        #expect(await unreachable.protect() == false)
    }

    @Test("the worker is protected from taking a job until the job's final event is out and committed, then released")
    func workerHoldsProtectionDuringAJob() async throws {
        let agent = FakeECSAgent()
        try await agent.serve { uri in
            try await WorkerHarness.run(protection: uri, logger: logger) { harness in
                try await harness.request(videoURL: "\(uri)/video.mp4")
                try await waitUntil("the worker starts downloading") { agent.downloadStarted.withLock { $0 } }
                #expect(agent.protected, "protected while the job is in hand")
                agent.releaseDownload()

                // The download is not a video: the job fails for good, and protection ends after that.
                let events = try await harness.events(until: EventType.jobFailed)
                #expect(events.first?.type == EventType.jobStarted)
                try await waitUntil("protection is released") { !agent.protected }
                #expect(agent.states.withLock { $0 } == [true, false], "protected once, released once")
            }
        }
    }

    func waitUntil(_ what: String, within seconds: Double = 30, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting until \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
