import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A signed-in user's own account: change the password, sign out everywhere, delete the account
/// (docs/auth-account.md). Every route reads the user row first, so a token whose account was
/// deleted is refused here even while the verified-token cache still holds it.
struct AccountController: Sendable {
    let accounts: AccountService
    let cookie: RefreshCookie
    let accessTokenLifetime: Int
    /// Who the client is: password checks count toward the login limit of the email and this address.
    var clientAddresses = ClientAddressResolver(trustedProxyHops: AuthSettings.RateLimits.defaults.trustedProxyHops)

    static let logoutAllMessage = "모든 기기에서 로그아웃 되었습니다."
    static let deletedMessage = "계정이 삭제되었습니다."

    func addRoutes<Authenticated: RouterMethods>(to authenticated: DocumentedRoutes<Authenticated>)
    where Authenticated.Context == ECGRequestContext {
        let unauthorized = OpenAPIOperation.Response("Missing, invalid or expired bearer token, or the account is gone (invalid_token)", .error)
        authenticated.post(
            "/api/auth/password",
            OpenAPIOperation(
                "Change the password. Every refresh session of the account is revoked (this device's too) and this device gets a new "
                    + "access token and a new `refresh_token` cookie. A wrong current password counts toward the login limit.",
                body: AuthSchemas.changePasswordRequest,
                responses: [
                    200: .init("The new access token; the refresh cookie is replaced", AuthSchemas.accessToken),
                    400: .init("Malformed JSON (invalid_json)", .error),
                    401: .init("invalid_credentials (wrong current password), or invalid_token", .error),
                    409: .init("no_password: a Google-only account has no password to change", .error),
                    422: .init("validation_error naming the field (new_password: 8 to 128 characters)", .error),
                    429: .init("too_many_attempts: 5 failed password checks for this account within 15 minutes; see Retry-After", .error),
                ]
            ),
            use: changePassword
        )
        authenticated.post(
            "/api/auth/logout-all",
            OpenAPIOperation(
                "Sign out everywhere: revoke every refresh session of the account and clear this device's cookie",
                responses: [200: .init("Signed out on every device", AuthSchemas.message), 401: unauthorized]
            ),
            use: logoutAll
        )
        authenticated.on(
            .delete,
            "/api/auth/me",
            OpenAPIOperation(
                "Delete the account: `{password}` for an account with a password; a Google-only account sends `{}` (or nothing) "
                    + "with the `refresh_token` cookie of a Google sign-in less than 5 minutes old. The user's sessions, login attempts "
                    + "and row are deleted and `ecg.auth.user.deleted.v1` is published on `ecg.auth.events`; media-service and "
                    + "analysis-service then delete the user's videos and jobs.",
                body: AuthSchemas.deleteAccountRequest,
                responses: [
                    202: .init("Deleted here; the other services delete the user's data on the event", AuthSchemas.message),
                    400: .init("Malformed JSON (invalid_json)", .error),
                    401: .init("invalid_credentials (wrong password), or invalid_token", .error),
                    403: .init("reauthentication_required: a Google-only account must sign in with Google again first", .error),
                    422: .init("validation_error: password is required for an account with a password", .error),
                    429: .init("too_many_attempts: 5 failed password checks for this account within 15 minutes; see Retry-After", .error),
                ],
                headers: [("Cookie", false)]
            ),
            use: deleteAccount
        )
    }

    // MARK: - Handlers

    @Sendable func changePassword(_ request: Request, context: ECGRequestContext) async throws -> Response {
        let user = try await currentUser(context)
        // Before the body, so that a Google-only account hears why whatever it sent.
        guard user.passwordHash != nil else { throw AccountService.Failure.noPassword }
        let body = try await request.decodeJSON(ChangePasswordRequest.self, context: context)
        let issued: SessionService.Issued
        do {
            issued = try await accounts.changePassword(
                of: user,
                current: body.currentPassword,
                new: body.newPassword,
                client: clientAddresses.clientKey(headers: request.headers, peer: context.peerAddress)
            )
        } catch let failure as AccountService.Failure {
            context.logger.info("password change refused", metadata: ["reason": "\(failure)"])
            throw failure
        }
        context.logger.info("password changed; every session revoked", metadata: ["user_id": "\(user.id)"])
        var response = try JSONResponse(
            AccessTokenResponse(accessToken: issued.accessToken, tokenType: "bearer", expiresIn: accessTokenLifetime),
            headers: [.cacheControl: "no-store"]
        ).response(from: request, context: context)
        response.setCookie(cookie.setting(issued.refreshToken))
        return response
    }

    @Sendable func logoutAll(_ request: Request, context: ECGRequestContext) async throws -> Response {
        let user = try await currentUser(context)
        let revoked = try await accounts.signOutEverywhere(user)
        context.logger.info("signed out everywhere", metadata: ["user_id": "\(user.id)", "families": "\(revoked)"])
        var response = try JSONResponse(MessageResponse(message: Self.logoutAllMessage), headers: [.cacheControl: "no-store"])
            .response(from: request, context: context)
        response.setCookie(cookie.clearing())
        return response
    }

    @Sendable func deleteAccount(_ request: Request, context: ECGRequestContext) async throws -> Response {
        let user = try await currentUser(context)
        let body = try await Self.decodeOptionalJSON(DeleteAccountRequest.self, request, context: context)
        do {
            try await accounts.delete(
                user,
                password: body?.password,
                refreshToken: RefreshCookie.token(in: request),
                client: clientAddresses.clientKey(headers: request.headers, peer: context.peerAddress)
            )
        } catch let failure as AccountService.Failure {
            context.logger.info("account deletion refused", metadata: ["reason": "\(failure)"])
            throw failure
        }
        context.logger.info("account deleted", metadata: ["user_id": "\(user.id)"])
        var response = try JSONResponse(MessageResponse(message: Self.deletedMessage), status: .accepted, headers: [.cacheControl: "no-store"])
            .response(from: request, context: context)
        response.setCookie(cookie.clearing())
        return response
    }

    // MARK: - Helpers

    /// The account of the bearer token, read from the database: a deleted or deactivated account is a 401
    /// even for a token that verifies (and may sit in the verified-token cache).
    private func currentUser(_ context: ECGRequestContext) async throws -> User {
        guard let id = Int64(try context.requireIdentity().subject) else { throw AccountService.Failure.accountGone }
        return try await accounts.account(id: id)
    }

    /// A JSON body that may be absent: nil for an empty body, else decoded as `decodeJSON` does
    /// (413 over 64 KiB, 400 `invalid_json`, 422 naming the field).
    static func decodeOptionalJSON<T: Decodable>(_ type: T.Type, _ request: Request, context: ECGRequestContext) async throws -> T? {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > HTTPLimits.maxBodyBytes {
            throw APIError.payloadTooLarge
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: HTTPLimits.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge
        }
        guard buffer.readableBytesView.contains(where: { !Self.isJSONWhitespace($0) }) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: buffer)
        } catch let error as DecodingError {
            throw ErrorMapper.apiError(for: error, logger: context.logger)
        }
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }
}
