import AsyncHTTPClient
import Foundation
import Testing

/// A service started by hand from the build, then stopped with SIGTERM (SPEC.md §8).
@Suite("Graceful shutdown", .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_BIN_DIR"] != nil), .timeLimit(.minutes(2)))
struct ShutdownTests {
    static let environment = ProcessInfo.processInfo.environment

    @Test("each service exits 0 within 10 s of SIGTERM", arguments: ["auth-service", "media-service", "analysis-service"])
    func sigterm(service: String) async throws {
        let binDirectory = try #require(Self.environment["ECG_TEST_BIN_DIR"])
        let offset = Int(Self.environment["ECG_TEST_PORT_OFFSET"] ?? "0") ?? 0
        let port = 28_100 + offset + ["auth-service", "media-service", "analysis-service"].firstIndex(of: service)!
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binDirectory).appendingPathComponent(service)
        process.arguments = ["serve"]
        // Same configuration as the stack's instance of this service, on a port of its own.
        var environment = try Self.stackEnvironment(of: service)
        environment["PORT"] = String(port)
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        try await waitUntilReady("http://127.0.0.1:\(port)/ready")
        let stopped = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, ContinuousClock.now - stopped < .seconds(12) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!process.isRunning)
        #expect(ContinuousClock.now - stopped < .seconds(10))
        #expect(process.terminationStatus == 0)
    }

    /// The environment the stack gave the running service, read from /proc by its pid file.
    static func stackEnvironment(of name: String) throws -> [String: String] {
        let dataDirectory = try #require(environment["ECG_TEST_DATA_DIR"])
        let pid = try String(contentsOfFile: "\(dataDirectory)/run/\(name).pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let raw = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))
        var result: [String: String] = [:]
        for entry in raw.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            if let separator = text.firstIndex(of: "=") { result[String(text[..<separator])] = String(text[text.index(after: separator)...]) }
        }
        return result
    }

    private func waitUntilReady(_ url: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2)), response.status == .ok {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("\(url) did not become ready")
    }
}
