import Foundation
import Logging
import PostgresNIO

/// Accounts in `<schema>.users`.
struct PostgresUserRepository: UserRepository {
    let client: PostgresClient
    /// The service's schema (`auth`); validated by `PostgresSchema`, so it may be spliced into SQL.
    let schema: PostgresSchema
    let logger: Logger

    private static let columns = "id, username, email, password_hash, auth_provider, google_sub, is_active, created_at"

    func create(_ user: NewUser) async throws -> User {
        do {
            let rows = try await client.query(
                """
                INSERT INTO \(unescaped: schema.name).users (username, username_key, email, password_hash, auth_provider, google_sub)
                VALUES (\(user.username), \(user.usernameKey), \(user.email), \(user.passwordHash), \(user.authProvider.rawValue), \(user.googleSubject))
                RETURNING \(unescaped: Self.columns)
                """,
                logger: logger
            )
            guard let created = try await Self.decodeFirst(rows) else { throw PostgresRepositoryError.noRowReturned }
            return created
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw {
            switch error.serverInfo?[.constraintName] {
            case "users_email_key": throw UserConflict.emailTaken
            case "users_username_key_key": throw UserConflict.usernameTaken
            case "users_google_sub_key": throw UserConflict.googleSubjectTaken
            default: throw error
            }
        }
    }

    func find(id: Int64) async throws -> User? {
        try await Self.decodeFirst(
            client.query("SELECT \(unescaped: Self.columns) FROM \(unescaped: schema.name).users WHERE id = \(id)", logger: logger)
        )
    }

    func find(email: String) async throws -> User? {
        try await Self.decodeFirst(
            client.query("SELECT \(unescaped: Self.columns) FROM \(unescaped: schema.name).users WHERE email = \(email)", logger: logger)
        )
    }

    func find(googleSubject: String) async throws -> User? {
        try await Self.decodeFirst(
            client.query("SELECT \(unescaped: Self.columns) FROM \(unescaped: schema.name).users WHERE google_sub = \(googleSubject)", logger: logger)
        )
    }

    func conflict(email: String, username: String) async throws -> UserConflict? {
        let key = Validators.usernameKey(username)
        let rows = try await client.query(
            """
            SELECT EXISTS (SELECT 1 FROM \(unescaped: schema.name).users WHERE email = \(email)),
                   EXISTS (SELECT 1 FROM \(unescaped: schema.name).users WHERE username_key = \(key))
            """,
            logger: logger
        )
        for try await (emailTaken, usernameTaken) in rows.decode((Bool, Bool).self) {
            if emailTaken { return .emailTaken }
            if usernameTaken { return .usernameTaken }
        }
        return nil
    }

    func linkGoogle(userID: Int64, subject: String) async throws -> User? {
        do {
            return try await Self.decodeFirst(
                client.query(
                    """
                    UPDATE \(unescaped: schema.name).users SET google_sub = \(subject), updated_at = now()
                    WHERE id = \(userID) AND (google_sub IS NULL OR google_sub = \(subject))
                    RETURNING \(unescaped: Self.columns)
                    """,
                    logger: logger
                )
            )
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw {
            return nil
        }
    }

    private static func decodeFirst(_ rows: PostgresRowSequence) async throws -> User? {
        for try await (id, username, email, passwordHash, provider, googleSubject, isActive, createdAt) in rows.decode(
            (Int64, String, String, String?, String, String?, Bool, Date).self
        ) {
            return User(
                id: id,
                username: username,
                email: email,
                passwordHash: passwordHash,
                authProvider: User.Provider(rawValue: provider) ?? .local,
                googleSubject: googleSubject,
                isActive: isActive,
                createdAt: createdAt
            )
        }
        return nil
    }
}

/// A schema name checked against `[a-z_][a-z0-9_]*`: identifiers cannot be bound parameters, so
/// only validated names are spliced into SQL.
struct PostgresSchema: Sendable, Equatable {
    let name: String

    init(_ name: String) throws {
        guard name.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil else {
            throw PostgresRepositoryError.invalidSchemaName(name)
        }
        self.name = name
    }
}

enum PostgresRepositoryError: Error, CustomStringConvertible {
    case invalidSchemaName(String)
    case noRowReturned

    var description: String {
        switch self {
        case .invalidSchemaName(let name): "schema name \(name) must match [a-z_][a-z0-9_]*"
        case .noRowReturned: "the statement returned no row"
        }
    }
}
