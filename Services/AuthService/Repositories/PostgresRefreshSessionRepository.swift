import ECGEvents
import Foundation
import Logging
import PostgresNIO

/// Refresh sessions in `refresh_families` and `refresh_tokens` (the connection's `search_path`
/// is the service's schema).
///
/// An exchange locks the family row, then the token row (`FOR UPDATE`), decides, and writes in the
/// same transaction; a revocation updates the family row. So two tabs refreshing the same token
/// serialize (the second one sees the first's rotation and falls in the grace window), and a
/// revocation can never miss a successor created at the same moment.
struct PostgresRefreshSessionRepository: RefreshSessionRepository {
    let client: PostgresClient
    let logger: Logger

    func start(userID: Int64, tokenHash: Data, expiresAt: Date, familyExpiresAt: Date, method: AuthenticationMethod, now: Date) async throws
        -> RefreshSession
    {
        let familyID = UUID.random()
        let logger = self.logger
        return try await Self.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO refresh_families (id, user_id, created_at, expires_at, authenticated_with)
                    VALUES (\(familyID), \(userID), \(now), \(familyExpiresAt), \(method.rawValue))
                    """,
                    logger: logger
                )
                let rows = try await connection.query(
                    """
                    INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at)
                    VALUES (\(tokenHash), \(familyID), \(now), \(expiresAt))
                    RETURNING id
                    """,
                    logger: logger
                )
                for try await id in rows.decode(Int64.self) {
                    return RefreshSession(
                        id: id,
                        familyID: familyID,
                        parentID: nil,
                        userID: userID,
                        createdAt: now,
                        expiresAt: expiresAt,
                        rotatedAt: nil,
                        revokedAt: nil,
                        familyExpiresAt: familyExpiresAt
                    )
                }
                throw PostgresRepositoryError.noRowReturned
            }
        }
    }

    func exchange(presentedHash: Data, replacementHash: Data, sealedReplacement: Data, policy: RefreshPolicy, now: Date) async throws
        -> RefreshExchange
    {
        let logger = self.logger
        return try await Self.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> RefreshExchange in
                // Lock the family first (every writer does), then read the token under that lock.
                var familyID: UUID?
                for try await id in try await connection.query(
                    """
                    SELECT f.id FROM refresh_families f
                    JOIN refresh_tokens t ON t.family_id = f.id
                    WHERE t.token_hash = \(presentedHash)
                    FOR UPDATE OF f
                    """,
                    logger: logger
                ).decode(UUID.self) {
                    familyID = id
                }
                guard let familyID else { return .unknown }
                var found: RefreshSession?
                var successorSealed: Data?
                for try await row in try await connection.query(
                    """
                    SELECT t.id, t.parent_id, f.user_id, t.created_at, t.expires_at, t.rotated_at, f.revoked_at, t.successor_sealed,
                           f.expires_at
                    FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
                    WHERE t.token_hash = \(presentedHash)
                    """,
                    logger: logger
                ).decode((Int64, Int64?, Int64, Date, Date, Date?, Date?, Data?, Date).self) {
                    successorSealed = row.7
                    found = RefreshSession(
                        id: row.0,
                        familyID: familyID,
                        parentID: row.1,
                        userID: row.2,
                        createdAt: row.3,
                        expiresAt: row.4,
                        rotatedAt: row.5,
                        revokedAt: row.6,
                        familyExpiresAt: row.8
                    )
                }
                guard let session = found else { return .unknown }

                let decision = policy.decide(session, now: now)
                switch decision {
                case .reissueWithinGrace:
                    return .repeated(userID: session.userID, sealedSuccessor: successorSealed)
                case .rotate:
                    try await connection.query(
                        "UPDATE refresh_tokens SET rotated_at = \(now), successor_sealed = \(sealedReplacement) WHERE id = \(session.id)",
                        logger: logger
                    )
                    let expiresAt = policy.tokenExpiry(now: now, familyExpiresAt: session.familyExpiresAt)
                    var successorID: Int64?
                    for try await id in try await connection.query(
                        """
                        INSERT INTO refresh_tokens (token_hash, family_id, parent_id, created_at, expires_at)
                        VALUES (\(replacementHash), \(familyID), \(session.id), \(now), \(expiresAt))
                        RETURNING id
                        """,
                        logger: logger
                    ).decode(Int64.self) {
                        successorID = id
                    }
                    guard let successorID else { throw PostgresRepositoryError.noRowReturned }
                    let successor = RefreshSession(
                        id: successorID,
                        familyID: familyID,
                        parentID: session.id,
                        userID: session.userID,
                        createdAt: now,
                        expiresAt: expiresAt,
                        rotatedAt: nil,
                        revokedAt: nil,
                        familyExpiresAt: session.familyExpiresAt
                    )
                    return .issued(successor, decision: decision)
                case .reuseDetected:
                    try await connection.query(
                        """
                        UPDATE refresh_families SET revoked_at = \(now), revoked_reason = \(RevocationReason.reuse.rawValue)
                        WHERE id = \(familyID) AND revoked_at IS NULL
                        """,
                        logger: logger
                    )
                    return .refused(decision)
                case .revoked, .expired:
                    return .refused(decision)
                }
            }
        }
    }

    func revokeFamily(containing tokenHash: Data, reason: RevocationReason, now: Date) async throws -> Bool {
        let rows = try await client.query(
            """
            WITH target AS (SELECT family_id FROM refresh_tokens WHERE token_hash = \(tokenHash)),
            revoked AS (
                UPDATE refresh_families SET revoked_at = \(now), revoked_reason = \(reason.rawValue)
                WHERE id IN (SELECT family_id FROM target) AND revoked_at IS NULL
            )
            SELECT count(*) FROM target
            """,
            logger: logger
        )
        for try await count in rows.decode(Int64.self) {
            return count > 0
        }
        return false
    }

    /// Revokes every live family of a user and counts them; also run inside account transactions.
    static func revokeAllQuery(userID: Int64, reason: RevocationReason, now: Date) -> PostgresQuery {
        """
        WITH revoked AS (
            UPDATE refresh_families SET revoked_at = \(now), revoked_reason = \(reason.rawValue)
            WHERE user_id = \(userID) AND revoked_at IS NULL
            RETURNING 1
        )
        SELECT count(*) FROM revoked
        """
    }

    func revokeAll(userID: Int64, reason: RevocationReason, now: Date) async throws -> Int {
        // One statement: each family row is locked as it is updated, so an exchange running at the
        // same moment either finished before (its successor is in a family revoked here) or sees
        // the revocation.
        let rows = try await client.query(Self.revokeAllQuery(userID: userID, reason: reason, now: now), logger: logger)
        for try await count in rows.decode(Int64.self) {
            return Int(count)
        }
        return 0
    }

    func family(containing tokenHash: Data) async throws -> RefreshFamily? {
        let rows = try await client.query(
            """
            SELECT f.id, f.user_id, f.created_at, f.authenticated_with, f.revoked_at
            FROM refresh_families f JOIN refresh_tokens t ON t.family_id = f.id
            WHERE t.token_hash = \(tokenHash)
            """,
            logger: logger
        )
        for try await (id, userID, createdAt, method, revokedAt) in rows.decode((UUID, Int64, Date, String, Date?).self) {
            guard let method = AuthenticationMethod(rawValue: method) else { throw UnknownAuthenticationMethod(value: method) }
            return RefreshFamily(id: id, userID: userID, createdAt: createdAt, authenticatedWith: method, revokedAt: revokedAt)
        }
        return nil
    }

    struct UnknownAuthenticationMethod: Error {
        let value: String
    }

    func deleteExpired(before cutoff: Date) async throws -> Int {
        let rows = try await client.query(
            """
            WITH deleted AS (
                DELETE FROM refresh_families f
                WHERE f.created_at < \(cutoff)
                  AND NOT EXISTS (
                      SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id AND t.expires_at >= \(cutoff))
                RETURNING 1
            )
            SELECT count(*) FROM deleted
            """,
            logger: logger
        )
        for try await count in rows.decode(Int64.self) {
            return Int(count)
        }
        return 0
    }

    /// Reports what went wrong inside a transaction, not PostgresNIO's wrapper.
    static func unwrapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }
}
