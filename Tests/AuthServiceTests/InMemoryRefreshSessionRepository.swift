import Foundation
import Synchronization

@testable import AuthService

/// Refresh sessions in memory, for unit tests.
final class InMemoryRefreshSessionRepository: RefreshSessionRepository {
    private struct Family {
        let userID: Int64
        let createdAt: Date
        let expiresAt: Date
        let authenticatedWith: AuthenticationMethod
        var revokedAt: Date?
        var revokedReason: RevocationReason?
    }

    private struct Token {
        let id: Int64
        let familyID: UUID
        let parentID: Int64?
        let createdAt: Date
        let expiresAt: Date
        var rotatedAt: Date?
        var successorSealed: Data?
    }

    private struct State {
        var families: [UUID: Family] = [:]
        var tokens: [Data: Token] = [:]
        var nextID: Int64 = 1
    }

    private let state = Mutex(State())

    init() {}

    func start(userID: Int64, tokenHash: Data, expiresAt: Date, familyExpiresAt: Date, method: AuthenticationMethod, now: Date) async throws
        -> RefreshSession
    {
        state.withLock { state in
            let familyID = UUID()
            state.families[familyID] = Family(userID: userID, createdAt: now, expiresAt: familyExpiresAt, authenticatedWith: method)
            let token = Token(id: state.nextID, familyID: familyID, parentID: nil, createdAt: now, expiresAt: expiresAt)
            state.nextID += 1
            state.tokens[tokenHash] = token
            return Self.session(token, state.families[familyID]!)
        }
    }

    func exchange(presentedHash: Data, replacementHash: Data, sealedReplacement: Data, policy: RefreshPolicy, now: Date) async throws
        -> RefreshExchange
    {
        state.withLock { state in
            guard let token = state.tokens[presentedHash], let family = state.families[token.familyID] else { return .unknown }
            let decision = policy.decide(Self.session(token, family), now: now)
            switch decision {
            case .reissueWithinGrace:
                return .repeated(userID: family.userID, sealedSuccessor: token.successorSealed)
            case .rotate:
                state.tokens[presentedHash]?.rotatedAt = now
                state.tokens[presentedHash]?.successorSealed = sealedReplacement
                let successor = Token(
                    id: state.nextID,
                    familyID: token.familyID,
                    parentID: token.id,
                    createdAt: now,
                    expiresAt: policy.tokenExpiry(now: now, familyExpiresAt: family.expiresAt)
                )
                state.nextID += 1
                state.tokens[replacementHash] = successor
                return .issued(Self.session(successor, family), decision: decision)
            case .reuseDetected:
                if state.families[token.familyID]?.revokedAt == nil {
                    state.families[token.familyID]?.revokedAt = now
                    state.families[token.familyID]?.revokedReason = .reuse
                }
                return .refused(decision)
            case .revoked, .expired:
                return .refused(decision)
            }
        }
    }

    func revokeFamily(containing tokenHash: Data, reason: RevocationReason, now: Date) async throws -> Bool {
        state.withLock { state in
            guard let token = state.tokens[tokenHash] else { return false }
            if state.families[token.familyID]?.revokedAt == nil {
                state.families[token.familyID]?.revokedAt = now
                state.families[token.familyID]?.revokedReason = reason
            }
            return true
        }
    }

    func revokeAll(userID: Int64, reason: RevocationReason, now: Date) async throws -> Int {
        state.withLock { state in
            var revoked = 0
            for (id, family) in state.families where family.userID == userID && family.revokedAt == nil {
                state.families[id]?.revokedAt = now
                state.families[id]?.revokedReason = reason
                revoked += 1
            }
            return revoked
        }
    }

    func family(containing tokenHash: Data) async throws -> RefreshFamily? {
        state.withLock { state in
            guard let token = state.tokens[tokenHash], let family = state.families[token.familyID] else { return nil }
            return RefreshFamily(
                id: token.familyID,
                userID: family.userID,
                createdAt: family.createdAt,
                authenticatedWith: family.authenticatedWith,
                revokedAt: family.revokedAt
            )
        }
    }

    func deleteExpired(before cutoff: Date) async throws -> Int {
        state.withLock { state in
            let live = Set(state.tokens.values.filter { $0.expiresAt >= cutoff }.map(\.familyID))
            let dead = Set(state.families.keys).subtracting(live)
            state.families = state.families.filter { !dead.contains($0.key) }
            state.tokens = state.tokens.filter { !dead.contains($0.value.familyID) }
            return dead.count
        }
    }

    /// Forgets every family of the user and their tokens (the account was deleted).
    func removeAll(userID: Int64) {
        state.withLock { state in
            let gone = Set(state.families.filter { $0.value.userID == userID }.keys)
            state.families = state.families.filter { !gone.contains($0.key) }
            state.tokens = state.tokens.filter { !gone.contains($0.value.familyID) }
        }
    }

    /// Test hook: how many families the user has, revoked or not.
    func familyCount(userID: Int64) -> Int {
        state.withLock { $0.families.values.filter { $0.userID == userID }.count }
    }

    /// Test hook: why a family was revoked.
    func revocationReason(familyID: UUID) -> RevocationReason? {
        state.withLock { $0.families[familyID]?.revokedReason }
    }

    private static func session(_ token: Token, _ family: Family) -> RefreshSession {
        RefreshSession(
            id: token.id,
            familyID: token.familyID,
            parentID: token.parentID,
            userID: family.userID,
            createdAt: token.createdAt,
            expiresAt: token.expiresAt,
            rotatedAt: token.rotatedAt,
            revokedAt: family.revokedAt,
            familyExpiresAt: family.expiresAt
        )
    }
}
