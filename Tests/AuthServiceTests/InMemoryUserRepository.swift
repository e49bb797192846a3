import Foundation
import Synchronization

@testable import AuthService

/// Accounts in memory, for unit tests.
final class InMemoryUserRepository: UserRepository {
    private struct State {
        var users: [Int64: User] = [:]
        var nextID: Int64 = 1
    }

    private let state = Mutex(State())

    init() {}

    func create(_ user: NewUser) async throws -> User {
        try state.withLock { state in
            if state.users.values.contains(where: { $0.email == user.email }) { throw UserConflict.emailTaken }
            if state.users.values.contains(where: { Validators.usernameKey($0.username) == user.usernameKey }) { throw UserConflict.usernameTaken }
            if let subject = user.googleSubject, state.users.values.contains(where: { $0.googleSubject == subject }) {
                throw UserConflict.googleSubjectTaken
            }
            let created = User(
                id: state.nextID,
                username: user.username,
                email: user.email,
                passwordHash: user.passwordHash,
                authProvider: user.authProvider,
                googleSubject: user.googleSubject,
                isActive: true,
                createdAt: Date()
            )
            state.users[created.id] = created
            state.nextID += 1
            return created
        }
    }

    func find(id: Int64) async throws -> User? {
        state.withLock { $0.users[id] }
    }

    func find(email: String) async throws -> User? {
        state.withLock { $0.users.values.first { $0.email == email } }
    }

    func find(googleSubject: String) async throws -> User? {
        state.withLock { $0.users.values.first { $0.googleSubject == googleSubject } }
    }

    func conflict(email: String, username: String) async throws -> UserConflict? {
        let key = Validators.usernameKey(username)
        return state.withLock { state in
            if state.users.values.contains(where: { $0.email == email }) { return .emailTaken }
            if state.users.values.contains(where: { Validators.usernameKey($0.username) == key }) { return .usernameTaken }
            return nil
        }
    }

    func linkGoogle(userID: Int64, subject: String) async throws -> User? {
        state.withLock { state in
            guard var user = state.users[userID], user.googleSubject == nil || user.googleSubject == subject else { return nil }
            user.googleSubject = subject
            state.users[userID] = user
            return user
        }
    }

    /// Replaces an account's password hash; false when there is no such account.
    func setPasswordHash(userID: Int64, _ hash: String) -> Bool {
        state.withLock { state in
            guard state.users[userID] != nil else { return false }
            state.users[userID]?.passwordHash = hash
            return true
        }
    }

    /// Forgets an account; returns it, or nil when there was none.
    func remove(userID: Int64) -> User? {
        state.withLock { $0.users.removeValue(forKey: userID) }
    }

    /// Test hook: deactivates an account.
    func deactivate(userID: Int64) {
        state.withLock { $0.users[userID]?.isActive = false }
    }
}
