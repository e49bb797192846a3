import AsyncHTTPClient
import Foundation
import NIOCore
import PostgresNIO
import Testing

/// Security review L11 and L12 against the running stack: per-user limits on jobs in processing and
/// open streams, and an Idempotency-Key reused with another request.
@Suite("Analysis: per-user job and stream limits, Idempotency-Key reuse", .enabled(if: StackClient.isAvailable), .timeLimit(.minutes(3)))
struct JobLimitsTests {
    private func processVideo(_ fileKey: String, type: String = "full_analysis", key: String? = nil, token: String) async throws -> StackClient.Reply
    {
        try await StackClient.call(
            "\(StackClient.gateway)/api/v1/ml/process-video",
            method: "POST",
            json: #"{"video_file_key": "\#(fileKey)", "analysis_type": "\#(type)"}"#,
            token: token,
            headers: key.map { [("Idempotency-Key", $0)] } ?? []
        )
    }

    @Test("an Idempotency-Key reused with another body is 422 idempotency_key_reused; the same body replays the job with its real status")
    func idempotencyKeyReuse() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let fileKey = try await PipelineTests.upload(Data(repeating: 7, count: 1000), token: token)
        let key = "limits-\(UUID())"
        let first = try await processVideo(fileKey, key: key, token: token)
        #expect(first.status == 202, "\(first.text)")
        let jobID = try #require(first.json?["job_id"] as? String)

        let replay = try await processVideo(fileKey, key: key, token: token)
        #expect(replay.status == 202)
        #expect(replay.json?["job_id"] as? String == jobID)
        let current = try await UserDataTests.status(jobID, token: token)
        // The replay reports the job's status as it is (a worker may already have failed it).
        #expect(replay.json?["status"] as? String == current.json?["status"] as? String)

        let other = try await processVideo(fileKey, type: "caption_generation", key: key, token: token)
        #expect(other.status == 422, "\(other.text)")
        #expect(other.code == "idempotency_key_reused")
    }

    @Test("the 11th job in processing is 429 too_many_jobs with Retry-After; finished jobs do not count")
    func processingJobLimit() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let fileKey = try await PipelineTests.upload(Data(repeating: 8, count: 1000), token: token)
        _ = try await UserDataTests.insertJobs(userID: userID, videoFileKey: fileKey, count: 10)
        _ = try await UserDataTests.insertJobs(userID: userID, videoFileKey: fileKey, count: 3, status: "failed", retryable: false)
        let refused = try await processVideo(fileKey, token: token)
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.code == "too_many_jobs")
        #expect(refused.header("Retry-After") != nil)

        // One finishes: there is room again.
        try await UserDataTests.withDatabase { postgres in
            try await postgres.query(
                """
                UPDATE analysis.jobs SET status = 'failed', error = '{"code":"worker_error","message":"test"}'::jsonb, retryable = false
                WHERE id = (SELECT id FROM analysis.jobs WHERE user_id = \(userID) AND status = 'processing' LIMIT 1)
                """,
                logger: UserDataTests.logger
            )
        }
        let accepted = try await processVideo(fileKey, token: token)
        #expect(accepted.status == 202, "\(accepted.text)")
    }

    @Test("an 11th open stream of one user on one replica is 429 too_many_streams")
    func streamLimit() async throws {
        let analysis = try #require(StackClient.environment["ECG_TEST_ANALYSIS_URL"])
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let jobID = try #require(try await UserDataTests.insertJobs(userID: userID, videoFileKey: "uploads/\(UUID())/x.mp4", count: 1).first)
        let url = "\(analysis)/api/v1/ml/job-status/\(jobID)/stream"
        var open: [HTTPClientResponse] = []
        for _ in 0..<10 {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await StackClient.client.execute(request, timeout: .seconds(10))
            #expect(response.status == .ok)
            open.append(response)
        }
        let refused = try await StackClient.call(url, token: token)
        #expect(refused.status == 429, "\(refused.text)")
        #expect(refused.code == "too_many_streams")
        // Another user is not affected.
        let stranger = try await StackClient.call(
            "\(analysis)/api/v1/ml/job-status/\(UUID())/stream",
            token: try await StackClient.userToken(userID: StackClient.randomUserID())
        )
        #expect(stranger.status == 404)
        // Ending the job ends the streams.
        try await UserDataTests.withDatabase { postgres in
            try await postgres.query(
                """
                UPDATE analysis.jobs SET status = 'failed', error = '{"code":"worker_error","message":"test"}'::jsonb, retryable = false
                WHERE id = \(UUID(uuidString: jobID)!)
                """,
                logger: UserDataTests.logger
            )
            try await postgres.query("SELECT pg_notify('analysis_job_changed', \(jobID))", logger: UserDataTests.logger)
        }
        for response in open { _ = try await response.body.collect(upTo: 1 << 20) }
    }
}
