import Foundation
import Logging
import ServiceLifecycle

/// Keeps the session and login-attempt tables small: hourly, forgets refresh families whose tokens
/// all expired a day ago and login attempts older than a day. Safe on every replica at once.
struct AuthMaintenance: Service {
    let sessions: any RefreshSessionRepository
    let attempts: any LoginAttemptRepository
    let logger: Logger
    var interval: Duration = .seconds(3600)
    var firstDelay: Duration = .seconds(60)

    func run() async throws {
        // Ends quietly on graceful shutdown: a throwing run() would make the service group exit non-zero.
        await cancelWhenGracefulShutdown {
            guard (try? await Task.sleep(for: firstDelay)) != nil else { return }
            while !Task.isCancelled {
                await sweep(now: Date())
                guard (try? await Task.sleep(for: interval)) != nil else { return }
            }
        }
    }

    func sweep(now: Date) async {
        let cutoff = now.addingTimeInterval(-86_400)
        do {
            let families = try await sessions.deleteExpired(before: cutoff)
            let attempts = try await attempts.deleteOlder(than: cutoff)
            logger.debug("auth maintenance", metadata: ["expired_families": "\(families)", "old_login_attempts": "\(attempts)"])
        } catch {
            logger.warning("auth maintenance failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}
