import Foundation

/// An account. `passwordHash` is nil for accounts created through Google sign-in.
struct User: Sendable, Equatable {
    enum Provider: String, Sendable, Codable {
        case local
        case google
    }

    let id: Int64
    var username: String
    var email: String
    var passwordHash: String?
    var authProvider: Provider
    var googleSubject: String?
    var isActive: Bool
    var createdAt: Date
}

/// What signup and Google sign-in hand to `UserRepository.create`; values are already validated and normalized.
struct NewUser: Sendable, Equatable {
    var username: String
    var email: String
    var passwordHash: String?
    var authProvider: User.Provider
    var googleSubject: String?

    /// The value that makes usernames unique regardless of case (see `Validators.usernameKey`).
    var usernameKey: String { Validators.usernameKey(username) }
}

/// Why an account could not be created.
enum UserConflict: Error, Equatable, Sendable {
    case emailTaken
    case usernameTaken
    case googleSubjectTaken
}
