import ECGEvents
import Foundation
import Synchronization

@testable import AuthService

/// Account changes over the in-memory repositories, for unit tests; `deletedEvents` stands in for the outbox.
final class InMemoryAccountRepository: AccountRepository {
    let users: InMemoryUserRepository
    let sessions: InMemoryRefreshSessionRepository
    let attempts: InMemoryLoginAttemptRepository
    private let events = Mutex<[CloudEvent<UserDeleted>]>([])

    init(users: InMemoryUserRepository, sessions: InMemoryRefreshSessionRepository, attempts: InMemoryLoginAttemptRepository) {
        self.users = users
        self.sessions = sessions
        self.attempts = attempts
    }

    /// The `user.deleted` events written so far, oldest first.
    var deletedEvents: [CloudEvent<UserDeleted>] { events.withLock { $0 } }

    func changePassword(userID: Int64, passwordHash: String, now: Date) async throws -> Bool {
        guard users.setPasswordHash(userID: userID, passwordHash) else { return false }
        _ = try await sessions.revokeAll(userID: userID, reason: .passwordChange, now: now)
        return true
    }

    func delete(userID: Int64, announcing event: CloudEvent<UserDeleted>) async throws -> Bool {
        guard let user = users.remove(userID: userID) else { return false }
        sessions.removeAll(userID: userID)
        try await attempts.reset(email: user.email)
        events.withLock { $0.append(event) }
        return true
    }
}
