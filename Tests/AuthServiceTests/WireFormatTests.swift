import ECGPlatform
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import AuthService

/// The bodies auth-service answers, byte for byte (keys sorted, as JSON objects have no order), for fixed
/// values: a change in Swift names or types (camelCase properties, typed ids) must not change them.
@Suite("auth-service bodies on the wire")
struct WireFormatTests {
    static let user = ResponseSchemaTests.localUser
    static let token = ResponseSchemaTests.accessToken

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The body the error mapper sends for `error` (with sorted keys, as it encodes them).
    static func errorBody(_ error: any Error) throws -> String {
        let apiError = ErrorMapper.apiError(for: error, logger: Logger(label: "wire"))
        return try json(ErrorBody(detail: apiError.detail, code: apiError.code))
    }

    @Test("signup (201) and login (200): the session with the account")
    func session() throws {
        let body = try Self.json(SessionResponse(accessToken: Self.token, tokenType: "bearer", expiresIn: 900, user: UserSummary(Self.user)))
        #expect(
            body
                == #"{"access_token":"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl","expires_in":900,"token_type":"bearer","#
                + #""user":{"email":"jimin@example.com","id":42,"is_active":true,"username":"지민_lee"}}"#,
            "\(body)"
        )
    }

    @Test("refresh and password change (200): a new access token")
    func accessToken() throws {
        let body = try Self.json(AccessTokenResponse(accessToken: Self.token, tokenType: "bearer", expiresIn: 900))
        #expect(body == #"{"access_token":"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl","expires_in":900,"token_type":"bearer"}"#, "\(body)")
    }

    @Test("me (200): a local and a deactivated Google account; created_at in whole seconds with Z")
    func me() throws {
        let local = try Self.json(MeResponse(Self.user))
        #expect(
            local
                == #"{"auth_provider":"local","created_at":"2025-09-09T12:30:00Z","email":"jimin@example.com","id":42,"is_active":true,"username":"지민_lee"}"#,
            "\(local)"
        )
        let google = try Self.json(MeResponse(ResponseSchemaTests.googleUser))
        #expect(
            google
                == #"{"auth_provider":"google","created_at":"2025-09-09T12:30:00Z","email":"sam@gmail.example.com","id":7,"is_active":false,"username":"g-sam"}"#,
            "\(google)"
        )
    }

    @Test("logout (200), logout-all (200) and account deletion (202): their messages")
    func messages() throws {
        #expect(try Self.json(MessageResponse(message: AuthController.logoutMessage)) == #"{"message":"로그아웃 되었습니다."}"#)
        #expect(try Self.json(MessageResponse(message: AccountController.logoutAllMessage)) == #"{"message":"모든 기기에서 로그아웃 되었습니다."}"#)
        #expect(try Self.json(MessageResponse(message: AccountController.deletedMessage)) == #"{"message":"계정이 삭제되었습니다."}"#)
    }

    @Test("error bodies: {code, detail} as the error mapper sends them")
    func errors() throws {
        #expect(
            try Self.errorBody(AccountService.Failure.invalidCredentials)
                == #"{"code":"invalid_credentials","detail":"Incorrect email or password."}"#
        )
        #expect(
            try Self.errorBody(SessionService.RefreshFailure.reused)
                == #"{"code":"refresh_token_reused","detail":"This refresh token was already used; every session of this login has been signed out. Log in again."}"#
        )
        #expect(
            try Self.errorBody(UserConflict.emailTaken)
                == #"{"code":"email_taken","detail":"An account with this email already exists."}"#
        )
        #expect(
            try Self.errorBody(AccountService.Failure.tooManyAttempts(retryAfter: 60))
                == #"{"code":"too_many_attempts","detail":"Too many failed logins for this email. Try again in 60 seconds."}"#
        )
        #expect(
            try Self.errorBody(AccountService.Failure.passwordRequired)
                == #"{"code":"validation_error","detail":"password: field required: give this account's password to delete it"}"#
        )
    }

    @Test("through the production router: logout's body and the login 401, byte for byte")
    func routerBytes() async throws {
        let app = try await TestAuthApp()
        try await app.application.test(.router) { client in
            let logout = try await client.execute(uri: "/api/auth/logout", method: .post)
            #expect(logout.text == #"{"message":"로그아웃 되었습니다."}"#)
            #expect(logout.headers[.contentType] == "application/json; charset=utf-8")
            let refused = try await client.post("/api/auth/login", json: ["email": "nobody@example.com", "password": "password123"])
            #expect(refused.status == .unauthorized)
            #expect(refused.text == #"{"code":"invalid_credentials","detail":"Incorrect email or password."}"#)
        }
    }
}
