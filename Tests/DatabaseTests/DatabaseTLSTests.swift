import ECGDatabase
import Foundation
import Logging
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `DATABASE_URL`'s `sslmode` and `sslrootcert` against a real PostgreSQL whose server
/// certificate is signed by a CA made here, as RDS's is signed by Amazon's private RDS CA
/// (deploy review C1). Needs PostgreSQL's server binaries and openssl (infra/local/deps.sh
/// installs both); starts its own throwaway server on 127.0.0.1, TLS only.
@Suite(
    "DATABASE_URL TLS (sslmode, sslrootcert) against PostgreSQL with a private CA",
    .enabled(if: PrivateCAPostgres.available, "needs /usr/lib/postgresql/*/bin and openssl"),
    .timeLimit(.minutes(3))
)
struct DatabaseTLSTests {
    let logger: Logger = {
        // PostgresNIO logs every failed connection attempt at info: the refusals are expected.
        var logger = Logger(label: "database-tls-tests")
        logger.logLevel = .warning
        return logger
    }()

    @Test("verify-full with the CA connects over TLS; a wrong CA, a wrong host name or no TLS do not; require encrypts without verifying")
    func privateCA() async throws {
        let server = try PrivateCAPostgres.start()
        defer { server.stop() }
        func url(host: String = "localhost", _ query: String) -> String {
            "postgres://ecg_admin:\(server.password)@\(host):\(server.port)/postgres?\(query)"
        }

        // What the services do (PostgresClient through fromURL), as the stacks configure it.
        #expect(try await sslInUse(client: url("sslmode=verify-full&sslrootcert=\(server.caFile)")) == true)
        #expect(try await sslInUse(client: url("sslmode=verify-ca&sslrootcert=\(server.caFile)")) == true)
        // require: encryption without verification; with a root given, the chain is checked (libpq).
        #expect(try await sslInUse(client: url("sslmode=require")) == true)
        #expect(try await sslInUse(client: url("sslmode=require&sslrootcert=\(server.caFile)")) == true)
        #expect(try await sslInUse(client: url("sslmode=prefer")) == true)

        // Refusals, each for its own reason (one connection each, same TLS settings as above).
        let wrongCA = try await connectionError(url("sslmode=verify-full&sslrootcert=\(server.otherCAFile)"))
        #expect(wrongCA.contains("CERTIFICATE_VERIFY_FAILED") || wrongCA.lowercased().contains("certificate"), "\(wrongCA)")
        let wrongCAUnderRequire = try await connectionError(url("sslmode=require&sslrootcert=\(server.otherCAFile)"))
        #expect(wrongCAUnderRequire.lowercased().contains("certificate"), "\(wrongCAUnderRequire)")
        // The certificate names localhost only: verify-full refuses another name for the same
        // server, verify-ca (chain only) accepts it.
        let wrongName = try await connectionError(url(host: server.otherName, "sslmode=verify-full&sslrootcert=\(server.caFile)"))
        #expect(wrongName.lowercased().contains("hostname") || wrongName.lowercased().contains("certificate"), "\(wrongName)")
        #expect(try await sslInUse(connection: url(host: server.otherName, "sslmode=verify-ca&sslrootcert=\(server.caFile)")) == true)
        // The system trust store does not know the private CA (the review's crash loop).
        let systemStore = try await connectionError(url("sslmode=verify-full"))
        #expect(systemStore.lowercased().contains("certificate"), "\(systemStore)")
        // The server accepts TLS only (as RDS with rds.force_ssl=1).
        let plain = try await connectionError(url("sslmode=disable"))
        #expect(plain.contains("28000") || plain.lowercased().contains("no encryption") || plain.contains("hba"), "\(plain)")

        // And through PostgresClient, what a service with the wrong CA does: no query succeeds.
        await #expect(throws: (any Error).self) {
            _ = try await sslInUse(client: url("sslmode=verify-full&sslrootcert=\(server.otherCAFile)"))
        }
    }

    @Test("unknown sslmode values, unreadable roots and sslrootcert=system with a weaker mode are refused at start")
    func refusals() throws {
        let base = "postgres://u:p@db.example.internal:5432/ecg"
        #expect(throws: DatabaseURLError.self) { try DatabaseURL(base + "?sslmode=verify_full") }
        #expect(throws: DatabaseURLError.self) { try DatabaseURL(base + "?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem") }
        #expect(throws: DatabaseURLError.self) { try DatabaseURL(base + "?sslmode=require&sslrootcert=system") }
        _ = try DatabaseURL(base + "?sslmode=verify-full&sslrootcert=system")
        let plain = try DatabaseURL(base)
        guard case .disable = plain.tls else {
            Issue.record("no sslmode must mean no TLS (the local stack)")
            return
        }
        let require = try DatabaseURL(base + "?sslmode=require")
        guard case .require(let configuration) = require.tls else {
            Issue.record("sslmode=require must require TLS")
            return
        }
        #expect(configuration.certificateVerification == .none)
        guard case .require(let full) = try DatabaseURL(base + "?sslmode=verify-full").tls else {
            Issue.record("sslmode=verify-full must require TLS")
            return
        }
        #expect(full.certificateVerification == .fullVerification)
    }

    // MARK: - helpers

    /// `ssl` of this session in pg_stat_ssl, through a PostgresClient made by `fromURL`.
    private func sslInUse(client url: String) async throws -> Bool {
        let client = PostgresClient(configuration: try .fromURL(url, maximumConnections: 1), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Bool?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            group.addTask {
                let rows = try await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger)
                var result = false
                for try await ssl in rows.decode(Bool.self) { result = ssl }
                return result
            }
            group.addTask {
                try await Task.sleep(for: .seconds(40))
                throw FixtureError("no connection within 40 s")
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let next { return next }
            }
            return false
        }
    }

    /// One connection with the TLS settings `DatabaseURL` makes (the same as `fromURL`'s).
    private func connect(_ string: String) async throws -> PostgresConnection {
        let url = try DatabaseURL(string)
        let tls: PostgresConnection.Configuration.TLS =
            switch url.tls {
            case .disable: .disable
            case .prefer(let configuration): .prefer(try NIOSSLContext(configuration: configuration))
            case .require(let configuration): .require(try NIOSSLContext(configuration: configuration))
            }
        let configuration = PostgresConnection.Configuration(
            host: url.host,
            port: url.port,
            username: url.username,
            password: url.password,
            database: url.database,
            tls: tls
        )
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }

    private func sslInUse(connection url: String) async throws -> Bool {
        let connection = try await connect(url)
        defer { Task { try? await connection.close() } }
        var result = false
        for try await ssl in try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger).decode(
            Bool.self
        ) {
            result = ssl
        }
        return result
    }

    /// The error a connection attempt ends with (the test fails if it connects).
    private func connectionError(_ url: String) async throws -> String {
        do {
            let connection = try await connect(url)
            try? await connection.close()
            Issue.record("connected with \(url), which must fail")
            return ""
        } catch {
            return String(reflecting: error)
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A throwaway PostgreSQL with `ssl = on`, its certificate signed by a CA made with openssl,
/// reachable only over TLS on 127.0.0.1/::1 (pg_hba: hostssl + scram, hostnossl rejected).
/// PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
struct PrivateCAPostgres {
    let directory: URL
    let port: Int
    let password = "tls-test-pw"
    let pgBin: String
    var caFile: String { directory.appendingPathComponent("ca.pem").path }
    var otherCAFile: String { directory.appendingPathComponent("other-ca.pem").path }
    /// Another name of this machine, not in the certificate.
    let otherName = "127.0.0.1"

    static var pgBin: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted().reversed()
            .map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") && FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl") }
    }

    static var available: Bool {
        guard pgBin != nil, FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { return false }
        return geteuid() != 0 || getpwnam("postgres") != nil
    }

    static func start() throws -> PrivateCAPostgres {
        let pgBin = try #require(Self.pgBin)
        let directory = URL(fileURLWithPath: "/tmp/ecg-tls-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        // The CA, a second unrelated CA, and the server's certificate for localhost only.
        for ca in ["ca", "other-ca"] {
            try run(
                "/usr/bin/openssl",
                ["req", "-x509"] + ec + [
                    "-keyout", path("\(ca).key"), "-out", path("\(ca).pem"), "-days", "2", "-subj", "/CN=ECG test \(ca)",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                ]
            )
        }
        try run("/usr/bin/openssl", ["req", "-new"] + ec + ["-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            .write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try run(
            "/usr/bin/openssl",
            [
                "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
                "-out", path("server.pem"), "-days", "2", "-extfile", path("server.ext"),
            ]
        )
        let server = PrivateCAPostgres(directory: directory, port: try freePort(), pgBin: pgBin)
        try server.password.write(toFile: path("pwfile"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: path("sock"), withIntermediateDirectories: true)
        if geteuid() == 0 {
            try run("/bin/chown", ["-R", "postgres", directory.path])
        }
        try run("/bin/chmod", ["600", path("server.key")])
        try runAsPostgres(
            "\(pgBin)/initdb",
            ["-D", path("data"), "-U", "ecg_admin", "--pwfile=\(path("pwfile"))", "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"]
        )
        let conf = """
            listen_addresses = 'localhost'
            port = \(server.port)
            unix_socket_directories = '\(path("sock"))'
            fsync = off
            ssl = on
            ssl_cert_file = '\(path("server.pem"))'
            ssl_key_file = '\(path("server.key"))'
            """
        let hba = """
            hostssl   all all 127.0.0.1/32 scram-sha-256
            hostssl   all all ::1/128      scram-sha-256
            hostnossl all all 127.0.0.1/32 reject
            hostnossl all all ::1/128      reject
            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path("data/postgresql.conf")))
        handle.seekToEndOfFile()
        handle.write(Data(("\n" + conf + "\n").utf8))
        try handle.close()
        // pg_hba.conf is replaced as the postgres user owns it (root writes keep the owner).
        try (hba + "\n").write(toFile: path("data/pg_hba.conf"), atomically: false, encoding: .utf8)
        do {
            try runAsPostgres("\(pgBin)/pg_ctl", ["-D", path("data"), "-l", path("log"), "-w", "-t", "30", "start"])
        } catch {
            let log = (try? String(contentsOfFile: path("log"), encoding: .utf8)) ?? ""
            server.stop()
            throw FixtureError("PostgreSQL did not start: \(error)\n\(log)")
        }
        return server
    }

    func stop() {
        let data = directory.appendingPathComponent("data").path
        try? Self.runAsPostgres("\(pgBin)/pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    private static func runAsPostgres(_ executable: String, _ arguments: [String]) throws {
        if geteuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        } else {
            try run(executable, arguments)
        }
    }

    /// Runs a command to its end, its output into a file. posix_spawn and waitpid, not
    /// Foundation's Process: `pg_ctl start` (through runuser) was seen to end as a zombie that
    /// Process.waitUntilExit never noticed, and a pipe would stay open in the server it starts.
    private static func run(_ executable: String, _ arguments: [String]) throws {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-tls-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw FixtureError("posix_spawn \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw FixtureError("waitpid \(executable): \(String(cString: strerror(errno)))") }
        }
        let exitedNormally = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exitedNormally && code == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw FixtureError("\(executable) \(arguments.joined(separator: " ")) ended with status \(status): \(text)")
        }
    }

    /// A TCP port that was free on 127.0.0.1 a moment ago.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw FixtureError("bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw FixtureError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
