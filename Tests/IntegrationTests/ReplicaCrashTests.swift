import AsyncHTTPClient
import Foundation
import Testing

/// A second analysis-service replica, killed with SIGKILL right after accepting a job, then restarted:
/// the job still reaches a terminal state and nothing is lost (SPEC.md §5, §8).
@Suite(
    "analysis-service killed mid-pipeline",
    .enabled(if: StackClient.isAvailable && StackClient.environment["ECG_TEST_BIN_DIR"] != nil),
    .timeLimit(.minutes(3))
)
struct ReplicaCrashTests {
    private func startReplica(port: Int) async throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(StackClient.environment["ECG_TEST_BIN_DIR"])).appendingPathComponent(
            "analysis-service"
        )
        process.arguments = ["serve"]
        var environment = try ShutdownTests.stackEnvironment(of: "analysis-service")
        environment["PORT"] = String(port)
        environment["ECG_STACK_ID"] = nil
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let ready = try? await StackClient.call("http://127.0.0.1:\(port)/ready"), ready.status == 200 { return process }
            try await Task.sleep(for: .milliseconds(200))
        }
        process.terminate()
        Issue.record("the replica on \(port) did not become ready")
        return process
    }

    @Test("a job accepted by a replica that dies at once is still processed to completion, and the replica comes back")
    func sigkillAfterAccepting() async throws {
        let offset = Int(StackClient.environment["ECG_TEST_PORT_OFFSET"] ?? "0") ?? 0
        let port = 28_200 + offset
        let token = try await StackClient.userToken(userID: StackClient.randomUserID())
        let fileKey = try await PipelineTests.upload(try PipelineTests.makeVideo(), token: token)

        let replica = try await startReplica(port: port)
        let accepted = try await StackClient.call(
            "http://127.0.0.1:\(port)/api/v1/ml/process-video",
            method: "POST",
            json: #"{"video_file_key": "\#(fileKey)", "analysis_type": "caption_generation"}"#,
            token: token
        )
        kill(replica.processIdentifier, SIGKILL)
        replica.waitUntilExit()
        #expect(accepted.status == 202, "\(accepted.text)")
        let jobID = try #require(accepted.json?["job_id"] as? String)

        let restarted = try await startReplica(port: port)
        defer { restarted.terminate() }
        let deadline = ContinuousClock.now + .seconds(60)
        var status = ""
        while ContinuousClock.now < deadline {
            let reply = try await StackClient.call("http://127.0.0.1:\(port)/api/v1/ml/job-status/\(jobID)", token: token)
            status = reply.json?["status"] as? String ?? ""
            if status != "processing" { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(status == "completed")
    }
}
