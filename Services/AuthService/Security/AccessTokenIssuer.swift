import ECGPlatform
import ECGTokens
import Foundation

/// Signs user access tokens (SPEC.md §3): EdDSA with the current user-token key's `kid`,
/// `iss` auth-service, `aud` ecg-api, `sub` the user id, `typ` access, `ACCESS_TOKEN_TTL_SECONDS`.
struct AccessTokenIssuer: Sendable {
    let signer: TokenSigner
    let lifetime: TimeInterval

    func issue(for userID: Int64, now: Date = Date()) async throws -> String {
        try await signer.sign(
            issuer: ServiceKeys.userTokenIssuer,
            audience: ServiceKeys.userTokenAudience,
            subject: String(userID),
            type: .access,
            lifetime: lifetime,
            now: now
        ).token
    }
}
