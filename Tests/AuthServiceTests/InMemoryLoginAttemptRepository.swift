import Foundation
import Synchronization

@testable import AuthService

/// Login attempts in memory, for unit tests.
final class InMemoryLoginAttemptRepository: LoginAttemptRepository {
    private struct Key: Hashable {
        let email: String
        let client: String
    }

    private let attempts = Mutex<[Key: [Date]]>([:])

    init() {}

    func reserve(email: String, client: String, limit: Int, window: TimeInterval, now: Date) async throws -> LoginAttemptDecision {
        let key = Key(email: email, client: client)
        return attempts.withLock { attempts in
            let recent = (attempts[key] ?? []).filter { now.timeIntervalSince($0) < window }.sorted()
            let decision = LoginAttemptDecision.decide(recent: recent, limit: limit, window: window, now: now)
            attempts[key] = decision == .allowed ? recent + [now] : recent
            return decision
        }
    }

    func reset(email: String, client: String) async throws {
        _ = attempts.withLock { $0.removeValue(forKey: Key(email: email, client: client)) }
    }

    func reset(email: String) async throws {
        attempts.withLock { attempts in
            for key in attempts.keys where key.email == email { attempts[key] = nil }
        }
    }

    func deleteOlder(than cutoff: Date) async throws -> Int {
        attempts.withLock { attempts in
            var removed = 0
            for (key, times) in attempts {
                let kept = times.filter { $0 >= cutoff }
                removed += times.count - kept.count
                attempts[key] = kept.isEmpty ? nil : kept
            }
            return removed
        }
    }
}
