import ECGTokens
import Foundation
import Testing

@testable import AuthService

/// The refresh state machine (SPEC.md §3 row 4): rotation, the 10 s grace window, reuse → family
/// revoked, logout, expiry. Run against any repository; `PostgresRepositoryTests` runs the same
/// scenarios against PostgreSQL.
enum RefreshScenarios {
    static func makeService(
        users: any UserRepository,
        sessions: any RefreshSessionRepository,
        lifetime: TimeInterval = 3600,
        maxFamilyAge: TimeInterval = 90 * 86_400
    ) async throws
        -> SessionService
    {
        SessionService(
            users: users,
            sessions: sessions,
            accessTokens: AccessTokenIssuer(signer: await TokenSigner(key: try SigningKey.generate()), lifetime: 900),
            policy: RefreshPolicy(graceWindow: 10, lifetime: lifetime, maxFamilyAge: maxFamilyAge)
        )
    }

    /// A family ends `maxFamilyAge` after its login however often it is rotated: each successor's
    /// expiry is capped at the family's, and the grace window does not outlive it either.
    static func familyMaxAge(users: any UserRepository, sessions: any RefreshSessionRepository) async throws {
        let service = try await makeService(users: users, sessions: sessions, lifetime: 60, maxFamilyAge: 150)
        let user = try await makeUser(users)
        let t0 = Date()
        var current = try await service.start(for: user, now: t0)
        // Rotating every 50 s keeps each token fresh (60 s lifetime)...
        for step in 1...2 {
            current = try await service.refresh(current.refreshToken, now: t0.addingTimeInterval(Double(step) * 50))
        }
        // ...until the family's 150 s are up, though this token was issued only 49 s ago.
        let last = try await service.refresh(current.refreshToken, now: t0.addingTimeInterval(149))
        await #expect(throws: SessionService.RefreshFailure.expired) {
            try await service.refresh(last.refreshToken, now: t0.addingTimeInterval(150))
        }
        // The token rotated at 149 s, presented again within its grace window but after the family's end.
        await #expect(throws: SessionService.RefreshFailure.expired) {
            try await service.refresh(current.refreshToken, now: t0.addingTimeInterval(151))
        }
        // A new login starts a new family.
        let fresh = try await service.start(for: user, now: t0.addingTimeInterval(151))
        _ = try await service.refresh(fresh.refreshToken, now: t0.addingTimeInterval(152))
    }


    static func makeUser(_ users: any UserRepository) async throws -> User {
        let name = "u\(UInt32.random(in: 0...UInt32.max))"
        return try await users.create(
            NewUser(username: name, email: "\(name)@example.com", passwordHash: nil, authProvider: .local, googleSubject: nil)
        )
    }

    /// Each token works once; a second use within 10 s gets the successor already issued (security review
    /// M3: never a second one, so the family stays one chain and a replay is still detected).
    static func rotationAndGrace(users: any UserRepository, sessions: any RefreshSessionRepository) async throws {
        let service = try await makeService(users: users, sessions: sessions)
        let user = try await makeUser(users)
        let t0 = Date()
        let first = try await service.start(for: user, now: t0)
        let second = try await service.refresh(first.refreshToken, now: t0.addingTimeInterval(1))
        #expect(second.refreshToken != first.refreshToken)
        // Another tab presents the first token 5 s after its rotation: accepted, and it gets the same successor.
        let sibling = try await service.refresh(first.refreshToken, now: t0.addingTimeInterval(6))
        #expect(sibling.refreshToken == second.refreshToken)
        #expect(!sibling.accessToken.isEmpty)
        let third = try await service.refresh(second.refreshToken, now: t0.addingTimeInterval(7))
        #expect(try await service.refresh(first.refreshToken, now: t0.addingTimeInterval(8)).refreshToken == second.refreshToken)
        #expect(try await service.refresh(second.refreshToken, now: t0.addingTimeInterval(9)).refreshToken == third.refreshToken)
        // The first token, 10 s or more after its rotation: reuse. The family is revoked...
        await #expect(throws: SessionService.RefreshFailure.reused) {
            try await service.refresh(first.refreshToken, now: t0.addingTimeInterval(11))
        }
        // ...so the newest token is refused too.
        await #expect(throws: SessionService.RefreshFailure.revoked) {
            try await service.refresh(third.refreshToken, now: t0.addingTimeInterval(12))
        }
        // Presenting the reused token again still says reused.
        await #expect(throws: SessionService.RefreshFailure.reused) {
            try await service.refresh(first.refreshToken, now: t0.addingTimeInterval(13))
        }
    }

    /// The review's thief (M3): a stolen token replayed inside the grace window gets the legitimate successor,
    /// not a chain of its own; once either side rotates past it, the other's next use is reuse and the
    /// whole family, the newest token included, is revoked.
    static func graceDoesNotFork(users: any UserRepository, sessions: any RefreshSessionRepository) async throws {
        let service = try await makeService(users: users, sessions: sessions)
        let user = try await makeUser(users)
        let t0 = Date()
        let r0 = try await service.start(for: user, now: t0)
        let r1 = try await service.refresh(r0.refreshToken, now: t0.addingTimeInterval(1))
        let t1 = try await service.refresh(r0.refreshToken, now: t0.addingTimeInterval(2))
        #expect(t1.refreshToken == r1.refreshToken, "the grace window forked the family")
        let r2 = try await service.refresh(r1.refreshToken, now: t0.addingTimeInterval(3))
        // The thief's "T1" is R1, rotated 20 s ago: reuse, the family is revoked.
        await #expect(throws: SessionService.RefreshFailure.reused) {
            try await service.refresh(t1.refreshToken, now: t0.addingTimeInterval(23))
        }
        await #expect(throws: SessionService.RefreshFailure.revoked) {
            try await service.refresh(r2.refreshToken, now: t0.addingTimeInterval(24))
        }
    }

    /// Reuse revokes only its own family: another login of the same user keeps working.
    static func reuseRevokesOnlyItsFamily(users: any UserRepository, sessions: any RefreshSessionRepository) async throws {
        let service = try await makeService(users: users, sessions: sessions)
        let user = try await makeUser(users)
        let t0 = Date()
        let laptop = try await service.start(for: user, now: t0)
        let phone = try await service.start(for: user, now: t0)
        _ = try await service.refresh(laptop.refreshToken, now: t0.addingTimeInterval(1))
        await #expect(throws: SessionService.RefreshFailure.reused) {
            try await service.refresh(laptop.refreshToken, now: t0.addingTimeInterval(30))
        }
        _ = try await service.refresh(phone.refreshToken, now: t0.addingTimeInterval(31))
    }

    /// Logout revokes the family, is idempotent, and the rotated-away ancestors are refused too.
    static func logout(users: any UserRepository, sessions: any RefreshSessionRepository) async throws {
        let service = try await makeService(users: users, sessions: sessions)
        let user = try await makeUser(users)
        let t0 = Date()
        let first = try await service.start(for: user, now: t0)
        let second = try await service.refresh(first.refreshToken, now: t0.addingTimeInterval(1))
        try await service.logout(second.refreshToken, now: t0.addingTimeInterval(2))
        try await service.logout(second.refreshToken, now: t0.addingTimeInterval(3))
        try await service.logout(nil)
        try await service.logout("not-a-token")
        await #expect(throws: SessionService.RefreshFailure.revoked) {
            try await service.refresh(second.refreshToken, now: t0.addingTimeInterval(4))
        }
        // Within the grace window the first token would be accepted, but its family is revoked.
        await #expect(throws: SessionService.RefreshFailure.revoked) {
            try await service.refresh(first.refreshToken, now: t0.addingTimeInterval(5))
        }
    }

    /// Expired tokens, unknown tokens and no cookie at all are refused.
    static func expiryAndUnknown(users: any UserRepository, sessions: any RefreshSessionRepository) async throws {
        let service = try await makeService(users: users, sessions: sessions, lifetime: 60)
        let user = try await makeUser(users)
        let t0 = Date()
        let first = try await service.start(for: user, now: t0)
        await #expect(throws: SessionService.RefreshFailure.expired) {
            try await service.refresh(first.refreshToken, now: t0.addingTimeInterval(61))
        }
        await #expect(throws: SessionService.RefreshFailure.unknown) { try await service.refresh(RefreshToken.generate(), now: t0) }
        await #expect(throws: SessionService.RefreshFailure.unknown) { try await service.refresh("garbage", now: t0) }
        await #expect(throws: SessionService.RefreshFailure.missing) { try await service.refresh(nil, now: t0) }
        // Expired families are swept.
        #expect(try await sessions.deleteExpired(before: t0.addingTimeInterval(120)) >= 1)
        await #expect(throws: SessionService.RefreshFailure.unknown) {
            try await service.refresh(first.refreshToken, now: t0.addingTimeInterval(121))
        }
    }

    /// Signing out everywhere revokes every family of the user (not another user's), rotated-away
    /// tokens included; the family of a token tells how and when its login happened.
    static func revokeAllAndFamily(users: any UserRepository, sessions: any RefreshSessionRepository) async throws {
        let service = try await makeService(users: users, sessions: sessions)
        let user = try await makeUser(users)
        let other = try await makeUser(users)
        let t0 = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let laptop = try await service.start(for: user, now: t0)
        let phone = try await service.start(for: user, authenticatedWith: .google, now: t0.addingTimeInterval(1))
        let rotated = try await service.refresh(laptop.refreshToken, now: t0.addingTimeInterval(2))
        let stranger = try await service.start(for: other, now: t0)

        let laptopFamily = try #require(try await sessions.family(containing: RefreshToken.hash(rotated.refreshToken)))
        #expect(laptopFamily.userID == user.id)
        #expect(laptopFamily.authenticatedWith == .password)
        #expect(laptopFamily.createdAt == t0, "rotation keeps the login's time")
        #expect(laptopFamily.revokedAt == nil)
        #expect(try await sessions.family(containing: RefreshToken.hash(laptop.refreshToken))?.id == laptopFamily.id)
        let phoneFamily = try #require(try await sessions.family(containing: RefreshToken.hash(phone.refreshToken)))
        #expect(phoneFamily.authenticatedWith == .google)
        #expect(phoneFamily.createdAt == t0.addingTimeInterval(1))
        #expect(try await sessions.family(containing: RefreshToken.hash(RefreshToken.generate())) == nil)

        #expect(try await sessions.revokeAll(userID: user.id, reason: .logoutAll, now: t0.addingTimeInterval(3)) == 2)
        #expect(try await sessions.revokeAll(userID: user.id, reason: .logoutAll, now: t0.addingTimeInterval(4)) == 0)
        #expect(try await sessions.family(containing: RefreshToken.hash(phone.refreshToken))?.revokedAt == t0.addingTimeInterval(3))
        for token in [rotated.refreshToken, phone.refreshToken] {
            await #expect(throws: SessionService.RefreshFailure.revoked) { try await service.refresh(token, now: t0.addingTimeInterval(5)) }
        }
        _ = try await service.refresh(stranger.refreshToken, now: t0.addingTimeInterval(5))
        // A login after the sign-out starts a live family.
        let later = try await service.start(for: user, now: t0.addingTimeInterval(6))
        _ = try await service.refresh(later.refreshToken, now: t0.addingTimeInterval(7))
    }

    /// Two refreshes of the same token at the same moment both succeed (the second falls in the grace window).
    static func concurrentRefresh(users: any UserRepository, sessions: any RefreshSessionRepository) async throws {
        let service = try await makeService(users: users, sessions: sessions)
        let user = try await makeUser(users)
        let first = try await service.start(for: user)
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask { (try? await service.refresh(first.refreshToken)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [true, true, true, true])
        // They all got the same successor: the family is one chain with two tokens.
        let another = try await service.start(for: user)
        let tokens = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<4 {
                group.addTask { try? await service.refresh(another.refreshToken).refreshToken }
            }
            return await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(tokens.count == 1 && tokens.first! != nil)
    }
}

@Suite("Refresh sessions in memory")
struct RefreshSessionTests {
    @Test("the policy: first use rotates, within 10 s reissues, later is reuse; revoked and expired refuse")
    func policy() {
        let policy = RefreshPolicy(graceWindow: 10, lifetime: 100)
        let t0 = Date()
        var session = RefreshSession(
            id: 1,
            familyID: UUID(),
            parentID: nil,
            userID: 1,
            createdAt: t0,
            expiresAt: t0.addingTimeInterval(100),
            rotatedAt: nil,
            revokedAt: nil
        )
        #expect(policy.decide(session, now: t0) == .rotate)
        #expect(policy.decide(session, now: t0.addingTimeInterval(100)) == .expired)
        session.rotatedAt = t0
        #expect(policy.decide(session, now: t0.addingTimeInterval(9.9)) == .reissueWithinGrace)
        #expect(policy.decide(session, now: t0.addingTimeInterval(10)) == .reuseDetected)
        session.revokedAt = t0.addingTimeInterval(1)
        #expect(policy.decide(session, now: t0.addingTimeInterval(5)) == .revoked)
        #expect(policy.decide(session, now: t0.addingTimeInterval(50)) == .reuseDetected)
    }

    @Test("rotation, grace window, reuse revokes the family and then the newest token")
    func rotationAndGrace() async throws {
        try await RefreshScenarios.rotationAndGrace(users: InMemoryUserRepository(), sessions: InMemoryRefreshSessionRepository())
    }

    @Test("a replay within the grace window gets the same successor, not a fork; the next reuse revokes the family")
    func graceDoesNotFork() async throws {
        try await RefreshScenarios.graceDoesNotFork(users: InMemoryUserRepository(), sessions: InMemoryRefreshSessionRepository())
    }

    @Test("reuse revokes only its own family")
    func reuseRevokesOnlyItsFamily() async throws {
        try await RefreshScenarios.reuseRevokesOnlyItsFamily(users: InMemoryUserRepository(), sessions: InMemoryRefreshSessionRepository())
    }

    @Test("logout revokes the family and is idempotent")
    func logout() async throws {
        try await RefreshScenarios.logout(users: InMemoryUserRepository(), sessions: InMemoryRefreshSessionRepository())
    }

    @Test("expired, unknown and missing tokens are refused")
    func expiry() async throws {
        try await RefreshScenarios.expiryAndUnknown(users: InMemoryUserRepository(), sessions: InMemoryRefreshSessionRepository())
    }

    @Test("concurrent refreshes of one token all succeed")
    func concurrent() async throws {
        try await RefreshScenarios.concurrentRefresh(users: InMemoryUserRepository(), sessions: InMemoryRefreshSessionRepository())
    }

    @Test("sign out everywhere revokes every family of the user; a family knows how and when its login happened")
    func revokeAll() async throws {
        try await RefreshScenarios.revokeAllAndFamily(users: InMemoryUserRepository(), sessions: InMemoryRefreshSessionRepository())
    }

    @Test("a deactivated account cannot refresh")
    func deactivated() async throws {
        let users = InMemoryUserRepository()
        let service = try await RefreshScenarios.makeService(users: users, sessions: InMemoryRefreshSessionRepository())
        let user = try await RefreshScenarios.makeUser(users)
        let issued = try await service.start(for: user)
        users.deactivate(userID: user.id)
        await #expect(throws: SessionService.RefreshFailure.revoked) { try await service.refresh(issued.refreshToken) }
    }

    @Test("a refresh family ends at its absolute age however often it is rotated")
    func familyMaxAge() async throws {
        try await RefreshScenarios.familyMaxAge(users: InMemoryUserRepository(), sessions: InMemoryRefreshSessionRepository())
    }

    @Test("the policy caps a token's expiry at its family's and refuses an expired family")
    func familyExpiryPolicy() {
        let policy = RefreshPolicy(graceWindow: 10, lifetime: 60, maxFamilyAge: 100)
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let familyEnd = policy.familyExpiry(loginAt: t0)
        #expect(familyEnd == t0.addingTimeInterval(100))
        #expect(policy.tokenExpiry(now: t0, familyExpiresAt: familyEnd) == t0.addingTimeInterval(60))
        #expect(policy.tokenExpiry(now: t0.addingTimeInterval(70), familyExpiresAt: familyEnd) == familyEnd)
        let session = RefreshSession(
            id: 1, familyID: UUID(), parentID: nil, userID: 1, createdAt: t0, expiresAt: t0.addingTimeInterval(500),
            rotatedAt: nil, revokedAt: nil, familyExpiresAt: familyEnd
        )
        #expect(policy.decide(session, now: t0.addingTimeInterval(99)) == .rotate)
        #expect(policy.decide(session, now: t0.addingTimeInterval(100)) == .expired)
    }

    @Test("login attempts count per email and client: an attacker's failures do not block the owner")
    func loginAttemptsPerClient() async throws {
        try await LoginAttemptScenarios.perClient(InMemoryLoginAttemptRepository())
    }

    @Test("login attempts: 5 within the window, then blocked until the oldest leaves it")
    func loginAttempts() async throws {
        let attempts = InMemoryLoginAttemptRepository()
        let t0 = Date()
        for i in 0..<5 {
            #expect(try await attempts.reserve(email: "a@example.com", client: "203.0.113.7", limit: 5, window: 900, now: t0.addingTimeInterval(Double(i))) == .allowed)
        }
        #expect(
            try await attempts.reserve(email: "a@example.com", client: "203.0.113.7", limit: 5, window: 900, now: t0.addingTimeInterval(10)) == .blocked(retryAfter: 890)
        )
        #expect(try await attempts.reserve(email: "b@example.com", client: "203.0.113.7", limit: 5, window: 900, now: t0.addingTimeInterval(10)) == .allowed)
        #expect(try await attempts.reserve(email: "a@example.com", client: "203.0.113.7", limit: 5, window: 900, now: t0.addingTimeInterval(900)) == .allowed)
        try await attempts.reset(email: "a@example.com")
        for _ in 0..<5 {
            #expect(try await attempts.reserve(email: "a@example.com", client: "203.0.113.7", limit: 5, window: 900, now: t0.addingTimeInterval(901)) == .allowed)
        }
    }
}

/// The login lockout counts per email and client (security review M4); run against any repository.
enum LoginAttemptScenarios {
    static func perClient(_ attempts: any LoginAttemptRepository) async throws {
        let t0 = Date()
        let email = "owner\(UInt32.random(in: 0...UInt32.max))@example.com"
        for _ in 0..<5 { #expect(try await attempts.reserve(email: email, client: "203.0.113.66", limit: 5, window: 900, now: t0) == .allowed) }
        #expect(try await attempts.reserve(email: email, client: "203.0.113.66", limit: 5, window: 900, now: t0) == .blocked(retryAfter: 900))
        // The owner's address has its own count; its success clears only its own.
        #expect(try await attempts.reserve(email: email, client: "198.51.100.20", limit: 5, window: 900, now: t0) == .allowed)
        try await attempts.reset(email: email, client: "198.51.100.20")
        #expect(try await attempts.reserve(email: email, client: "203.0.113.66", limit: 5, window: 900, now: t0) == .blocked(retryAfter: 900))
        // Deleting the account forgets every client's attempts.
        try await attempts.reset(email: email)
        #expect(try await attempts.reserve(email: email, client: "203.0.113.66", limit: 5, window: 900, now: t0) == .allowed)
    }
}
