import ECGEvents
import Foundation
import Synchronization

@testable import AuthService

/// Account changes over the in-memory repositories, for unit tests; `deletedEvents` stands in for the
/// outbox. A transaction's statements apply as they run (nothing is rolled back): `AccountService`
/// throws nothing between the statements of one change.
final class InMemoryAccountRepository: AccountRepository {
    let users: InMemoryUserRepository
    let sessions: InMemoryRefreshSessionRepository
    let attempts: InMemoryLoginAttemptRepository
    fileprivate let events = Mutex<[(topic: String, event: CloudEvent<UserDeleted>)]>([])

    init(users: InMemoryUserRepository, sessions: InMemoryRefreshSessionRepository, attempts: InMemoryLoginAttemptRepository) {
        self.users = users
        self.sessions = sessions
        self.attempts = attempts
    }

    /// The `user.deleted` events written so far, oldest first.
    var deletedEvents: [CloudEvent<UserDeleted>] { events.withLock { $0.map(\.event) } }
    /// The topics they were written to.
    var deletedEventTopics: [String] { events.withLock { $0.map(\.topic) } }

    func transaction<Result: Sendable>(_ body: @Sendable (any AccountTransaction) async throws -> Result) async throws -> Result {
        try await body(InMemoryAccountTransaction(repository: self))
    }
}

private struct InMemoryAccountTransaction: AccountTransaction {
    let repository: InMemoryAccountRepository

    func setPasswordHash(userID: Int64, _ passwordHash: String, now: Date) async throws -> Bool {
        repository.users.setPasswordHash(userID: userID, passwordHash)
    }

    func revokeSessions(userID: Int64, reason: RevocationReason, now: Date) async throws -> Int {
        try await repository.sessions.revokeAll(userID: userID, reason: reason, now: now)
    }

    func deleteSessions(userID: Int64) async throws {
        repository.sessions.removeAll(userID: userID)
    }

    func deleteUser(userID: Int64) async throws -> String? {
        repository.users.remove(userID: userID)?.email
    }

    func deleteLoginAttempts(email: String) async throws {
        try await repository.attempts.reset(email: email)
    }

    func publish<Payload: Codable & Sendable>(_ event: CloudEvent<Payload>, topic: String) async throws {
        guard let deleted = event as? CloudEvent<UserDeleted> else {
            throw InMemoryAccountRepositoryError.unexpectedEvent(String(describing: Payload.self))
        }
        repository.events.withLock { $0.append((topic, deleted)) }
    }
}

enum InMemoryAccountRepositoryError: Error {
    /// Account changes announce only `user.deleted`.
    case unexpectedEvent(String)
}
