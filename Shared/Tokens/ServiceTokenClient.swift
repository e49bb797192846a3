import Foundation
import Synchronization

/// Signs the service tokens a service sends with its outgoing calls (SPEC.md §4):
/// `iss`=`sub`=this service, `aud`=the callee, `typ`=`service`, 5 minutes, reused until a minute before expiry.
package final class ServiceTokenClient: Sendable {
    package let serviceName: String
    private let signer: TokenSigner
    private let lifetime: TimeInterval
    private let cache = Mutex<[String: (token: String, expiresAt: Date)]>([:])

    package init(serviceName: String, signer: TokenSigner, lifetime: TimeInterval = 300) {
        self.serviceName = serviceName
        self.signer = signer
        self.lifetime = min(lifetime, 300)
    }

    /// A bearer token for calls to `audience`.
    package func token(for audience: String, now: Date = Date()) async throws -> String {
        if let cached = cache.withLock({ $0[audience] }), cached.expiresAt.timeIntervalSince(now) > 60 {
            return cached.token
        }
        let signed = try await signer.sign(
            issuer: serviceName,
            audience: audience,
            subject: serviceName,
            type: .service,
            lifetime: lifetime,
            now: now
        )
        cache.withLock { $0[audience] = (signed.token, signed.claims.exp.value) }
        return signed.token
    }
}
