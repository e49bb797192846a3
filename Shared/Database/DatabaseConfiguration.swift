import Foundation
import Logging
import PostgresNIO

extension PostgresClient.Configuration {
    /// Parses `postgres://user:password@host:port/database?sslmode=...` (`DATABASE_URL`).
    /// `sslmode=require` (or `verify-full`) turns TLS on, as RDS needs.
    ///
    /// `maximumConnections` (`DATABASE_POOL_SIZE`): measured with `make bench` on 2 cores, 8
    /// connections served `/me` and `job-status` faster than 20 (3,760 and 3,400 req/s against
    /// 3,350–3,540 and 2,390–2,770, p99 14 ms against 17–34 ms) and halved the services' RSS: more
    /// PostgreSQL backends than cores only add context switches.
    public static func fromURL(_ string: String, maximumConnections: Int = 8) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: string), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, !host.isEmpty
        else { throw DatabaseURLError(reason: "DATABASE_URL must look like postgres://user:password@host:5432/database") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard let user = components.user, !user.isEmpty, !database.isEmpty else {
            throw DatabaseURLError(reason: "DATABASE_URL needs a user name and a database name")
        }
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "require", "verify-ca", "verify-full": .require(.makeClientConfiguration())
            case "prefer": .prefer(.makeClientConfiguration())
            default: .disable
            }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding,
            database: database,
            tls: tls
        )
        configuration.options.minimumConnections = min(2, maximumConnections)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(30))
        return configuration
    }
}

public struct DatabaseURLError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
