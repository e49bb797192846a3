import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The auth tests' way to call: any method, a JSON object or a raw body, raw cookies in `headers`.
enum AuthHTTP {
    typealias Reply = StackClient.Reply

    static func call(
        _ method: HTTPMethod,
        _ url: String,
        json: Any? = nil,
        rawBody: String? = nil,
        headers: [(String, String)] = [],
        contentType: String? = "application/json",
        timeout: Int64 = 30
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        } else if let rawBody {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(string: rawBody))
        }
        return try await StackClient.send(request, timeout: .seconds(timeout))
    }

    /// A distinct email and username for each test, so tests do not share accounts or rate limits.
    static func uniqueAccount(_ prefix: String = "user") -> (username: String, email: String) {
        let suffix = UUID().uuidString.prefix(12).lowercased()
        return ("\(prefix)_\(suffix)", "\(prefix).\(suffix)@example.com")
    }

    /// A TCP port nobody listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw POSIXError(.EIO) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Query parameters of a URL, percent-decoded.
    static func query(of url: String) -> [String: String] {
        guard let items = URLComponents(string: url)?.queryItems else { return [:] }
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }
}

/// A second auth-service process from the build (`ECG_TEST_BIN_DIR`), with the test stack's
/// environment (read from the running auth-service, as `ShutdownTests` does) plus overrides, on a
/// free port. It shares the stack's database and user-token key.
struct SpawnedAuthService: Sendable {
    let url: String
    let environment: [String: String]

    /// Starts the process, waits for `/ready`, runs `body`, stops it. `environment` receives the
    /// service's base URL and returns the variables to override. Its output is reported on failure.
    static func run(
        environment overrides: (_ url: String) -> [String: String],
        _ body: (SpawnedAuthService) async throws -> Void
    ) async throws {
        let testEnvironment = ProcessInfo.processInfo.environment
        let port = try AuthHTTP.freePort()
        let url = "http://127.0.0.1:\(port)"
        var environment = try ShutdownTests.stackEnvironment(of: "auth-service")
        environment["ECG_STACK_ID"] = nil
        environment["PORT"] = String(port)
        environment.merge(overrides(url)) { $1 }

        let binDirectory = try #require(testEnvironment["ECG_TEST_BIN_DIR"])
        let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("ecg-auth-service-\(port)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binDirectory).appendingPathComponent("auth-service")
        process.arguments = ["serve"]
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            try? log.close()
            try? FileManager.default.removeItem(at: logURL)
        }
        do {
            try await waitUntilReady("\(url)/ready", process: process)
            try await body(SpawnedAuthService(url: url, environment: environment))
        } catch {
            let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            Issue.record("auth-service output:\n\(output.suffix(4000))")
            throw error
        }
    }

    struct NotReady: Error {}

    static func waitUntilReady(_ url: String, process: Process) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, process.isRunning {
            if let reply = try? await AuthHTTP.call(.GET, url, timeout: 2), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw NotReady()
    }
}
