import Foundation

/// Finds or creates the account of a Google identity (SPEC.md §3 row 7): by Google `sub` first;
/// else the local account with the same email, linked only because Google verified the email;
/// else a new account with a username derived from the name or email.
///
/// Security review H1 ("pre-account hijacking"): ECG never verifies the e-mail of a password account, so
/// anyone could have signed up with the victim's address. A Google identity is therefore never linked
/// silently into an account that has a password: the sign-in is refused with
/// `GoogleSignInError.passwordAccountExists` (the user signs in with the password instead). When a link does
/// happen (an account without a password and without a Google subject), every other session of the account
/// is revoked, so nobody who held a session before the link keeps it.
struct GoogleAccountResolver: Sendable {
    let users: any UserRepository
    let sessions: any RefreshSessionRepository

    func resolve(_ identity: GoogleIdentity) async throws -> User {
        if let user = try await users.find(googleSubject: identity.subject) { return user }
        // `GoogleIDTokenVerifier` refuses unverified emails already; this guard keeps linking safe on its own.
        guard identity.emailVerified else { throw GoogleSignInError.emailNotVerified }
        if let existing = try await users.find(email: identity.email) {
            return try await link(existing, identity)
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
                if let existing = try await users.find(email: identity.email) { return try await link(existing, identity) }
                throw GoogleSignInError.accountConflict
            }
        }
        throw GoogleSignInError.accountConflict
    }

    /// Links the identity into an existing account found by e-mail, unless it has a password (H1), and
    /// revokes every session the account had before.
    private func link(_ existing: User, _ identity: GoogleIdentity) async throws -> User {
        guard existing.passwordHash == nil else { throw GoogleSignInError.passwordAccountExists }
        guard let linked = try await users.linkGoogle(userID: existing.id, subject: identity.subject) else {
            throw GoogleSignInError.accountConflict
        }
        try await sessions.revokeAll(userID: linked.id, reason: .logoutAll, now: Date())
        return linked
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
