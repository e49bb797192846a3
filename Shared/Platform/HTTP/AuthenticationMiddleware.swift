import ECGEvents
import ECGTokens
import Foundation
import Hummingbird

/// Requires a bearer token that `verifier` accepts and puts the caller into the context.
/// Public routes use a verifier for user access tokens; `/internal/*` routes one for service tokens.
package struct BearerAuthenticationMiddleware<Context: ECGRequestContextProtocol>: RouterMiddleware {
    private let verifier: TokenVerifier
    private let deletedUsers: DeletedUsers?

    /// - Parameter deletedUsers: whose tokens are refused although valid (their account was deleted).
    package init(verifier: TokenVerifier, deletedUsers: DeletedUsers? = nil) {
        self.verifier = verifier
        self.deletedUsers = deletedUsers
    }

    package func handle(_ request: Request, context: Context, next: @concurrent (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIError.unauthorized()
        }
        let token = String(header.dropFirst(7).drop { $0 == " " || $0 == "\t" })
        do {
            var context = context
            let identity = try await verifier.verify(token)
            if let deletedUsers, let userID = UserID(identity.subject), deletedUsers.contains(userID) {
                context.logger.info("bearer token refused", metadata: ["reason": "the account was deleted"])
                throw APIError.unauthorized("The account this token belongs to was deleted.", code: "invalid_token")
            }
            context.identity = identity
            return try await next(request, context)
        } catch let error as TokenError {
            context.logger.info("bearer token refused", metadata: ["reason": "\(error)"])
            if case .keysUnavailable = error {
                throw APIError(.serviceUnavailable, code: "auth_keys_unavailable", detail: "Token keys are unavailable right now; try again shortly.")
            }
            throw APIError.unauthorized("The bearer token is invalid or expired.", code: "invalid_token")
        }
    }
}
