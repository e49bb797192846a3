import ECGEvents
import ECGPlatform
import ECGTokens
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import AnalysisService

/// analysis-service's router as production builds it (`AnalysisService.buildRouter`: the whole
/// middleware stack, real token checks with keys made here), over in-memory jobs and a fake media-service.
struct AnalysisHarness {
    let userKey: SigningKey
    let changes = JobChangeBroadcaster()
    let repository: InMemoryJobRepository
    let videos = FakeVideoLookup()
    let environment: [String: String]

    init(maxProcessingJobs: Int = 10) throws {
        userKey = try SigningKey.generate()
        repository = InMemoryJobRepository(changes: changes)
        environment = ["ECG_ENV": "test", "MAX_PROCESSING_JOBS_PER_USER": String(maxProcessingJobs), "SSE_HEARTBEAT_SECONDS": "1"]
    }

    var settings: AnalysisSettings { AnalysisSettings(settings: EnvironmentSettings(environment: environment)) }

    /// The use cases the routes run, for driving jobs the way workers do.
    var jobs: AnalysisJobs { AnalysisService.jobs(repository, settings: settings, topics: Topics()) }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let platform = await ServicePlatform.withKeys(
            descriptor: AnalysisService.descriptor,
            environment: environment,
            serviceKey: try SigningKey.generate(),
            userTokenKey: userKey
        )
        let router = AnalysisService.buildRouter(
            platform: platform,
            settings: settings,
            topics: Topics(),
            dependencies: .init(jobs: repository, videos: videos, changes: changes)
        )
        try await Application(router: router).test(.router, body)
    }

    func token(_ userID: String) async throws -> String {
        try await TokenSigner(key: userKey).sign(issuer: "auth-service", audience: "ecg-api", subject: userID, type: .access, lifetime: 900).token
    }
}

extension TestClientProtocol {
    func call(
        _ uri: String,
        _ method: HTTPRequest.Method = .get,
        token: String?,
        json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> (status: Int, json: [String: Any], headers: HTTPFields, text: String) {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return (Int(response.status.code), object, response.headers, String(buffer: response.body))
        }
    }

    /// process-video for `key`; the reply.
    func processVideo(
        _ key: String,
        type: String = "full_analysis",
        token: String,
        idempotencyKey: String? = nil
    ) async throws -> (status: Int, json: [String: Any], headers: HTTPFields, text: String) {
        var headers: HTTPFields = [:]
        if let idempotencyKey { headers[HTTPField.Name("Idempotency-Key")!] = idempotencyKey }
        return try await call(
            "/api/v1/ml/process-video",
            .post,
            token: token,
            json: #"{"video_file_key":"\#(key)","analysis_type":"\#(type)"}"#,
            headers: headers
        )
    }
}

@Suite("analysis routes (in memory, production router)")
struct JobRoutesTests {
    @Test("process-video starts a job on the caller's uploaded video and puts job.requested in the outbox")
    func processVideo() async throws {
        let harness = try AnalysisHarness()
        harness.videos.add(fileKey: "uploads/a/v.mp4", ownerID: 7)
        try await harness.test { client in
            let reply = try await client.processVideo("uploads/a/v.mp4", token: try await harness.token("7"))
            #expect(reply.status == 202)
            #expect(reply.json["status"] as? String == "processing")
            #expect(reply.json["message"] as? String == JobController.acceptedMessage)
            let jobID = try #require(reply.json["job_id"] as? String)
            #expect(jobID == jobID.lowercased() && JobID(jobID) != nil)
            #expect(reply.headers[HTTPField.Name("X-Request-ID")!] != nil, "the production middleware stack ran")

            let events = harness.repository.published
            #expect(events.map(\.type) == [EventType.jobRequested])
            #expect(events.first?.topic == Topics().analysisRequests && events.first?.subject == jobID)
            let data = try #require(events.first?.data)
            #expect(data["job_id"] as? String == jobID)
            #expect(data["user_id"] as? String == "7")
            #expect(data["analysis_type"] as? String == "full_analysis")
            #expect(data["video_url"] as? String == "http://s3.test/uploads/a/v.mp4")
        }
    }

    @Test("process-video refuses bad requests, others' and unfinished videos, and answers 503 when media-service is down")
    func processVideoRefusals() async throws {
        let harness = try AnalysisHarness()
        harness.videos.add(fileKey: "uploads/a/v.mp4", ownerID: 7)
        harness.videos.add(fileKey: "uploads/b/pending.mp4", ownerID: 7, uploaded: false)
        try await harness.test { client in
            let token = try await harness.token("7")
            #expect(try await client.processVideo("uploads/a/v.mp4", token: try await harness.token("8")).json["code"] as? String == "video_not_found")
            let cases: [(String, Int, String)] = [
                (#"{"video_file_key":"uploads/a/v.mp4","analysis_type":"everything"}"#, 422, "validation_error"),
                (#"{"video_file_key":"  ","analysis_type":"full_analysis"}"#, 422, "validation_error"),
                (#"{"video_file_key":"uploads/a/v.mp4","analysis_type":"full_analysis","language":"not a tag"}"#, 422, "validation_error"),
                (#"{"video_file_key":"uploads/none.mp4","analysis_type":"full_analysis"}"#, 404, "video_not_found"),
                (#"{"video_file_key":"uploads/b/pending.mp4","analysis_type":"full_analysis"}"#, 409, "video_not_uploaded"),
                (#"{"video_file_key":"uploads/a/v.mp4""#, 400, "invalid_json"),
            ]
            for (body, status, code) in cases {
                let reply = try await client.call("/api/v1/ml/process-video", .post, token: token, json: body)
                #expect(reply.status == status, "\(body)")
                #expect(reply.json["code"] as? String == code, "\(body): \(reply.json)")
            }
            let badType = try await client.processVideo("uploads/a/v.mp4", type: "everything", token: token)
            #expect((badType.json["detail"] as? String)?.contains("emotion_analysis, caption_generation, full_analysis") == true)
            #expect(try await client.processVideo("uploads/a/v.mp4", token: token, idempotencyKey: "").status == 422)
            #expect(try await client.processVideo("uploads/a/v.mp4", token: "not-a-token").status == 401)
            #expect(
                try await client.call(
                    "/api/v1/ml/process-video",
                    .post,
                    token: nil,
                    json: #"{"video_file_key":"uploads/a/v.mp4","analysis_type":"full_analysis"}"#
                ).status == 401
            )

            harness.videos.failure.withLock { $0 = MediaClient.unavailable }
            let down = try await client.processVideo("uploads/a/v.mp4", token: token)
            #expect(down.status == 503 && down.json["code"] as? String == "media_service_unavailable")
            #expect(down.headers[.retryAfter] == "5")
            #expect(harness.repository.published.isEmpty, "no refused request made a job or an event")
        }
    }

    @Test("an Idempotency-Key replay answers the same job with its real status; the key with another request is 422")
    func idempotency() async throws {
        let harness = try AnalysisHarness()
        harness.videos.add(fileKey: "uploads/a/v.mp4", ownerID: 7)
        try await harness.test { client in
            let token = try await harness.token("7")
            let first = try await client.processVideo("uploads/a/v.mp4", token: token, idempotencyKey: "k1")
            let jobID = try #require(first.json["job_id"] as? String)
            try await harness.repository.apply(.failed(.init(code: "decode_failed", message: "m"), retryable: false), toJob: JobID(jobID)!, with: harness.jobs)

            let replay = try await client.processVideo("uploads/a/v.mp4", token: token, idempotencyKey: "k1")
            #expect(replay.status == 202)
            #expect(replay.json["job_id"] as? String == jobID)
            #expect(replay.json["status"] as? String == "failed")
            #expect(harness.repository.published.count == 1, "a replay publishes nothing")

            let reused = try await client.processVideo("uploads/a/v.mp4", type: "emotion_analysis", token: token, idempotencyKey: "k1")
            #expect(reused.status == 422 && reused.json["code"] as? String == "idempotency_key_reused")

            // The same key is another user's own key.
            harness.videos.add(fileKey: "uploads/b/w.mp4", ownerID: 8)
            let other = try await client.processVideo("uploads/b/w.mp4", token: try await harness.token("8"), idempotencyKey: "k1")
            #expect(other.status == 202 && other.json["job_id"] as? String != jobID)
        }
    }

    @Test("a user with the maximum of jobs in processing gets 429 too_many_jobs with Retry-After")
    func tooManyJobs() async throws {
        let harness = try AnalysisHarness(maxProcessingJobs: 2)
        harness.videos.add(fileKey: "uploads/a/v.mp4", ownerID: 7)
        try await harness.test { client in
            let token = try await harness.token("7")
            #expect(try await client.processVideo("uploads/a/v.mp4", token: token).status == 202)
            #expect(try await client.processVideo("uploads/a/v.mp4", token: token).status == 202)
            let third = try await client.processVideo("uploads/a/v.mp4", token: token)
            #expect(third.status == 429 && third.json["code"] as? String == "too_many_jobs")
            #expect(third.headers[.retryAfter] == "30")
        }
    }

    @Test("job-status answers the owner's job, 404 to anyone else and for a malformed id, 401 without a token")
    func jobStatus() async throws {
        let harness = try AnalysisHarness()
        harness.videos.add(fileKey: "uploads/a/v.mp4", ownerID: 7)
        try await harness.test { client in
            let token = try await harness.token("7")
            let jobID = try #require(try await client.processVideo("uploads/a/v.mp4", type: "caption_generation", token: token).json["job_id"] as? String)
            try await harness.repository.apply(.progress(40, stage: "recognising"), toJob: JobID(jobID)!, with: harness.jobs)

            let status = try await client.call("/api/v1/ml/job-status/\(jobID)", token: token)
            #expect(status.status == 200)
            #expect(status.json["job_id"] as? String == jobID)
            #expect(status.json["progress"] as? Int == 40 && status.json["stage"] as? String == "recognising")
            #expect(status.json["analysis_type"] as? String == "caption_generation")
            #expect(status.json.keys.contains("result") && status.json["result"] is NSNull)
            #expect(JobResponse.schema.violations(of: try JSONSerialization.jsonObject(with: Data(status.text.utf8))) == [])

            let stranger = try await client.call("/api/v1/ml/job-status/\(jobID)", token: try await harness.token("8"))
            #expect(stranger.status == 404 && stranger.json["code"] as? String == "job_not_found")
            #expect(try await client.call("/api/v1/ml/job-status/not-a-uuid", token: token).status == 404)
            #expect(try await client.call("/api/v1/ml/job-status/\(jobID)", token: nil).status == 401)
        }
    }

    @Test("jobs pages cover every job once, newest first, filter by status and video, and refuse bad parameters")
    func jobsPaging() async throws {
        let harness = try AnalysisHarness()
        harness.videos.add(fileKey: "uploads/a/v.mp4", ownerID: 7)
        harness.videos.add(fileKey: "uploads/a/w.mp4", ownerID: 7)
        try await harness.test { client in
            let token = try await harness.token("7")
            var created: [String] = []
            for index in 0..<5 {
                let key = index == 4 ? "uploads/a/w.mp4" : "uploads/a/v.mp4"
                created.append(try #require(try await client.processVideo(key, token: token).json["job_id"] as? String))
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let reply = try await client.call("/api/v1/ml/jobs?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
                #expect(reply.status == 200)
                #expect(reply.json.keys.contains("next_cursor"))
                seen += (reply.json["items"] as? [[String: Any]] ?? []).compactMap { $0["job_id"] as? String }
                cursor = reply.json["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == Array(created.reversed()))
            #expect(pages == 3)

            _ = try await client.call("/api/v1/ml/jobs/\(created[0])/cancel", .post, token: token)
            let failed = try await client.call("/api/v1/ml/jobs?status=failed", token: token)
            #expect((failed.json["items"] as? [[String: Any]])?.compactMap { $0["job_id"] as? String } == [created[0]])
            let ofVideo = try await client.call("/api/v1/ml/jobs?video_file_key=uploads/a/w.mp4", token: token)
            #expect((ofVideo.json["items"] as? [[String: Any]])?.compactMap { $0["job_id"] as? String } == [created[4]])
            #expect((try await client.call("/api/v1/ml/jobs", token: try await harness.token("8")).json["items"] as? [Any])?.isEmpty == true)

            for query in ["limit=0", "limit=101", "status=running", "cursor=bm90LWEtY3Vyc29y"] {
                let reply = try await client.call("/api/v1/ml/jobs?\(query)", token: token)
                #expect(reply.status == 422, "\(query)")
                #expect(reply.json["code"] as? String == "validation_error", "\(query)")
            }
            #expect(try await client.call("/api/v1/ml/jobs", token: nil).status == 401)
        }
    }

    @Test("cancel fails a running job and tells the workers; a finished job is 409; retry starts a new job")
    func cancelAndRetry() async throws {
        let harness = try AnalysisHarness()
        harness.videos.add(fileKey: "uploads/a/v.mp4", ownerID: 7)
        try await harness.test { client in
            let token = try await harness.token("7")
            let jobID = try #require(try await client.processVideo("uploads/a/v.mp4", token: token).json["job_id"] as? String)
            #expect(try await client.call("/api/v1/ml/jobs/\(jobID)/cancel", .post, token: try await harness.token("8")).status == 404)

            let cancelled = try await client.call("/api/v1/ml/jobs/\(jobID)/cancel", .post, token: token)
            #expect(cancelled.status == 200)
            #expect(cancelled.json["status"] as? String == "failed")
            let error = try #require(cancelled.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "cancelled" && error["retryable"] as? Bool == true)
            let last = try #require(harness.repository.published.last)
            #expect(last.type == EventType.jobCancelled && last.subject == jobID && last.topic == Topics().analysisRequests)
            #expect(last.data["job_id"] as? String == jobID)

            let again = try await client.call("/api/v1/ml/jobs/\(jobID)/cancel", .post, token: token)
            #expect(again.status == 409 && again.json["code"] as? String == "job_finished")

            let retried = try await client.call("/api/v1/ml/jobs/\(jobID)/retry", .post, token: token)
            #expect(retried.status == 202)
            let newID = try #require(retried.json["job_id"] as? String)
            #expect(newID != jobID && retried.json["status"] as? String == "processing")
            #expect(harness.repository.published.last?.type == EventType.jobRequested)

            let running = try await client.call("/api/v1/ml/jobs/\(newID)/retry", .post, token: token)
            #expect(running.status == 409 && running.json["code"] as? String == "job_not_retryable")
            try await harness.repository.apply(.failed(.init(code: "decode_failed", message: "m"), retryable: false), toJob: JobID(newID)!, with: harness.jobs)
            let hopeless = try await client.call("/api/v1/ml/jobs/\(newID)/retry", .post, token: token)
            #expect(hopeless.status == 409 && (hopeless.json["detail"] as? String)?.contains("decode_failed") == true)
            #expect(try await client.call("/api/v1/ml/jobs/\(newID)/retry", .post, token: nil).status == 401)
        }
    }

    @Test("captions are 409 job_not_completed before completion, then WebVTT and SubRip files")
    func captions() async throws {
        let harness = try AnalysisHarness()
        harness.videos.add(fileKey: "uploads/a/v.mp4", ownerID: 7)
        try await harness.test { client in
            let token = try await harness.token("7")
            let jobID = try #require(try await client.processVideo("uploads/a/v.mp4", token: token).json["job_id"] as? String)
            let early = try await client.call("/api/v1/ml/jobs/\(jobID)/captions.vtt", token: token)
            #expect(early.status == 409 && early.json["code"] as? String == "job_not_completed")

            let result = AnalysisResult(
                captions: [.init(start: 0, end: 1.5, text: "hello", emotion: "calm", intensity: 0.2)],
                emotions: [],
                analysisTime: .string("2025-09-09T12:30:00Z")
            )
            try await harness.repository.apply(.completed(result), toJob: JobID(jobID)!, with: harness.jobs)
            let vtt = try await client.call("/api/v1/ml/jobs/\(jobID)/captions.vtt", token: token)
            #expect(vtt.status == 200 && vtt.text.hasPrefix("WEBVTT") && vtt.text.contains("hello"))
            #expect(vtt.headers[.contentDisposition] == "inline; filename=\"ecg-captions-\(jobID).vtt\"")
            let srt = try await client.call("/api/v1/ml/jobs/\(jobID)/captions.srt", token: token)
            #expect(srt.status == 200 && srt.text.contains("00:00:00,000 --> 00:00:01,500"))
            #expect(try await client.call("/api/v1/ml/jobs/\(jobID)/captions.srt", token: try await harness.token("8")).status == 404)
        }
    }

    @Test("the stream sends the status now and on each change until the job ends")
    func stream() async throws {
        let harness = try AnalysisHarness()
        harness.videos.add(fileKey: "uploads/a/v.mp4", ownerID: 7)
        try await harness.test { client in
            let token = try await harness.token("7")
            let jobID = try #require(try await client.processVideo("uploads/a/v.mp4", token: token).json["job_id"] as? String)
            let jobs = harness.jobs
            let repository = harness.repository
            let worker = Task {
                try await Task.sleep(for: .milliseconds(200))
                try await repository.apply(.progress(50, stage: "recognising"), toJob: JobID(jobID)!, with: jobs)
                try await Task.sleep(for: .milliseconds(100))
                try await repository.apply(.failed(.init(code: "decode_failed", message: "m"), retryable: false), toJob: JobID(jobID)!, with: jobs)
            }
            let reply = try await client.call("/api/v1/ml/job-status/\(jobID)/stream", token: token)
            try await worker.value
            #expect(reply.status == 200)
            let events = reply.text.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { line in
                (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any] ?? [:]
            }
            // Changes that land together may be seen as one; the stream always ends with the final state.
            let progress = events.compactMap { $0["progress"] as? Int }
            #expect(progress == progress.sorted() && progress.count == events.count && !events.isEmpty)
            #expect(events.last?["status"] as? String == "failed")
            #expect(events.dropLast().allSatisfy { $0["status"] as? String == "processing" })
            #expect(try await client.call("/api/v1/ml/job-status/\(jobID)/stream", token: try await harness.token("8")).status == 404)
        }
    }
}
