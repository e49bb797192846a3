import Foundation
import Logging
import PostgresNIO

extension PostgresClient.Configuration {
    /// Parses `postgres://user:password@host:port/database?sslmode=...&sslrootcert=...` (`DATABASE_URL`).
    /// TLS follows libpq's `sslmode` and `sslrootcert` (see `DatabaseURL.TLSMode`); RDS is reached
    /// with `sslmode=verify-full&sslrootcert=<the RDS CA bundle>`.
    ///
    /// `maximumConnections` (`DATABASE_POOL_SIZE`) defaults to 8: on 2 cores more PostgreSQL backends
    /// than that only add context switches (measured in docs/performance.md, "What was changed").
    package static func fromURL(_ string: String, maximumConnections: Int = 8) throws -> PostgresClient.Configuration {
        let url = try DatabaseURL(string)
        let tls: PostgresClient.Configuration.TLS =
            switch url.tls {
            case .disable: .disable
            case .prefer(let configuration): .prefer(configuration)
            case .require(let configuration): .require(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: url.host,
            port: url.port,
            username: url.username,
            password: url.password,
            database: url.database,
            tls: tls
        )
        configuration.options.minimumConnections = min(2, maximumConnections)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(30))
        return configuration
    }
}

/// A parsed `DATABASE_URL`.
///
/// TLS, as libpq defines `sslmode` (https://www.postgresql.org/docs/current/libpq-ssl.html):
/// - absent or `disable`: no TLS (the local stack's default);
/// - `allow`, `prefer`: TLS when the server offers it, else plain;
/// - `require`: TLS or no connection; the certificate is not verified, unless `sslrootcert` names
///   a CA file, which then must sign the server's chain (libpq: "require behaves like verify-ca");
/// - `verify-ca`: TLS, the chain must lead to `sslrootcert` (the system trust store without it);
/// - `verify-full`: as `verify-ca`, and the certificate must name the host of the URL.
///
/// `sslrootcert` is a PEM file of one or more CA certificates (for RDS the regional or global
/// bundle the image ships), or `system` (the system trust store; libpq 16 then requires
/// `verify-full`). Unknown modes, an unreadable file, or a weaker mode with `system` are refused
/// here, at start, not discovered as a failed handshake.
package struct DatabaseURL: Sendable {
    package var host: String
    package var port: Int
    package var username: String
    package var password: String?
    package var database: String
    package var tls: TLSMode

    package enum TLSMode: Sendable {
        case disable
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)
    }

    package init(_ string: String) throws {
        guard let components = URLComponents(string: string), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, !host.isEmpty
        else { throw DatabaseURLError(reason: "DATABASE_URL must look like postgres://user:password@host:5432/database") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard let user = components.user, !user.isEmpty, !database.isEmpty else {
            throw DatabaseURLError(reason: "DATABASE_URL needs a user name and a database name")
        }
        let query = components.queryItems ?? []
        func parameter(_ name: String) -> String? {
            query.last { $0.name == name }?.value.flatMap { $0.isEmpty ? nil : $0 }
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password?.removingPercentEncoding
        self.database = database.removingPercentEncoding ?? database
        self.tls = try Self.tls(mode: parameter("sslmode"), rootCertificate: parameter("sslrootcert"))
    }

    static func tls(mode: String?, rootCertificate: String?) throws -> TLSMode {
        let mode = mode ?? "disable"
        let known = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
        guard known.contains(mode) else {
            throw DatabaseURLError(reason: "DATABASE_URL sslmode=\(mode) is not one of \(known.joined(separator: ", "))")
        }
        if mode == "disable" { return .disable }

        var configuration = TLSConfiguration.makeClientConfiguration()
        let verifies = mode.hasPrefix("verify-")
        switch rootCertificate {
        case nil:
            // verify-*: the system trust store; otherwise encryption without verification.
            configuration.trustRoots = .default
            configuration.certificateVerification = verifies ? .fullVerification : .none
        case "system":
            guard mode == "verify-full" else {
                throw DatabaseURLError(reason: "DATABASE_URL sslrootcert=system needs sslmode=verify-full (as libpq 16), got \(mode)")
            }
            configuration.trustRoots = .default
        case let path?:
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw DatabaseURLError(reason: "DATABASE_URL sslrootcert=\(path) is not a readable PEM file of CA certificates (\(error))")
            }
            guard !certificates.isEmpty else {
                throw DatabaseURLError(reason: "DATABASE_URL sslrootcert=\(path) holds no certificate")
            }
            configuration.trustRoots = .certificates(certificates)
            // A given root is always checked (libpq); only verify-full also checks the host name.
            configuration.certificateVerification = mode == "verify-full" ? .fullVerification : .noHostnameVerification
        }
        if mode == "verify-ca" && configuration.certificateVerification == .fullVerification {
            configuration.certificateVerification = .noHostnameVerification
        }
        return ["allow", "prefer"].contains(mode) ? .prefer(configuration) : .require(configuration)
    }
}

package struct DatabaseURLError: Error, CustomStringConvertible {
    package let reason: String
    package var description: String { reason }
}
