import ECGDatabase
import ECGEvents
import Foundation
import Logging
import PostgresNIO

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

    func changePassword(userID: Int64, passwordHash: String, now: Date) async throws -> Bool {
        defer { cache.invalidate(userID) }
        return try await wrapped.changePassword(userID: userID, passwordHash: passwordHash, now: now)
    }

    func delete(userID: Int64, announcing event: CloudEvent<UserDeleted>) async throws -> Bool {
        defer { cache.invalidate(userID) }
        return try await wrapped.delete(userID: userID, announcing: event)
    }
}
