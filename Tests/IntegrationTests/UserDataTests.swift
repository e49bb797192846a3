import ECGEvents
import ECGKafka
import ECGMessaging
import ECGS3
import Foundation
import Logging
import PostgresNIO
import Testing

/// Users own their data, through the gateway against the real stack: deleting a video, cancelling and
/// retrying jobs, pages of videos and jobs, and what media and analysis do when a user is deleted.
@Suite("Users' own data through the gateway", .enabled(if: StackClient.isAvailable), .serialized, .timeLimit(.minutes(5)))
struct UserDataTests {
    static let logger: Logger = {
        var logger = Logger(label: "user-data-tests")
        logger.logLevel = .warning
        return logger
    }()

    static let gateway = StackClient.gateway

    // MARK: - Support

    static func withDatabase<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        try await StackDatabase.with(body)
    }

    /// Inserts jobs for `userID` straight into the database (as process-video would), 1 ms apart.
    static func insertJobs(
        userID: String,
        videoFileKey: String,
        count: Int,
        status: String = "processing",
        retryable: Bool? = nil
    ) async throws -> [String] {
        try await withDatabase { postgres in
            var ids: [String] = []
            for _ in 0..<count {
                let id = UUID()
                let error: String? = status == "failed" ? #"{"code":"worker_error","message":"test"}"# : nil
                try await postgres.query(
                    """
                    INSERT INTO analysis.jobs (id, user_id, video_file_key, analysis_type, status, error, retryable)
                    VALUES (\(id), \(userID), \(videoFileKey), 'full_analysis', \(status), \(error)::jsonb, \(retryable))
                    """,
                    logger: logger
                )
                ids.append(id.uuidString.lowercased())
                try await Task.sleep(for: .milliseconds(1))
            }
            return ids
        }
    }

    static func count(_ sql: String, _ value: String) async throws -> Int {
        try await withDatabase { postgres in
            let rows = try await postgres.query(
                PostgresQuery(
                    unsafeSQL: sql,
                    binds: {
                        var b = PostgresBindings()
                        b.append(value)
                        return b
                    }()
                ),
                logger: logger
            )
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    static func waitUntil(within seconds: Double = 30, _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("not within \(seconds) s: \(what)")
    }

    static func status(_ jobID: String, token: String) async throws -> StackClient.Reply {
        try await StackClient.call("\(gateway)/api/v1/ml/job-status/\(jobID)", token: token)
    }

    static func process(_ fileKey: String, token: String) async throws -> String {
        let accepted = try await StackClient.call(
            "\(gateway)/api/v1/ml/process-video",
            method: "POST",
            json: #"{"video_file_key": "\#(fileKey)", "analysis_type": "full_analysis"}"#,
            token: token
        )
        #expect(accepted.status == 202, "\(accepted.text)")
        return try #require(accepted.json?["job_id"] as? String)
    }

    /// `seconds` of continuous real speech (a LibriVox clip over and over) as mp4.
    static func longSpeech(seconds: Int) throws -> Data {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-long-speech-\(UUID()).mp4")
        defer { try? FileManager.default.removeItem(at: url) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "color=c=black:s=64x48:r=2",
            "-stream_loop", "-1", "-i", "\(PipelineTests.librivox)/sense_and_sensibility_01_austen_64kb-0870.wav",
            "-t", "\(seconds)", "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "32k", url.path,
        ]
        try process.run()
        process.waitUntilExit()
        return try Data(contentsOf: url)
    }

    // MARK: - Tests

    @Test("a deleted video is gone from S3 and from /videos, and its jobs answer 404")
    func deleteVideo() async throws {
        let token = try await StackClient.userToken(userID: StackClient.randomUserID())
        let fileKey = try await PipelineTests.upload(try PipelineTests.makeVideo(), token: token)
        let jobID = try await Self.process(fileKey, token: token)
        let s3 = S3Client(configuration: MediaStack.s3)
        #expect(try await s3.headObject(key: fileKey) != nil)

        let stranger = try await StackClient.userToken(userID: StackClient.randomUserID())
        let path = "\(Self.gateway)/api/upload-video/videos/\(fileKey)"
        #expect(try await StackClient.call(path, method: "DELETE", token: stranger).status == 404)
        let deleted = try await StackClient.call(path, method: "DELETE", token: token)
        #expect(deleted.status == 204, "\(deleted.text)")
        #expect(try await s3.headObject(key: fileKey) == nil, "the object is gone from the bucket")
        let list = try await StackClient.call("\(Self.gateway)/api/upload-video/videos", token: token)
        #expect(!((list.json?["items"] as? [[String: Any]]) ?? []).contains { $0["file_key"] as? String == fileKey })
        #expect(try await StackClient.call(path, method: "DELETE", token: token).status == 404)
        // Through media's outbox, Kafka and analysis's consumer: generous, as another suite may have paused
        // the consumer group by killing a replica (the broker waits for its session to time out).
        try await Self.waitUntil(within: 90, "the video's job answers 404") { try await Self.status(jobID, token: token).status == 404 }
    }

    @Test("a cancelled job fails with code cancelled, its stream ends, and its worker stops and takes the next job")
    func cancel() async throws {
        let token = try await StackClient.userToken(userID: StackClient.randomUserID())
        // Fifteen minutes of continuous speech would hold the worker for several minutes even on an idle machine
        // (PocketSphinx runs at 0.2–0.4 of real time here), so a bound of 90 s for the next job tells a stopped
        // worker from a busy one with room for the whole suite's load on two cores.
        let long = try await PipelineTests.upload(try Self.longSpeech(seconds: 900), token: token)
        let short = try await PipelineTests.upload(try PipelineTests.makeVideo(), token: token)
        let jobID = try await Self.process(long, token: token)
        try await Self.waitUntil(within: 60, "the worker is recognising the long video") {
            try await Self.status(jobID, token: token).json?["stage"] as? String == "recognising"
        }
        let stream = Task { try await StackClient.call("\(Self.gateway)/api/v1/ml/job-status/\(jobID)/stream", token: token) }
        try await Task.sleep(for: .milliseconds(500))

        let cancelled = try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs/\(jobID)/cancel", method: "POST", token: token)
        #expect(cancelled.status == 200, "\(cancelled.text)")
        #expect(cancelled.json?["status"] as? String == "failed")
        let error = cancelled.json?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "cancelled")
        #expect(error?["retryable"] as? Bool == true)
        let ended = try await stream.value
        #expect(
            ended.text.split(separator: "\n").last { $0.hasPrefix("data: ") }?.contains(#""code":"cancelled""#) == true,
            "the stream ends with it"
        )

        let again = try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs/\(jobID)/cancel", method: "POST", token: token)
        #expect(again.status == 409)
        #expect(again.json?["code"] as? String == "job_finished")
        let stranger = try await StackClient.userToken(userID: StackClient.randomUserID())
        #expect(try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs/\(jobID)/cancel", method: "POST", token: stranger).status == 404)

        let started = ContinuousClock.now
        let next = try await Self.process(short, token: token)
        try await Self.waitUntil(within: 90, "the next job completes while the cancelled one would still be running") {
            try await Self.status(next, token: token).json?["status"] as? String == "completed"
        }
        print("next job completed \(ContinuousClock.now - started) after the cancellation")
        #expect(try await Self.status(jobID, token: token).json?["status"] as? String == "failed", "a late worker event changes nothing")
    }

    @Test("a retryable failure can be retried as a new job; others answer 409")
    func retry() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let fileKey = try await PipelineTests.upload(try PipelineTests.makeVideo(), token: token)
        let retryable = try await Self.insertJobs(userID: userID, videoFileKey: fileKey, count: 1, status: "failed", retryable: true)[0]
        let final = try await Self.insertJobs(userID: userID, videoFileKey: fileKey, count: 1, status: "failed", retryable: false)[0]
        let running = try await Self.insertJobs(userID: userID, videoFileKey: fileKey, count: 1)[0]

        let retried = try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs/\(retryable)/retry", method: "POST", token: token)
        #expect(retried.status == 202, "\(retried.text)")
        let newID = try #require(retried.json?["job_id"] as? String)
        #expect(newID != retryable)
        #expect(try await Self.status(retryable, token: token).json?["status"] as? String == "failed", "the old job keeps its history")
        try await Self.waitUntil(within: 60, "the retried job completes") {
            try await Self.status(newID, token: token).json?["status"] as? String == "completed"
        }
        for id in [final, running] {
            let refused = try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs/\(id)/retry", method: "POST", token: token)
            #expect(refused.status == 409)
            #expect(refused.json?["code"] as? String == "job_not_retryable")
        }
    }

    @Test("pages of /jobs and /videos cover every item exactly once while new ones are inserted")
    func pages() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let existing = try await Self.insertJobs(userID: userID, videoFileKey: "uploads/x/a.mp4", count: 23)
        _ = try await Self.insertJobs(userID: userID, videoFileKey: "uploads/x/b.mp4", count: 2, status: "failed", retryable: false)
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let url = "\(Self.gateway)/api/v1/ml/jobs?limit=7&video_file_key=uploads/x/a.mp4" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await StackClient.call(url, token: token)
            #expect(page.status == 200, "\(page.text)")
            seen += ((page.json?["items"] as? [[String: Any]]) ?? []).compactMap { $0["job_id"] as? String }
            cursor = page.json?["next_cursor"] as? String
            pages += 1
            _ = try await Self.insertJobs(userID: userID, videoFileKey: "uploads/x/a.mp4", count: 1)  // newer than every page
        } while cursor != nil && pages < 10
        #expect(seen == existing.reversed(), "newest first, each once")
        #expect(pages == 4)

        let failed = try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs?status=failed", token: token)
        #expect((failed.json?["items"] as? [[String: Any]])?.count == 2)
        let firstPage = try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs", token: token)
        #expect((firstPage.json?["items"] as? [Any])?.count == 20, "20 by default")
        for bad in ["limit=0", "limit=101", "cursor=nope!", "status=done"] {
            #expect(try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs?\(bad)", token: token).status == 422, "\(bad)")
        }

        var videos: [String] = []
        for index in 0..<5 {
            let generated = try await StackClient.call(
                "\(Self.gateway)/api/upload-video/generate-url",
                method: "POST",
                json: #"{"filename": "clip\#(index).mp4", "content_type": "video/mp4", "size_bytes": 10}"#,
                token: token
            )
            videos.append(try #require(generated.json?["file_key"] as? String))
        }
        var listed: [String] = []
        cursor = nil
        repeat {
            let url = "\(Self.gateway)/api/upload-video/videos?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await StackClient.call(url, token: token)
            listed += ((page.json?["items"] as? [[String: Any]]) ?? []).compactMap { $0["file_key"] as? String }
            cursor = page.json?["next_cursor"] as? String
            _ = try await StackClient.call(
                "\(Self.gateway)/api/upload-video/generate-url",
                method: "POST",
                json: #"{"filename": "late.mp4", "content_type": "video/mp4", "size_bytes": 10}"#,
                token: token
            )
        } while cursor != nil && listed.count < 20
        #expect(listed == videos.reversed())
        #expect(try await StackClient.call("\(Self.gateway)/api/upload-video/videos?limit=500", token: token).status == 422)
    }

    @Test("user.deleted: media and analysis delete the user's videos, objects and jobs, and refuse the user's tokens at once")
    func userDeleted() async throws {
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let fileKey = try await PipelineTests.upload(try PipelineTests.makeVideo(), token: token)
        _ = try await Self.insertJobs(userID: userID, videoFileKey: fileKey, count: 2)
        let other = StackClient.randomUserID()
        let otherToken = try await StackClient.userToken(userID: other)
        let otherKey = try await PipelineTests.upload(try PipelineTests.makeVideo(), token: otherToken)

        let event = CloudEvent(
            source: "auth-service",
            type: EventType.userDeleted,
            subject: userID,
            data: UserDeleted(userID: try #require(UserID(userID)), deletedAt: Date())
        )
        let brokers = try #require(StackClient.environment["ECG_TEST_KAFKA_BROKERS"])
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: brokers), logger: Self.logger)
        // Twice: a redelivered event is harmless.
        try await EventPublisher(producer: producer).publish(event, topic: "ecg.auth.events")
        try await EventPublisher(producer: producer).publish(event, topic: "ecg.auth.events")
        await producer.shutdown()
        let sent = ContinuousClock.now

        try await Self.waitUntil(within: 90, "media-service refuses the deleted user's token") {
            try await StackClient.call("\(Self.gateway)/api/upload-video/videos", token: token).status == 401
        }
        try await Self.waitUntil(within: 90, "analysis-service refuses the deleted user's token") {
            try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs", token: token).status == 401
        }
        print("deleted user's token refused by media and analysis \(ContinuousClock.now - sent) after the event")
        #expect(try await Self.count("SELECT count(*)::int FROM media.videos WHERE owner_id = $1::bigint", userID) == 0)
        // The user's storage usage row went with the videos (the quota counts media.storage_usage).
        #expect(try await Self.count("SELECT count(*)::int FROM media.storage_usage WHERE owner_id = $1::bigint", userID) == 0)
        #expect(try await Self.count("SELECT count(*)::int FROM analysis.jobs WHERE user_id = $1", userID) == 0)
        #expect(try await S3Client(configuration: MediaStack.s3).headObject(key: fileKey) == nil)

        // Someone else's data and access are untouched.
        #expect(try await StackClient.call("\(Self.gateway)/api/upload-video/videos", token: otherToken).status == 200)
        #expect(try await S3Client(configuration: MediaStack.s3).headObject(key: otherKey) != nil)
    }

    @Test("deleting an account leaves no row in any schema and no object in the bucket; its old token gets 401 on all three services within a second")
    func deleteAccountEverywhere() async throws {
        // First a throwaway account, to know that the consumer groups of media and analysis are flowing
        // (another suite may have paused one by killing a replica): the second deletion is then timed.
        let warmUp = try await AccountFlowTests.signup()
        let warmUpDeleted = try await AccountFlowTests.call(.DELETE, "/api/auth/me", as: warmUp.device, json: ["password": AccountFlowTests.password])
        #expect(warmUpDeleted.status == 202, "\(warmUpDeleted.text)")
        try await Self.waitUntil(within: 90, "media and analysis learn of the first deletion") {
            let media = try await StackClient.call("\(Self.gateway)/api/upload-video/videos", token: warmUp.device.accessToken).status
            let analysis = try await StackClient.call("\(Self.gateway)/api/v1/ml/jobs", token: warmUp.device.accessToken).status
            return media == 401 && analysis == 401
        }

        let account = try await AccountFlowTests.signup()
        let userID = String(account.id)
        let token = account.device.accessToken
        let fileKey = try await PipelineTests.upload(try PipelineTests.makeVideo(), token: token)
        let jobID = try await Self.process(fileKey, token: token)
        try await Self.waitUntil(within: 60, "the job completes") {
            try await Self.status(jobID, token: token).json?["status"] as? String == "completed"
        }

        let deleted = try await AccountFlowTests.call(.DELETE, "/api/auth/me", as: account.device, json: ["password": AccountFlowTests.password])
        #expect(deleted.status == 202, "\(deleted.text)")
        let start = ContinuousClock.now
        let routes = [
            "\(Self.gateway)/api/auth/me", "\(Self.gateway)/api/upload-video/videos", "\(Self.gateway)/api/v1/ml/jobs",
            "\(Self.gateway)/api/v1/ml/job-status/\(jobID)",
        ]
        var refused: [String: Duration] = [:]
        while refused.count < routes.count, ContinuousClock.now - start < .seconds(10) {
            for route in routes where refused[route] == nil {
                if try await StackClient.call(route, token: token).status == 401 { refused[route] = ContinuousClock.now - start }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        print("old access token refused after: \(refused)")
        for route in routes {
            let after = try #require(refused[route], "\(route) still accepts the deleted account's token")
            #expect(after < .seconds(1), "\(route) took \(after)")
        }

        try await Self.waitUntil(within: 10, "every schema has forgotten the user") {
            let users = try await Self.count("SELECT count(*)::int FROM auth.users WHERE id = $1::bigint", userID)
            let videos = try await Self.count("SELECT count(*)::int FROM media.videos WHERE owner_id = $1::bigint", userID)
            let jobs = try await Self.count("SELECT count(*)::int FROM analysis.jobs WHERE user_id = $1", userID)
            return users + videos + jobs == 0
        }
        let leftovers = try await Self.withDatabase { postgres in
            // Every table of every service schema with a user column, besides the deny-lists and event logs.
            let rows = try await postgres.query(
                """
                SELECT table_schema || '.' || table_name || '.' || column_name FROM information_schema.columns
                WHERE table_schema IN ('auth', 'media', 'analysis') AND column_name IN ('user_id', 'owner_id')
                  AND table_name NOT IN ('deleted_users')
                """,
                logger: Self.logger
            )
            var found: [String] = []
            for try await column in rows.decode(String.self) {
                let parts = column.split(separator: ".")
                let sql = "SELECT count(*)::int FROM \(parts[0]).\(parts[1]) WHERE \(parts[2])::text = $1"
                var binds = PostgresBindings()
                binds.append(userID)
                for try await count in try await postgres.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: Self.logger).decode(Int.self)
                where count > 0 {
                    found.append("\(column): \(count)")
                }
            }
            return found
        }
        #expect(leftovers.isEmpty, "rows left: \(leftovers)")
        #expect(try await S3Client(configuration: MediaStack.s3).headObject(key: fileKey) == nil, "the object is gone from the bucket")
        #expect(try await AccountFlowTests.login(account.email, AccountFlowTests.password).status == 401)
    }
}
