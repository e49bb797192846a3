import ECGDatabase
import ECGEvents
import ECGMessaging
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import AuthService

/// The PostgreSQL repositories against the test stack's database (`ECG_TEST_PG_URL`, a superuser),
/// each test in a throwaway schema migrated with auth-service's own migrations.
@Suite(
    "auth repositories on PostgreSQL",
    .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_PG_URL"] != nil),
    .timeLimit(.minutes(2))
)
struct PostgresRepositoryTests {
    static let logger = Logger(label: "auth-repository-tests")

    /// Runs `body` with a client and a freshly migrated schema, then drops the schema.
    /// The client's connections start with `search_path` set to the schema, as a service's do.
    static func withSchema(_ body: @Sendable (PostgresClient, TestSchema) async throws -> Void) async throws {
        let url = try #require(ProcessInfo.processInfo.environment["ECG_TEST_PG_URL"])
        let schema = TestSchema(name: "auth_test_\(UUID().uuidString.prefix(8).lowercased())")
        var configuration = try PostgresClient.Configuration.fromURL(url)
        configuration.options.additionalStartupParameters.append(("search_path", schema.name))
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            do {
                let runner = try MigrationRunner(schema: schema.name, migrations: try AuthService.descriptor.migrations())
                try await runner.run(on: client, logger: logger)
                try await body(client, schema)
            } catch {
                _ = try? await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.name) CASCADE"), logger: logger)
                throw error
            }
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.name) CASCADE"), logger: logger)
            group.cancelAll()
        }
    }

    static func repositories(
        _ client: PostgresClient
    ) -> (
        PostgresUserRepository, PostgresRefreshSessionRepository, PostgresLoginAttemptRepository
    ) {
        (
            PostgresUserRepository(client: client, logger: logger),
            PostgresRefreshSessionRepository(client: client, logger: logger),
            PostgresLoginAttemptRepository(client: client, logger: logger)
        )
    }

    @Test("the migrations apply on a new schema and again as a no-op")
    func migrations() async throws {
        try await Self.withSchema { client, schema in
            let runner = try MigrationRunner(schema: schema.name, migrations: try AuthService.descriptor.migrations())
            #expect(try await runner.run(on: client, logger: Self.logger).isEmpty)
        }
    }

    @Test("users: create, find by id/email/sub, conflicts by email and case-insensitive username, Google linking")
    func users() async throws {
        try await Self.withSchema { client, _ in
            let (users, _, _) = Self.repositories(client)
            let created = try await users.create(
                NewUser(username: "사용자명", email: "user@example.com", passwordHash: "hash", authProvider: .local, googleSubject: nil)
            )
            #expect(created.username == "사용자명")
            #expect(created.isActive)
            #expect(abs(created.createdAt.timeIntervalSinceNow) < 60)
            #expect(try await users.find(id: created.id) == created)
            #expect(try await users.find(email: "user@example.com")?.id == created.id)
            #expect(try await users.conflict(email: "user@example.com", username: "x") == .emailTaken)
            #expect(try await users.conflict(email: "x@example.com", username: "사용자명") == .usernameTaken)
            #expect(try await users.conflict(email: "x@example.com", username: "x") == nil)
            await #expect(throws: UserConflict.emailTaken) {
                try await users.create(
                    NewUser(username: "other", email: "user@example.com", passwordHash: nil, authProvider: .local, googleSubject: nil)
                )
            }
            _ = try await users.create(
                NewUser(username: "Ärger", email: "a@example.com", passwordHash: nil, authProvider: .local, googleSubject: nil)
            )
            await #expect(throws: UserConflict.usernameTaken) {
                try await users.create(
                    NewUser(username: "äRGER", email: "b@example.com", passwordHash: nil, authProvider: .local, googleSubject: nil)
                )
            }
            let linked = try #require(try await users.linkGoogle(userID: created.id, subject: "sub-1"))
            #expect(linked.googleSubject == "sub-1")
            #expect(linked.authProvider == .local)
            #expect(try await users.find(googleSubject: "sub-1")?.id == created.id)
            #expect(try await users.linkGoogle(userID: created.id, subject: "sub-2") == nil)
            await #expect(throws: UserConflict.googleSubjectTaken) {
                try await users.create(
                    NewUser(username: "g", email: "g@example.com", passwordHash: nil, authProvider: .google, googleSubject: "sub-1")
                )
            }
        }
    }

    @Test("refresh: rotation, grace window, reuse revokes the family and then the newest token")
    func rotationAndGrace() async throws {
        try await Self.withSchema { client, _ in
            let (users, sessions, _) = Self.repositories(client)
            try await RefreshScenarios.rotationAndGrace(users: users, sessions: sessions)
            try await RefreshScenarios.graceDoesNotFork(users: users, sessions: sessions)
            try await RefreshScenarios.reuseRevokesOnlyItsFamily(users: users, sessions: sessions)
        }
    }

    @Test("refresh: logout, expiry, unknown tokens, concurrent refreshes")
    func logoutExpiryConcurrency() async throws {
        try await Self.withSchema { client, _ in
            let (users, sessions, _) = Self.repositories(client)
            try await RefreshScenarios.logout(users: users, sessions: sessions)
            try await RefreshScenarios.expiryAndUnknown(users: users, sessions: sessions)
            try await RefreshScenarios.concurrentRefresh(users: users, sessions: sessions)
            try await RefreshScenarios.familyMaxAge(users: users, sessions: sessions)
        }
    }

    @Test("refresh: sign out everywhere, and the family of a token (its login method and time)")
    func revokeAllAndFamily() async throws {
        try await Self.withSchema { client, _ in
            let (users, sessions, _) = Self.repositories(client)
            try await RefreshScenarios.revokeAllAndFamily(users: users, sessions: sessions)
        }
    }

    @Test("accounts: a password change revokes every family in one transaction; nothing for a missing user or a failed transaction")
    func changePassword() async throws {
        try await Self.withSchema { client, schema in
            let (users, sessions, _) = Self.repositories(client)
            let accounts = PostgresAccountRepository(client: client, outbox: try Self.outbox(schema), logger: Self.logger)
            let user = try await RefreshScenarios.makeUser(users)
            let now = Date()
            for _ in 0..<2 {
                let hash = RefreshToken.hash(RefreshToken.generate())
                _ = try await sessions.start(userID: user.id, tokenHash: hash, expiresAt: now + 60, familyExpiresAt: now + 3600, method: .password, now: now)
            }
            let revoked = try await accounts.transaction { transaction in
                guard try await transaction.setPasswordHash(userID: user.id, "new-hash", now: now) else { return -1 }
                return try await transaction.revokeSessions(userID: user.id, reason: .passwordChange, now: now)
            }
            #expect(revoked == 2)
            #expect(try await users.find(id: user.id)?.passwordHash == "new-hash")
            let reasons = try await Self.strings(client, "SELECT revoked_reason FROM refresh_families WHERE user_id = \(user.id)")
            #expect(reasons == ["password_change", "password_change"])
            #expect(try await sessions.revokeAll(userID: user.id, reason: .logoutAll, now: now) == 0)
            #expect(try await accounts.transaction { try await $0.setPasswordHash(userID: user.id + 1000, "x", now: now) } == false)

            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await accounts.transaction { transaction -> Bool in
                    _ = try await transaction.setPasswordHash(userID: user.id, "rolled-back", now: now)
                    throw Abort()
                }
            }
            #expect(try await users.find(id: user.id)?.passwordHash == "new-hash")
        }
    }

    @Test("accounts: deleting removes the user, its sessions and login attempts, and writes user.deleted to the outbox, all at once")
    func deleteAccount() async throws {
        try await Self.withSchema { client, schema in
            let (users, sessions, attempts) = Self.repositories(client)
            let accounts = PostgresAccountRepository(client: client, outbox: try Self.outbox(schema), logger: Self.logger)
            let user = try await RefreshScenarios.makeUser(users)
            let bystander = try await RefreshScenarios.makeUser(users)
            let now = Date()
            for owner in [user, bystander] {
                let hash = RefreshToken.hash(RefreshToken.generate())
                _ = try await sessions.start(userID: owner.id, tokenHash: hash, expiresAt: now + 60, familyExpiresAt: now + 3600, method: .google, now: now)
                _ = try await attempts.reserve(email: owner.email, client: "203.0.113.7", limit: 5, window: 900, now: now)
            }
            let event = CloudEvent(
                source: "auth-service",
                type: EventType.userDeleted,
                subject: String(user.id),
                data: UserDeleted(userID: UserID(user.id), deletedAt: now)
            )
            // The statements `AccountService.delete` runs.
            @Sendable func delete() async throws -> Bool {
                try await accounts.transaction { transaction in
                    try await transaction.deleteSessions(userID: user.id)
                    guard let email = try await transaction.deleteUser(userID: user.id) else { return false }
                    try await transaction.deleteLoginAttempts(email: email)
                    try await transaction.publish(event, topic: "ecg.auth.events")
                    return true
                }
            }
            #expect(try await delete())
            #expect(try await users.find(id: user.id) == nil)
            for table in ["refresh_families", "refresh_tokens", "login_attempts"] {
                let count = try await Self.strings(client, "SELECT count(*)::text FROM \(table)")
                #expect(count == ["1"], "\(table): only the bystander's row is left")
            }
            let rows = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT topic, key, payload FROM \(schema.name).outbox WHERE published_at IS NULL"),
                logger: Self.logger
            )
            var outbox: [(String, String, ByteBuffer)] = []
            for try await row in rows.decode((String, String, ByteBuffer).self) { outbox.append(row) }
            #expect(outbox.count == 1)
            #expect(outbox.first?.0 == "ecg.auth.events")
            #expect(outbox.first?.1 == String(user.id))
            let stored = try EventCoding.decoder().decode(CloudEvent<UserDeleted>.self, from: Data(try #require(outbox.first?.2).readableBytesView))
            #expect(stored.type == "ecg.auth.user.deleted.v1")
            #expect(stored.data.userID == UserID(user.id))

            // A second delete finds nothing and writes nothing.
            #expect(try await delete() == false)
            #expect(try await Self.strings(client, "SELECT count(*)::text FROM \(schema.name).outbox") == ["1"])
        }
    }

    static func outbox(_ schema: TestSchema) throws -> Outbox {
        Outbox(schema: try SchemaName(schema.name))
    }

    /// The first column of every row, as text.
    static func strings(_ client: PostgresClient, _ sql: String) async throws -> [String?] {
        var values: [String?] = []
        for try await value in try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(String?.self) {
            values.append(value)
        }
        return values
    }

    @Test("login attempts: the limit holds under concurrency, Retry-After counts down, reset clears")
    func loginAttempts() async throws {
        try await Self.withSchema { client, _ in
            let (_, _, attempts) = Self.repositories(client)
            let now = Date()
            let decisions = try await withThrowingTaskGroup(of: LoginAttemptDecision.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await attempts.reserve(email: "x@example.com", client: "203.0.113.7", limit: 5, window: 900, now: now) }
                }
                return try await group.reduce(into: [LoginAttemptDecision]()) { $0.append($1) }
            }
            #expect(decisions.filter { $0 == .allowed }.count == 5)
            #expect(decisions.filter { $0 == .blocked(retryAfter: 900) }.count == 7)
            #expect(
                try await attempts.reserve(email: "x@example.com", client: "203.0.113.7", limit: 5, window: 900, now: now.addingTimeInterval(300))
                    == .blocked(retryAfter: 600)
            )
            #expect(try await attempts.reserve(email: "y@example.com", client: "203.0.113.7", limit: 5, window: 900, now: now) == .allowed)
            #expect(try await attempts.reserve(email: "x@example.com", client: "203.0.113.7", limit: 5, window: 900, now: now.addingTimeInterval(900)) == .allowed)
            try await attempts.reset(email: "x@example.com")
            #expect(try await attempts.reserve(email: "x@example.com", client: "203.0.113.7", limit: 5, window: 900, now: now.addingTimeInterval(901)) == .allowed)
            #expect(try await attempts.deleteOlder(than: now.addingTimeInterval(2000)) >= 1)
            try await LoginAttemptScenarios.perClient(attempts)
        }
    }
}

/// A throwaway schema's name: `auth_test_` and 8 hex digits, safe to splice into SQL.
struct TestSchema: Sendable {
    let name: String
}
