import Crypto
import ECGEvents
import ECGKafka
import Foundation
import Logging
import NIOHTTP1
import PostgresNIO
import Testing

/// A user's own account through the gateway (docs/auth-account.md): change the password, sign out
/// everywhere, delete the account, down to the rows of the `auth` schema and the event on
/// `ecg.auth.events`.
@Suite("account routes through the gateway", .enabled(if: StackClient.isAvailable), .timeLimit(.minutes(3)))
struct AccountFlowTests {
    static let gateway = StackClient.gateway
    static let password = "correct-horse-42"
    static let logger: Logger = {
        var logger = Logger(label: "account-flow")
        logger.logLevel = .warning
        return logger
    }()

    /// One device's session: the access token and the refresh cookie's value.
    struct Device {
        let accessToken: String
        let refreshToken: String
    }

    struct Account {
        let id: Int
        let email: String
        let device: Device
    }

    // MARK: - Support

    static func signup() async throws -> Account {
        let (username, email) = AuthHTTP.uniqueAccount("acct")
        let reply = try await AuthHTTP.call(.POST, gateway + "/api/auth/signup", json: ["username": username, "email": email, "password": password])
        try #require(reply.status == 201, "\(reply.status) \(reply.text)")
        let body = try #require(reply.json)
        return Account(
            id: try #require((body["user"] as? [String: Any])?["id"] as? Int),
            email: email,
            device: Device(accessToken: try #require(body["access_token"] as? String), refreshToken: try #require(reply.cookie("refresh_token")))
        )
    }

    static func login(_ email: String, _ password: String) async throws -> AuthHTTP.Reply {
        try await AuthHTTP.call(.POST, gateway + "/api/auth/login", json: ["email": email, "password": password])
    }

    /// Logs in again: a second device with its own refresh family.
    static func secondDevice(_ account: Account) async throws -> Device {
        let reply = try await login(account.email, password)
        try #require(reply.status == 200, "\(reply.text)")
        return Device(accessToken: try #require(reply.json?["access_token"] as? String), refreshToken: try #require(reply.cookie("refresh_token")))
    }

    static func refresh(_ token: String) async throws -> AuthHTTP.Reply {
        try await AuthHTTP.call(.POST, gateway + "/api/auth/refresh", headers: [("Cookie", "refresh_token=\(token)")])
    }

    static func me(_ token: String) async throws -> AuthHTTP.Reply {
        try await AuthHTTP.call(.GET, gateway + "/api/auth/me", headers: [("Authorization", "Bearer \(token)")])
    }

    /// A call as `device`: its bearer token and its refresh cookie.
    static func call(_ method: HTTPMethod, _ path: String, as device: Device, json: Any? = nil) async throws -> AuthHTTP.Reply {
        try await AuthHTTP.call(
            method,
            gateway + path,
            json: json,
            headers: [("Authorization", "Bearer \(device.accessToken)"), ("Cookie", "refresh_token=\(device.refreshToken)")]
        )
    }

    static func withDatabase<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        try await StackDatabase.with(body)
    }

    /// The first message on `topic` whose key is `key`, read from the start by a new consumer group;
    /// nil when none arrives within `seconds`.
    static func message(on topic: String, key: String, within seconds: Int = 30) async throws -> KafkaMessage? {
        let brokers = try #require(StackClient.environment["ECG_TEST_KAFKA_BROKERS"])
        let consumer = try await KafkaConsumer(
            configuration: KafkaConfiguration(bootstrapServers: brokers),
            groupID: "account-flow-\(UUID())",
            topics: [topic],
            logger: logger
        )
        let found = await withTaskGroup(of: KafkaMessage?.self) { group -> KafkaMessage? in
            group.addTask {
                for await message in consumer.messages where message.keyString == key { return message }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            consumer.stop()
            group.cancelAll()
            return first
        }
        await consumer.close()
        return found
    }

    // MARK: - Change password

    @Test("a password change signs out the other device and this device's old cookie; the new tokens and password work")
    func changePassword() async throws {
        let account = try await Self.signup()
        let phone = try await Self.secondDevice(account)

        let reply = try await Self.call(
            .POST,
            "/api/auth/password",
            as: account.device,
            json: ["current_password": Self.password, "new_password": "battery-staple-43"]
        )
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json?["token_type"] as? String == "bearer")
        let accessToken = try #require(reply.json?["access_token"] as? String)
        let refreshToken = try #require(reply.cookie("refresh_token"))
        try AuthFlowTests.expectRefreshCookie(reply)

        #expect(try await Self.refresh(phone.refreshToken).status == 401, "the other device is signed out")
        #expect(try await Self.refresh(account.device.refreshToken).status == 401, "this device's old cookie is replaced")
        #expect(try await Self.me(accessToken).status == 200)
        #expect(try await Self.refresh(refreshToken).status == 200)
        #expect(try await Self.login(account.email, Self.password).status == 401)
        #expect(try await Self.login(account.email, "battery-staple-43").status == 200)
    }

    @Test("password change: 422 names new_password; a wrong current password is 401 and counts toward the login limit (429)")
    func changePasswordRefusals() async throws {
        let account = try await Self.signup()
        let short = try await Self.call(
            .POST,
            "/api/auth/password",
            as: account.device,
            json: ["current_password": Self.password, "new_password": "short"]
        )
        #expect(short.status == 422)
        #expect((short.json?["detail"] as? String)?.hasPrefix("new_password") == true)
        for _ in 0..<3 { #expect(try await Self.login(account.email, "wrong-password").status == 401) }
        for _ in 0..<2 {
            let wrong = try await Self.call(
                .POST,
                "/api/auth/password",
                as: account.device,
                json: ["current_password": "wrong-password", "new_password": "battery-staple-43"]
            )
            #expect(wrong.status == 401)
            #expect(wrong.code == "invalid_credentials")
        }
        let blocked = try await Self.call(
            .POST,
            "/api/auth/password",
            as: account.device,
            json: ["current_password": Self.password, "new_password": "battery-staple-43"]
        )
        #expect(blocked.status == 429)
        #expect(blocked.code == "too_many_attempts")
        #expect(blocked.header("Retry-After").flatMap { Int($0) } != nil)
        #expect(try await Self.login(account.email, Self.password).status == 429, "login shares the limit")
        #expect(try await Self.refresh(account.device.refreshToken).status == 200, "nothing was revoked")
    }

    // MARK: - Sign out everywhere

    @Test("logout-all revokes every device's refresh session and clears the cookie")
    func logoutAll() async throws {
        let account = try await Self.signup()
        let phone = try await Self.secondDevice(account)
        let reply = try await Self.call(.POST, "/api/auth/logout-all", as: account.device)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json?["message"] as? String != nil)
        #expect(reply.setCookie("refresh_token")?.contains("Max-Age=0") == true)
        #expect(try await Self.refresh(account.device.refreshToken).status == 401)
        #expect(try await Self.refresh(phone.refreshToken).status == 401)
        let anonymous = try await AuthHTTP.call(.POST, Self.gateway + "/api/auth/logout-all")
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate") == "Bearer")
    }

    // MARK: - Delete the account

    @Test("delete: 202; the old access token gets 401 at /me, login and refresh fail, the auth rows are gone, user.deleted is on ecg.auth.events")
    func deleteAccount() async throws {
        let account = try await Self.signup()
        let phone = try await Self.secondDevice(account)
        #expect(try await Self.login(account.email, "wrong-password").status == 401)
        // Verified (and cached by the verifier) before the deletion.
        #expect(try await Self.me(account.device.accessToken).status == 200)
        let wrong = try await Self.call(.DELETE, "/api/auth/me", as: account.device, json: ["password": "wrong-password"])
        #expect(wrong.status == 401)
        #expect(wrong.code == "invalid_credentials")

        let before = Date()
        let deleted = try await Self.call(.DELETE, "/api/auth/me", as: account.device, json: ["password": Self.password])
        #expect(deleted.status == 202, "\(deleted.text)")
        #expect(deleted.json?["message"] as? String != nil)
        #expect(deleted.setCookie("refresh_token")?.contains("Max-Age=0") == true)

        for token in [account.device.accessToken, phone.accessToken] {
            let me = try await Self.me(token)
            #expect(me.status == 401)
            #expect(me.header("WWW-Authenticate") == "Bearer")
        }
        let userID = account.id
        let email = account.email
        let tokenHashes = [account.device.refreshToken, phone.refreshToken].map {
            SHA256.hash(data: Data($0.utf8)).map { String(format: "%02x", $0) }.joined()
        }
        let left = try await Self.withDatabase { postgres in
            var counts: [String: Int] = [:]
            for (name, query) in [
                ("users", PostgresQuery("SELECT count(*)::int FROM auth.users WHERE id = \(userID) OR email = \(email)")),
                ("refresh_families", PostgresQuery("SELECT count(*)::int FROM auth.refresh_families WHERE user_id = \(userID)")),
                (
                    "refresh_tokens",
                    PostgresQuery("SELECT count(*)::int FROM auth.refresh_tokens WHERE encode(token_hash, 'hex') = ANY(\(tokenHashes))")
                ),
                ("login_attempts", PostgresQuery("SELECT count(*)::int FROM auth.login_attempts WHERE email = \(email)")),
            ] {
                for try await count in try await postgres.query(query, logger: Self.logger).decode(Int.self) { counts[name] = count }
            }
            return counts
        }
        #expect(left == ["users": 0, "refresh_families": 0, "refresh_tokens": 0, "login_attempts": 0], "nothing of the user is left in auth")
        // After the check: a login attempt is recorded for any email, a deleted account's too.
        #expect(try await Self.login(account.email, Self.password).status == 401)
        #expect(try await Self.refresh(account.device.refreshToken).status == 401)
        #expect(try await Self.refresh(phone.refreshToken).status == 401)

        let message = try #require(try await Self.message(on: "ecg.auth.events", key: String(userID)), "user.deleted reached ecg.auth.events")
        #expect(message.header("ce_type") == "ecg.auth.user.deleted.v1")
        let event = try EventCoding.decoder().decode(CloudEvent<UserDeleted>.self, from: Data(message.value))
        #expect(event.type == EventType.userDeleted)
        #expect(event.source == "auth-service")
        #expect(event.subject == String(userID))
        #expect(event.data.userID.description == String(userID))
        #expect(abs(event.data.deletedAt.timeIntervalSince(before)) < 60)

        // The email is free again; the new account has a new id.
        let again = try await AuthHTTP.call(
            .POST,
            Self.gateway + "/api/auth/signup",
            json: ["username": AuthHTTP.uniqueAccount("again").username, "email": email, "password": Self.password]
        )
        #expect(again.status == 201)
        #expect(((again.json?["user"] as? [String: Any])?["id"] as? Int).map { $0 != userID } == true)
    }

    @Test("delete needs the password of an account that has one: 422 without it, and a bearer token: 401 without one")
    func deleteAccountRefusals() async throws {
        let account = try await Self.signup()
        let missing = try await Self.call(.DELETE, "/api/auth/me", as: account.device, json: [String: Any]())
        #expect(missing.status == 422)
        #expect((missing.json?["detail"] as? String)?.hasPrefix("password") == true)
        let anonymous = try await AuthHTTP.call(.DELETE, Self.gateway + "/api/auth/me", json: ["password": Self.password])
        #expect(anonymous.status == 401)
        #expect(try await Self.me(account.device.accessToken).status == 200, "still there")
    }

    @Test("every account route is in auth-service's /openapi.json")
    func openAPI() async throws {
        let reply = try await AuthHTTP.call(.GET, try #require(StackClient.environment["ECG_TEST_AUTH_URL"]) + "/openapi.json")
        #expect(reply.status == 200)
        let paths = try #require(reply.json?["paths"] as? [String: [String: Any]])
        #expect(paths["/api/auth/password"]?["post"] != nil)
        #expect(paths["/api/auth/logout-all"]?["post"] != nil)
        #expect(paths["/api/auth/me"]?["delete"] != nil)
    }
}
