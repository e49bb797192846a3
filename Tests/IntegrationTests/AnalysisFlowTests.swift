import AsyncHTTPClient
import ECGDatabase
import ECGEvents
import ECGKafka
import ECGMessaging
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Testing

/// analysis-service through the gateway, with worker events injected on the topic for the edge cases.
@Suite("Analysis jobs through the gateway", .enabled(if: StackClient.isAvailable), .timeLimit(.minutes(3)))
struct AnalysisFlowTests {
    let logger: Logger = {
        var logger = Logger(label: "analysis-flow")
        logger.logLevel = .warning
        return logger
    }()

    /// Inserts a processing job for `userID` straight into the stack's database (as process-video would).
    private func insertJob(userID: String, silentFor seconds: Int = 0) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let url = try #require(StackClient.environment["ECG_TEST_PG_URL"])
        let postgres = PostgresClient(configuration: try .fromURL(url), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await postgres.run() }
            try await postgres.query(
                """
                INSERT INTO analysis.jobs (id, user_id, video_file_key, analysis_type, last_event_at)
                VALUES (\(UUID(uuidString: id)!), \(userID), \("uploads/\(id)/clip.mp4"), 'full_analysis', now() - make_interval(secs => \(Double(seconds))))
                """,
                logger: logger
            )
            group.cancelAll()
        }
        return id
    }

    private func withPublisher(_ body: (EventPublisher) async throws -> Void) async throws {
        let brokers = try #require(StackClient.environment["ECG_TEST_KAFKA_BROKERS"])
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: brokers), logger: logger)
        try await body(EventPublisher(producer: producer))
        await producer.shutdown()
    }

    private func send<Payload: Codable & Sendable>(_ publisher: EventPublisher, _ type: String, _ jobID: String, _ data: Payload) async throws {
        try await publisher.publish(CloudEvent(source: "tests", type: type, subject: jobID, data: data), topic: "ecg.analysis.events")
    }

    private func status(_ jobID: String, token: String) async throws -> [String: Any] {
        let reply = try await StackClient.call("\(StackClient.gateway)/api/v1/ml/job-status/\(jobID)", token: token)
        #expect(reply.status == 200, "\(reply.text)")
        return reply.json ?? [:]
    }

    /// Generous: another suite starts and kills a second analysis-service replica, and the embedded broker
    /// pauses the consumer group until the killed member's session times out.
    private func waitForStatus(
        _ jobID: String,
        token: String,
        within seconds: Double = 90,
        until: ([String: Any]) -> Bool
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var last: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            last = try await status(jobID, token: token)
            if until(last) { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("job \(jobID) never reached the expected state; last: \(last)")
        return last
    }

    @Test("process-video checks its input: 401 without a token, 400/422 for bad bodies, 404 for a video that is not yours")
    func validation() async throws {
        let url = "\(StackClient.gateway)/api/v1/ml/process-video"
        let body = #"{"video_file_key": "uploads/x/none.mp4", "analysis_type": "full_analysis"}"#
        let anonymous = try await StackClient.call(url, method: "POST", json: body)
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate") == "Bearer")

        let token = try await StackClient.userToken(userID: StackClient.randomUserID())
        let badType = try await StackClient.call(url, method: "POST", json: #"{"video_file_key": "k", "analysis_type": "magic"}"#, token: token)
        #expect(badType.status == 422)
        #expect(badType.json?["code"] as? String == "validation_error")
        #expect((badType.json?["detail"] as? String)?.hasPrefix("analysis_type") == true)
        let missing = try await StackClient.call(url, method: "POST", json: #"{"analysis_type": "full_analysis"}"#, token: token)
        #expect(missing.status == 422)
        #expect((missing.json?["detail"] as? String)?.hasPrefix("video_file_key") == true)
        let broken = try await StackClient.call(url, method: "POST", json: "{", token: token)
        #expect(broken.status == 400)
        #expect(broken.json?["code"] as? String == "invalid_json")
        let unknown = try await StackClient.call(url, method: "POST", json: body, token: token)
        #expect(unknown.status == 404)
        #expect(unknown.json?["code"] as? String == "video_not_found")
    }

    @Test("worker events move a job forward only: out-of-order and duplicate progress are ignored, completion is final")
    func forwardOnly() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let jobID = try await insertJob(userID: userID)
        let initial = try await status(jobID, token: token)
        #expect(initial["status"] as? String == "processing")
        #expect(initial["progress"] as? Int == 0)
        #expect(initial["result"] is NSNull)
        #expect(initial["error"] is NSNull)

        let result = AnalysisResult(
            captions: [.init(start: 0, end: 1.5, text: "[speech 1]", emotion: "neutral", intensity: 0.5)],
            emotions: [.init(start: 0, end: 1.5, label: "neutral", score: 0.5)],
            analysisTime: .string("2025-09-09T12:30:00Z"),
            extra: ["method": .string("test"), "processing_seconds": .number(0.7)]
        )
        try await withPublisher { publisher in
            try await send(publisher, EventType.jobStarted, jobID, JobStarted(jobID: try #require(JobID(jobID)), workerID: "w-test"))
            try await send(publisher, EventType.jobProgress, jobID, JobProgress(jobID: try #require(JobID(jobID)), progress: 60, stage: "measuring"))
            try await send(publisher, EventType.jobProgress, jobID, JobProgress(jobID: try #require(JobID(jobID)), progress: 20, stage: "late"))
            _ = try await waitForStatus(jobID, token: token) { $0["progress"] as? Int == 60 }
            try await send(publisher, EventType.jobProgress, jobID, JobProgress(jobID: try #require(JobID(jobID)), progress: 40, stage: "later"))
            try await send(publisher, EventType.jobCompleted, jobID, JobCompleted(jobID: try #require(JobID(jobID)), result: result))
            try await send(
                publisher,
                EventType.jobFailed,
                jobID,
                JobFailed(jobID: try #require(JobID(jobID)), error: .init(code: "late", message: "too late"), retryable: false)
            )
        }
        let done = try await waitForStatus(jobID, token: token) { $0["status"] as? String == "completed" }
        #expect(done["progress"] as? Int == 100)
        let captions = (done["result"] as? [String: Any])?["captions"] as? [[String: Any]]
        #expect(captions?.first?["emotion"] as? String == "neutral")
        #expect(done["error"] is NSNull)
        #expect((done["created_at"] as? String)?.hasSuffix("Z") == true)
        try await Task.sleep(for: .seconds(1))
        #expect(try await status(jobID, token: token)["status"] as? String == "completed", "the late failure changed nothing")

        let list = try await StackClient.call("\(StackClient.gateway)/api/v1/ml/jobs", token: token)
        #expect((list.json?["items"] as? [[String: Any]])?.map { $0["job_id"] as? String } == [jobID])
        let stranger = try await StackClient.userToken(userID: StackClient.randomUserID())
        let hidden = try await StackClient.call("\(StackClient.gateway)/api/v1/ml/job-status/\(jobID)", token: stranger)
        #expect(hidden.status == 404, "someone else's job is 404, never 403")
    }

    @Test("caption files: 404 for a stranger, 409 before completion, then WebVTT and SubRip of any worker's seed-shaped result")
    func captionFiles() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let jobID = try await insertJob(userID: userID)
        let vttURL = "\(StackClient.gateway)/api/v1/ml/jobs/\(jobID)/captions.vtt"
        let srtURL = "\(StackClient.gateway)/api/v1/ml/jobs/\(jobID)/captions.srt"
        let early = try await StackClient.call(vttURL, token: token)
        #expect(early.status == 409, "\(early.text)")
        #expect(early.json?["code"] as? String == "job_not_completed")
        let stranger = try await StackClient.userToken(userID: StackClient.randomUserID())
        #expect(try await StackClient.call(srtURL, token: stranger).status == 404)
        #expect(try await StackClient.call(srtURL).status == 401)

        // Another worker's event in the seed's shape, with fields this stack does not know.
        let foreign = #"""
            {"job_id": "\#(jobID)", "result": {
              "captions": [{"start": 0.5, "end": 2.25, "text": "Hello there", "emotion": "happy", "intensity": 0.9, "speaker": "A"},
                           {"start": 2.5, "end": 4, "text": "general <Kenobi>", "emotion": "calm", "intensity": 0.2}],
              "emotions": [{"start": 0.5, "end": 4, "label": "happy", "score": 0.7}],
              "analysis_time": "2025-09-09T12:30:00Z", "model": {"name": "another-asr", "version": 3}}}
            """#
        try await withPublisher { publisher in
            let event = CloudEvent(source: "tests", type: EventType.jobCompleted, subject: jobID, data: JSONValue.object([:]))
            var body = try JSONSerialization.jsonObject(with: try EventCoding.encoder().encode(event)) as! [String: Any]
            body["data"] = try JSONSerialization.jsonObject(with: Data(foreign.utf8))
            try await publisher.producer.send(
                topic: "ecg.analysis.events",
                key: jobID,
                value: Array(try JSONSerialization.data(withJSONObject: body)),
                headers: [KafkaHeader(key: EventHeader.id, value: event.id), KafkaHeader(key: EventHeader.type, value: EventType.jobCompleted)]
            )
        }
        let done = try await waitForStatus(jobID, token: token) { $0["status"] as? String == "completed" }
        let result = try #require(done["result"] as? [String: Any])
        #expect(result["analysis_time"] as? String == "2025-09-09T12:30:00Z")
        #expect((result["model"] as? [String: Any])?["name"] as? String == "another-asr", "unknown fields pass through")
        #expect((result["captions"] as? [[String: Any]])?.first?["speaker"] as? String == "A")

        let vtt = try await StackClient.call(vttURL, token: token)
        #expect(vtt.status == 200)
        #expect(vtt.header("Content-Type")?.hasPrefix("text/vtt") == true)
        #expect(vtt.text.hasPrefix("WEBVTT\n\nSTYLE\n"))
        #expect(vtt.text.contains("00:00:00.500 --> 00:00:02.250\n<c.happy.strong>Hello there</c>"))
        #expect(vtt.text.contains("<c.calm.soft>general &lt;Kenobi&gt;</c>"))
        let plain = try await StackClient.call(vttURL + "?style=none", token: token)
        #expect(plain.status == 200 && !plain.text.contains("STYLE"))
        let srt = try await StackClient.call(srtURL, token: token)
        #expect(srt.status == 200)
        #expect(srt.header("Content-Type")?.hasPrefix("application/x-subrip") == true)
        #expect(srt.text == "1\n00:00:00,500 --> 00:00:02,250\nHello there\n\n2\n00:00:02,500 --> 00:00:04,000\ngeneral <Kenobi>\n")
    }

    @Test("the stream sends the current status, then each change, and ends after the terminal state")
    func stream() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let jobID = try await insertJob(userID: userID)
        var request = HTTPClientRequest(url: "\(StackClient.gateway)/api/v1/ml/job-status/\(jobID)/stream")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await StackClient.client.execute(request, timeout: .seconds(30))
        #expect(response.status == .ok)
        #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
        // The changes are published once the current status has arrived, however long the stream took to open.
        var body = response.body.makeAsyncIterator()
        var text = ""
        let hasFirstEvent = { (text: String) in text.range(of: "data: ").map { text[$0.upperBound...].contains("\n\n") } ?? false }
        while !hasFirstEvent(text), let chunk = try await body.next() { text += String(buffer: chunk) }
        try await withPublisher { publisher in
            try await send(publisher, EventType.jobProgress, jobID, JobProgress(jobID: try #require(JobID(jobID)), progress: 50, stage: "measuring"))
            try await Task.sleep(for: .milliseconds(700))
            try await send(
                publisher,
                EventType.jobFailed,
                jobID,
                JobFailed(jobID: try #require(JobID(jobID)), error: .init(code: "unreadable_video", message: "bad file"), retryable: false)
            )
        }
        while let chunk = try await body.next() { text += String(buffer: chunk) }
        let events = text.split(separator: "\n").filter { $0.hasPrefix("data: ") }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any]
        }
        // The current status, then each change; two changes landing together may be sent as one
        // (the stream sends states, not events), so the middle one can be missing under load.
        let progress = events.compactMap { $0["progress"] as? Int }
        #expect(progress.first == 0 && progress.last == 50 && progress == progress.sorted(), "\(progress)")
        #expect((2...3).contains(events.count), "\(events.count) events")
        #expect(events.last?["status"] as? String == "failed")
        #expect((events.last?["error"] as? [String: Any])?["code"] as? String == "unreadable_video")

        let finished = try await StackClient.call("\(StackClient.gateway)/api/v1/ml/job-status/\(jobID)/stream", token: token)
        #expect(finished.text.split(separator: "\n").filter { $0.hasPrefix("data: ") }.count == 1, "a finished job's stream ends at once")
    }

    @Test("a malformed worker event goes to ecg.analysis.events.dlq and the next one is applied")
    func deadLetter() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let jobID = try await insertJob(userID: userID)
        let brokers = try #require(StackClient.environment["ECG_TEST_KAFKA_BROKERS"])
        let marker = "malformed-\(UUID())"
        try await withPublisher { publisher in
            try await publisher.producer.send(topic: "ecg.analysis.events", key: jobID, value: Array("{\"not\": \"\(marker)\"".utf8))
            try await send(publisher, EventType.jobProgress, jobID, JobProgress(jobID: try #require(JobID(jobID)), progress: 33, stage: "after"))
        }
        _ = try await waitForStatus(jobID, token: token) { $0["progress"] as? Int == 33 }

        let consumer = try await KafkaConsumer(
            configuration: KafkaConfiguration(bootstrapServers: brokers),
            groupID: "dlq-reader-\(UUID())",
            topics: ["ecg.analysis.events.dlq"],
            logger: logger
        )
        var parked: KafkaMessage?
        let deadline = ContinuousClock.now + .seconds(90)
        for await message in consumer.messages {
            if String(decoding: message.value, as: UTF8.self).contains(marker) {
                parked = message
                break
            }
            if ContinuousClock.now > deadline { break }
        }
        await consumer.close()
        #expect(parked?.keyString == jobID)
        #expect((parked?.header("error") ?? "").isEmpty == false)
    }

    @Test("a job no worker reports on for JOB_TIMEOUT_SECONDS fails with code timeout")
    func timeout() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        // The stack runs with the default timeout (1800 s); this job's last sign of life is two hours old.
        let jobID = try await insertJob(userID: userID, silentFor: 7_200)
        let failed = try await waitForStatus(jobID, token: token, within: 120) { $0["status"] as? String == "failed" }
        #expect((failed["error"] as? [String: Any])?["code"] as? String == "timeout")
    }
}
