import ECGPlatform
import Foundation

// MARK: - Requests

struct SignupRequest: Decodable, Sendable {
    let username: String
    let email: String
    let password: String
}

struct LoginRequest: Decodable, Sendable {
    let email: String
    let password: String
}

/// `POST /api/auth/password`.
struct ChangePasswordRequest: Decodable, Sendable {
    let current_password: String
    let new_password: String
}

/// `DELETE /api/auth/me`: the password, for accounts that have one; Google-only accounts may send `{}` or no body.
struct DeleteAccountRequest: Decodable, Sendable {
    let password: String?
}

// MARK: - Responses

/// `user` in signup and login answers.
struct UserSummary: Codable, Sendable, Equatable {
    let id: Int64
    let username: String
    let email: String
    let is_active: Bool

    init(_ user: User) {
        id = user.id
        username = user.username
        email = user.email
        is_active = user.isActive
    }
}

/// Signup (201) and login (200).
struct SessionResponse: Codable, Sendable {
    let access_token: String
    let token_type: String
    /// Seconds until the access token expires.
    let expires_in: Int
    let user: UserSummary
}

/// Refresh (200).
struct AccessTokenResponse: Codable, Sendable {
    let access_token: String
    let token_type: String
    let expires_in: Int
}

/// `GET /api/auth/me`.
struct MeResponse: Codable, Sendable {
    let id: Int64
    let username: String
    let email: String
    let auth_provider: String
    let is_active: Bool
    /// ISO 8601, UTC, with `Z`.
    let created_at: String

    init(_ user: User) {
        id = user.id
        username = user.username
        email = user.email
        auth_provider = user.authProvider.rawValue
        is_active = user.isActive
        created_at = user.createdAt.formatted(.iso8601)
    }
}

struct MessageResponse: Codable, Sendable {
    let message: String
}

// MARK: - OpenAPI schemas

enum AuthSchemas {
    static let user = JSONSchema.record(["id": .integer(), "username": .text, "email": .string(format: "email"), "is_active": .boolean])
    static let session = JSONSchema.record([
        "access_token": .text, "token_type": .string(enumValues: ["bearer"]), "expires_in": .integer(minimum: 1), "user": user,
    ])
    static let accessToken = JSONSchema.record([
        "access_token": .text, "token_type": .string(enumValues: ["bearer"]), "expires_in": .integer(minimum: 1),
    ])
    static let me = JSONSchema.record([
        "id": .integer(), "username": .text, "email": .string(format: "email"), "auth_provider": .string(enumValues: ["local", "google"]),
        "is_active": .boolean, "created_at": .dateTime,
    ])
    static let message = JSONSchema.record(["message": .text])
    static let signupRequest = JSONSchema.record([
        "username": .string(minLength: 3, maxLength: 50), "email": .string(format: "email"), "password": .string(minLength: 8, maxLength: 128),
    ])
    static let loginRequest = JSONSchema.record(["email": .string(format: "email"), "password": .text])
    static let changePasswordRequest = JSONSchema.record(["current_password": .text, "new_password": .string(minLength: 8, maxLength: 128)])
    /// `password` is required for accounts with a password; Google-only accounts send `{}`.
    static let deleteAccountRequest = JSONSchema.object(["password": .text])
}
