import Foundation
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 13, item 3: `/api/auth/me` and `job-status` are served from each replica's memory
/// (`ChangeFeedCache`), and `LISTEN/NOTIFY` keeps every replica coherent. Each test runs a second
/// replica of the service beside the stack's, warms both caches, changes the row, and then asks both
/// replicas every 10 ms: no request sent 100 ms or more after the change may get the old row.
@Suite(
    "polled reads from memory, coherent across replicas",
    .enabled(if: StackClient.isAvailable && StackClient.environment["ECG_TEST_BIN_DIR"] != nil),
    .serialized,
    .timeLimit(.minutes(3))
)
struct PolledReadCacheTests {
    /// How long after the change's commit every replica must answer with the new row.
    static let coherenceBound: Duration = .milliseconds(100)

    // MARK: - /api/auth/me

    @Test("a deactivated user gets 401 on /me within 100 ms on both replicas")
    func deactivationReachesBothReplicas() async throws {
        let replica = try await Replica.start("auth-service", listeningOn: "auth_user_changed")
        defer { replica.stop() }
        let account = try await AccountFlowTests.signup()
        let urls = [try Self.url("ECG_TEST_AUTH_URL"), replica.url].map { $0 + "/api/auth/me" }
        try await Self.warm(urls, token: account.device.accessToken)

        let committed = try await StackDatabase.with { postgres in
            try await postgres.query("UPDATE auth.users SET is_active = false WHERE id = \(account.id)", logger: StackDatabase.logger)
            return ContinuousClock.now
        }
        // No request sent to either replica 100 ms or more after the commit may get the account.
        let answers = try await Self.answersAfter(committed, urls: urls, token: account.device.accessToken)
        for (sent, url, reply) in answers where sent >= Self.coherenceBound {
            #expect(reply.status == 401, "\(url) answered \(reply.status) to a request sent \(sent) after the deactivation")
        }
    }

    @Test("a user deleted through one replica gets 401 on /me within 100 ms on both, never the cached account")
    func deletionReachesBothReplicas() async throws {
        let replica = try await Replica.start("auth-service", listeningOn: "auth_user_changed")
        defer { replica.stop() }
        let account = try await AccountFlowTests.signup()
        let urls = [try Self.url("ECG_TEST_AUTH_URL"), replica.url].map { $0 + "/api/auth/me" }
        try await Self.warm(urls, token: account.device.accessToken)

        let deleted = try await AccountFlowTests.call(.DELETE, "/api/auth/me", as: account.device, json: ["password": AccountFlowTests.password])
        try #require(deleted.status == 202, "\(deleted.status) \(deleted.text)")
        let committed = ContinuousClock.now
        // Requests to both replicas every 10 ms from the moment the deletion was answered, each sent
        // without waiting for the others, so one slow answer under the suite's load delays no other.
        // The replica that deleted drops the account before answering: every read of it is a 401.
        // On the other, no request sent 100 ms or more after the deletion may get the account.
        let answers = try await Self.answersAfter(committed, urls: urls, token: account.device.accessToken)
        for (sent, url, reply) in answers where url == urls[0] || sent >= Self.coherenceBound {
            #expect(reply.status == 401, "\(url) answered \(reply.status) to a request sent \(sent) after the deletion")
        }
    }

    @Test("while the LISTEN connection is lost, /me reads the database; once it is back, the cache is coherent again")
    func lostListenConnectionBypassesTheCache() async throws {
        let replica = try await Replica.start("auth-service", listeningOn: "auth_user_changed")
        defer { replica.stop() }
        let account = try await AccountFlowTests.signup()
        let url = replica.url + "/api/auth/me"
        try await Self.warm([url], token: account.device.accessToken)

        // Every auth-service LISTEN connection on the channel, this replica's and the stack's.
        let terminated = try await Self.terminateListeners(channel: "auth_user_changed")
        #expect(terminated >= 2, "expected both replicas' LISTEN connections, found \(terminated)")
        // The replica sees the socket close (at once, unless the machine is busy); it reconnects after 1 s.
        try await Task.sleep(for: .milliseconds(300))

        // The change notifies no one: only a replica that stopped using its cache sees it now.
        try await Self.setActive(account.id, false)
        let during = try await StackClient.call(url, token: account.device.accessToken)
        #expect(during.status == 401, "a cached account was served while LISTEN was down: \(during.status)")

        try await Self.setActive(account.id, true)
        #expect(try await StackClient.call(url, token: account.device.accessToken).status == 200)
        // Back in LISTEN (reconnects after 1 s), the cache is used and kept coherent again.
        try await Self.waitForListeners(channel: "auth_user_changed", count: 2)
        try await Self.warm([url], token: account.device.accessToken)
        let committed = try await Self.setActive(account.id, false)
        let answers = try await Self.answersAfter(committed, urls: [url], token: account.device.accessToken)
        for (sent, _, reply) in answers where sent >= Self.coherenceBound {
            #expect(reply.status == 401, "answered \(reply.status) to a request sent \(sent) after the deactivation")
        }
    }

    // MARK: - job-status

    @Test("a job's status change is visible on both replicas within 100 ms")
    func jobChangeReachesBothReplicas() async throws {
        let replica = try await Replica.start("analysis-service", listeningOn: "analysis_job_changed")
        defer { replica.stop() }
        let userID = StackClient.randomUserID()
        let token = try await StackClient.userToken(userID: userID)
        let jobID = UUID()
        try await StackDatabase.with { postgres in
            try await postgres.query(
                """
                INSERT INTO analysis.jobs (id, user_id, video_file_key, analysis_type)
                VALUES (\(jobID), \(userID), \("videos/\(userID)/cache-test.mp4"), 'caption_generation')
                """,
                logger: StackDatabase.logger
            )
        }
        let bases = [try Self.url("ECG_TEST_ANALYSIS_URL"), replica.url]
        let urls = bases.map { $0 + "/api/v1/ml/job-status/\(jobID.uuidString.lowercased())" }
        try await Self.warm(urls, token: token)
        for url in urls {
            #expect(try await StackClient.call(url, token: token).json?["status"] as? String == "processing")
        }
        // Another user asking for the cached job finds none, as before.
        let stranger = try await StackClient.userToken(userID: StackClient.randomUserID())
        #expect(try await StackClient.call(urls[1], token: stranger).status == 404)

        // Cancelled through the stack's replica; the other one hears of it by NOTIFY.
        let cancelled = try await StackClient.call(bases[0] + "/api/v1/ml/jobs/\(jobID.uuidString.lowercased())/cancel", method: "POST", token: token)
        try #require(cancelled.status == 200, "\(cancelled.status) \(cancelled.text)")
        let committed = ContinuousClock.now
        // No request sent to either replica 100 ms or more after the cancellation may get the old status.
        let answers = try await Self.answersAfter(committed, urls: urls, token: token)
        for (sent, url, reply) in answers where sent >= Self.coherenceBound {
            let status = reply.json?["status"] as? String
            #expect(status == "failed", "\(url) answered \(status ?? "\(reply.status)") to a request sent \(sent) after the cancellation")
        }
    }

    // MARK: - Support

    static func url(_ variable: String) throws -> String { try #require(StackClient.environment[variable]) }

    /// Reads each URL twice (a miss that fills, then a hit) and requires 200.
    static func warm(_ urls: [String], token: String) async throws {
        for url in urls {
            for _ in 0..<2 {
                let reply = try await StackClient.call(url, token: token)
                try #require(reply.status == 200, "\(url): \(reply.status) \(reply.text)")
            }
        }
    }

    /// The replies to requests to each of `urls` sent every 10 ms for 300 ms from `since`, each sent
    /// without waiting for the others (so one slow answer under the suite's load delays no other),
    /// with when each was sent: what a client asking at that moment was told.
    static func answersAfter(_ since: ContinuousClock.Instant, urls: [String], token: String) async throws -> [(sent: Duration, url: String, reply: StackClient.Reply)] {
        try await withThrowingTaskGroup(of: (Duration, String, StackClient.Reply).self) { group in
            for step in 0..<30 {
                try await Task.sleep(until: since + .milliseconds(10 * step))
                for url in urls {
                    group.addTask {
                        let sent = ContinuousClock.now - since
                        return (sent, url, try await StackClient.call(url, token: token))
                    }
                }
            }
            var answers: [(sent: Duration, url: String, reply: StackClient.Reply)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
    }

    @discardableResult
    static func setActive(_ userID: Int, _ active: Bool) async throws -> ContinuousClock.Instant {
        try await StackDatabase.with { postgres in
            try await postgres.query("UPDATE auth.users SET is_active = \(active) WHERE id = \(userID)", logger: StackDatabase.logger)
            return ContinuousClock.now
        }
    }

    /// Ends the backends in `LISTEN` on `channel` (as a PostgreSQL restart or a network cut would).
    static func terminateListeners(channel: String) async throws -> Int {
        try await StackDatabase.with { postgres in
            let rows = try await postgres.query(
                """
                SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE pid <> pg_backend_pid() AND query ILIKE \("LISTEN %\(channel)%")
                """,
                logger: StackDatabase.logger
            )
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    /// Waits until at least `count` backends are in `LISTEN` on `channel`.
    static func waitForListeners(channel: String, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await listenerCount(channel: channel) >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("fewer than \(count) LISTEN connections on \(channel) after 10 s")
    }

    static func listenerCount(channel: String) async throws -> Int {
        try await StackDatabase.with { postgres in
            let rows = try await postgres.query(
                "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE \("LISTEN %\(channel)%")",
                logger: StackDatabase.logger
            )
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }
}

/// A second replica of one of the stack's services, with the stack's environment on a free port.
struct Replica {
    let process: Process
    let url: String

    /// Starts `service` and returns once it is ready and its cache's connection is in `LISTEN` on
    /// `channel`: one more listener on the channel than before it started, or 5 s, since other
    /// suites' processes come and go on the same channels (the tests themselves check what they need).
    static func start(_ service: String, listeningOn channel: String) async throws -> Replica {
        let listenersBefore = try await PolledReadCacheTests.listenerCount(channel: channel)
        let port = try AuthHTTP.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(StackClient.environment["ECG_TEST_BIN_DIR"])).appendingPathComponent(service)
        process.arguments = ["serve"]
        var environment = try ShutdownTests.stackEnvironment(of: service)
        environment["PORT"] = String(port)
        environment["ECG_STACK_ID"] = nil
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let replica = Replica(process: process, url: "http://127.0.0.1:\(port)")
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let ready = try? await StackClient.call(replica.url + "/ready"), ready.status == 200 {
                // Ready means serving; the cache's LISTEN may still be a moment behind.
                let listening = ContinuousClock.now + .seconds(5)
                while try await PolledReadCacheTests.listenerCount(channel: channel) <= listenersBefore, ContinuousClock.now < listening {
                    try await Task.sleep(for: .milliseconds(50))
                }
                return replica
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        replica.stop()
        Issue.record("the \(service) replica on \(port) did not become ready")
        throw CancellationError()
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
