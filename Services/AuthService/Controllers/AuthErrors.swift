import ECGPlatform
import HTTPTypes

/// The answers auth-service gives (SPEC.md §3): the one place where its domain errors get an HTTP
/// status, a `code` and a `detail`. The use cases and repositories throw the domain errors below;
/// the error mapper applies `apiError` to whatever a handler throws.
enum AuthErrors {
    /// One constant: unknown email and wrong password answer with byte-identical responses.
    static let invalidCredentials = APIError.unauthorized("Incorrect email or password.", code: "invalid_credentials")

    static let invalidToken = APIError.unauthorized("The bearer token is invalid or expired.", code: "invalid_token")

    static let googleNotConfigured = APIError(
        .serviceUnavailable,
        code: "google_not_configured",
        detail: "Google sign-in is not configured on this server."
    )

    /// 429 once an email's password checks reach the login limit (login, password change, account deletion).
    static func tooManyAttempts(retryAfter: Int) -> APIError {
        APIError(
            .tooManyRequests,
            code: "too_many_attempts",
            detail: "Too many failed logins for this email. Try again in \(retryAfter) seconds.",
            headers: [.retryAfter: String(retryAfter)]
        )
    }

    /// 429 from the per-client or the global rate limit of login and signup.
    static func rateLimited(_ refusal: PasswordRouteLimits.Refusal) -> APIError {
        let (retryAfter, detail) =
            switch refusal {
            case .client(let retryAfter): (retryAfter, "Too many login and signup requests from your address. Try again in \(retryAfter) seconds.")
            case .global(let retryAfter): (retryAfter, "The server is handling too many logins right now. Try again in \(retryAfter) seconds.")
            }
        return APIError(.tooManyRequests, code: "rate_limited", detail: detail, headers: [.retryAfter: String(retryAfter)])
    }
}

extension AccountService.Failure: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .invalidCredentials, .malformedEmail:
            AuthErrors.invalidCredentials
        case .accountGone:
            AuthErrors.invalidToken
        case .wrongPassword:
            APIError.unauthorized("Incorrect password.", code: "invalid_credentials")
        case .tooManyAttempts(let retryAfter):
            AuthErrors.tooManyAttempts(retryAfter: retryAfter)
        case .noPassword:
            APIError(
                .conflict,
                code: "no_password",
                detail: "This account signs in with Google and has no password to change."
            )
        case .passwordRequired:
            APIError.validation(field: "password", "field required: give this account's password to delete it")
        case .reauthenticationRequired:
            APIError(
                .forbidden,
                code: "reauthentication_required",
                detail: "Deleting a Google account needs a recent sign-in: sign in with Google again, then delete the account within 5 minutes."
            )
        }
    }
}

extension UserConflict: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .emailTaken: APIError(.conflict, code: "email_taken", detail: "An account with this email already exists.")
        case .usernameTaken: APIError(.conflict, code: "username_taken", detail: "This username is taken.")
        case .googleSubjectTaken: APIError(.conflict, code: "google_account_taken", detail: "This Google account is linked to another user.")
        }
    }
}

extension SessionService.RefreshFailure: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .reused:
            APIError.unauthorized(
                "This refresh token was already used; every session of this login has been signed out. Log in again.",
                code: "refresh_token_reused"
            )
        case .missing:
            APIError.unauthorized("No refresh token: log in first.", code: "invalid_refresh_token")
        case .unknown, .expired, .revoked:
            APIError.unauthorized("The refresh token is invalid, expired or revoked. Log in again.", code: "invalid_refresh_token")
        }
    }
}
