import ECGTokens
import Foundation
import Hummingbird

/// Requires a bearer token that `verifier` accepts and puts the caller into the context.
/// Public routes use a verifier for user access tokens; `/internal/*` routes one for service tokens.
public struct BearerAuthenticationMiddleware<Context: ECGRequestContextProtocol>: RouterMiddleware {
    private let verifier: TokenVerifier

    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIError.unauthorized()
        }
        let token = String(header.dropFirst(7).drop { $0 == " " || $0 == "\t" })
        do {
            var context = context
            context.identity = try await verifier.verify(token)
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
