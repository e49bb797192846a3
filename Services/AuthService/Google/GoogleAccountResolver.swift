import Foundation

/// Finds or creates the account of a Google identity (SPEC.md §3 row 7): by Google `sub` first;
/// else the local account with the same email, linked only because Google verified the email;
/// else a new account with a username derived from the name or email.
struct GoogleAccountResolver: Sendable {
    let users: any UserRepository

    func resolve(_ identity: GoogleIdentity) async throws -> User {
        if let user = try await users.find(googleSubject: identity.subject) { return user }
        // `GoogleIDTokenVerifier` refuses unverified emails already; this guard keeps linking safe on its own.
        guard identity.emailVerified else { throw GoogleSignInError.emailNotVerified }
        if let existing = try await users.find(email: identity.email) {
            guard let linked = try await users.linkGoogle(userID: existing.id, subject: identity.subject) else {
                throw GoogleSignInError.accountConflict
            }
            return linked
        }
        let base = Self.usernameBase(name: identity.name, email: identity.email)
        for attempt in 0..<6 {
            let username = attempt == 0 ? base : "\(base.prefix(40))_\(Int.random(in: 100_000...999_999))"
            do {
                return try await users.create(
                    NewUser(username: username, email: identity.email, passwordHash: nil, authProvider: .google, googleSubject: identity.subject)
                )
            } catch UserConflict.usernameTaken {
                continue
            } catch UserConflict.emailTaken, UserConflict.googleSubjectTaken {
                // Another request created it at the same moment: start over with what is stored now.
                if let user = try await users.find(googleSubject: identity.subject) { return user }
                if let existing = try await users.find(email: identity.email),
                    let linked = try await users.linkGoogle(userID: existing.id, subject: identity.subject)
                {
                    return linked
                }
                throw GoogleSignInError.accountConflict
            }
        }
        throw GoogleSignInError.accountConflict
    }

    /// The name (or the email's local part) reduced to valid username characters, 3–50 long.
    static func usernameBase(name: String?, email: String) -> String {
        let localPart = String(email.split(separator: "@").first ?? "")
        for candidate in [name ?? "", localPart] {
            let kept = String(candidate.precomposedStringWithCanonicalMapping.filter(Validators.isUsernameCharacter).prefix(50))
            if kept.count >= 3 { return kept }
        }
        return "user"
    }
}
