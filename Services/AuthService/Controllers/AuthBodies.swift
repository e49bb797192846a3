import ECGPlatform
import Foundation

// The request and response bodies of auth-service's routes: camelCase in Swift, SPEC's snake_case on
// the wire (each type's `CodingKeys`); `WireFormatTests` pins the bytes.

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
    let currentPassword: String
    let newPassword: String

    enum CodingKeys: String, CodingKey {
        case currentPassword = "current_password"
        case newPassword = "new_password"
    }
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
    let isActive: Bool

    init(_ user: User) {
        id = user.id
        username = user.username
        email = user.email
        isActive = user.isActive
    }

    enum CodingKeys: String, CodingKey {
        case id, username, email
        case isActive = "is_active"
    }
}

/// Signup (201) and login (200).
struct SessionResponse: Codable, Sendable {
    let accessToken: String
    let tokenType: String
    /// Seconds until the access token expires.
    let expiresIn: Int
    let user: UserSummary

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case user
    }
}

/// Refresh (200) and password change (200).
struct AccessTokenResponse: Codable, Sendable {
    let accessToken: String
    let tokenType: String
    let expiresIn: Int

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
    }
}

/// `GET /api/auth/me`.
struct MeResponse: Codable, Sendable {
    let id: Int64
    let username: String
    let email: String
    let authProvider: String
    let isActive: Bool
    /// ISO 8601, UTC, with `Z`.
    let createdAt: String

    init(_ user: User) {
        id = user.id
        username = user.username
        email = user.email
        authProvider = user.authProvider.rawValue
        isActive = user.isActive
        createdAt = user.createdAt.formatted(.iso8601)
    }

    enum CodingKeys: String, CodingKey {
        case id, username, email
        case authProvider = "auth_provider"
        case isActive = "is_active"
        case createdAt = "created_at"
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
