import Logging

/// The development seed user of SPEC.md §6, created once; never in test or production.
enum DevelopmentSeed {
    static let email = "test@example.com"
    static let username = "testuser"
    static let password = "testpassword123"

    static func run(users: any UserRepository, hasher: PasswordHasher, logger: Logger) async throws {
        if try await users.find(email: email) != nil { return }
        let hash = try await hasher.hash(password)
        do {
            let user = try await users.create(NewUser(username: username, email: email, passwordHash: hash, authProvider: .local, googleSubject: nil))
            logger.info("created the development seed user", metadata: ["email": "\(email)", "user_id": "\(user.id)"])
        } catch let conflict as UserConflict {
            // Another replica created it first, or someone registered the username.
            logger.info("development seed user not created", metadata: ["reason": "\(conflict)"])
        }
    }
}
