import ECGDatabase
import ECGEvents
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The account lookup of `GET /api/auth/me`, served from memory on each replica (issue 13, item 3).
/// Decorates the `UserRepository` that `AccountService.profile(id:)` reads: `find(id:)` goes through a
/// `ChangeFeedCache` that `users_changed_notify` (migration 0007) keeps coherent, since every update or
/// delete of a `users` row notifies `auth_user_changed` with its id; everything else goes straight
/// to the wrapped repository. Sign-in and the account routes keep reading the database.
struct CachedUserRepository: UserRepository {
    static let channel = "auth_user_changed"
    /// Far more users than sign in within `timeToLive` on one replica; a `User` is a few hundred bytes.
    static let capacity = 20_000
    /// The longest a user is served from memory whatever was notified (a silent connection loss).
    static let timeToLive: Duration = .seconds(5)

    let wrapped: any UserRepository
    let cache: ChangeFeedCache<Int64, User>

    /// The cache that `run()` (a service of the application) keeps listening.
    static func makeCache(postgres: PostgresClient, logger: Logger) -> ChangeFeedCache<Int64, User> {
        ChangeFeedCache(
            channel: channel,
            capacity: capacity,
            timeToLive: timeToLive,
            postgres: postgres,
            logger: logger,
            parseKey: { Int64($0) }
        )
    }

    func find(id: Int64) async throws -> User? {
        try await cache.value(for: id) { try await wrapped.find(id: id) }
    }

    func create(_ user: NewUser) async throws -> User { try await wrapped.create(user) }
    func find(email: String) async throws -> User? { try await wrapped.find(email: email) }
    func find(googleSubject: String) async throws -> User? { try await wrapped.find(googleSubject: googleSubject) }
    func conflict(email: String, username: String) async throws -> UserConflict? { try await wrapped.conflict(email: email, username: username) }

    func linkGoogle(userID: Int64, subject: String) async throws -> User? {
        defer { cache.invalidate(userID) }
        return try await wrapped.linkGoogle(userID: userID, subject: subject)
    }
}

/// Account changes made on this replica drop the user from its `/me` cache as soon as they commit,
/// before the notification of the change comes back: a deleted account is never served again from
/// this replica's memory, even to the request that follows the deletion at once. Other replicas
/// drop it on the notification.
struct CacheInvalidatingAccountRepository: AccountRepository {
    let wrapped: any AccountRepository
    let cache: ChangeFeedCache<Int64, User>

    func transaction<Result: Sendable>(_ body: @Sendable (any AccountTransaction) async throws -> Result) async throws -> Result {
        let changed = ChangedUsers()
        defer { for id in changed.ids { cache.invalidate(id) } }
        return try await wrapped.transaction { transaction in
            try await body(RecordingTransaction(wrapped: transaction, changed: changed))
        }
    }

    /// The users whose rows a transaction wrote.
    private final class ChangedUsers: Sendable {
        private let changed = Mutex(Set<Int64>())
        var ids: Set<Int64> { changed.withLock { $0 } }
        func insert(_ id: Int64) { _ = changed.withLock { $0.insert(id) } }
    }

    /// Passes every statement on, noting the users whose rows it writes.
    private struct RecordingTransaction: AccountTransaction {
        let wrapped: any AccountTransaction
        let changed: ChangedUsers

        func setPasswordHash(userID: Int64, _ passwordHash: String, now: Date) async throws -> Bool {
            changed.insert(userID)
            return try await wrapped.setPasswordHash(userID: userID, passwordHash, now: now)
        }

        func revokeSessions(userID: Int64, reason: RevocationReason, now: Date) async throws -> Int {
            try await wrapped.revokeSessions(userID: userID, reason: reason, now: now)
        }

        func deleteSessions(userID: Int64) async throws { try await wrapped.deleteSessions(userID: userID) }

        func deleteUser(userID: Int64) async throws -> String? {
            changed.insert(userID)
            return try await wrapped.deleteUser(userID: userID)
        }

        func deleteLoginAttempts(email: String) async throws { try await wrapped.deleteLoginAttempts(email: email) }

        func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws {
            try await wrapped.publish(event, topic: topic)
        }
    }
}
