import AsyncHTTPClient
import ECGTokens
import Foundation
import NIOCore

/// What the integration tests need to talk to the running test stack.
enum StackClient {
    static let environment = ProcessInfo.processInfo.environment
    static var gateway: String { environment["ECG_TEST_GATEWAY_URL"] ?? "" }
    static var isAvailable: Bool { environment["ECG_TEST_GATEWAY_URL"] != nil }

    /// One client for every integration test. It follows no redirects (tests read `Location`)
    /// and has room for all tests running in parallel: requests waiting for a pooled connection
    /// longer than the connect timeout fail with `getConnectionFromPoolTimeout`, which a loaded
    /// CI machine reached with AsyncHTTPClient's default of 8 connections per host.
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(30)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        )
    )

    struct Reply: Sendable {
        let status: Int
        let headers: [(String, String)]
        let body: Data
        let duration: Duration

        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var code: String? { json?["code"] as? String }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        func headers(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }
        /// The `Set-Cookie` line for one cookie, if any.
        func setCookie(_ name: String) -> String? { headers("Set-Cookie").first { $0.hasPrefix("\(name)=") } }
        /// The value a `Set-Cookie` line gives the cookie.
        func cookie(_ name: String) -> String? {
            setCookie(name).map { String($0.split(separator: ";", maxSplits: 1)[0].dropFirst(name.count + 1)) }
        }
    }

    /// Sends a request and reads the whole answer.
    static func send(_ request: HTTPClientRequest, timeout: Duration = .seconds(30)) async throws -> Reply {
        let start = ContinuousClock.now
        let response = try await client.execute(request, timeout: .init(timeout))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Reply(
            status: Int(response.status.code),
            headers: response.headers.map { ($0.name, $0.value) },
            body: Data(bytes.readableBytesView),
            duration: ContinuousClock.now - start
        )
    }

    static func call(
        _ url: String,
        method: String = "GET",
        json: String? = nil,
        token: String? = nil,
        headers: [(String, String)] = []
    ) async throws
        -> Reply
    {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        return try await send(request)
    }

    /// A user access token the stack accepts, signed with a key auth-service publishes in its JWKS.
    static func userToken(userID: String) async throws -> String {
        let signer = await TokenSigner(key: try key(named: ["auth-service.user.pem", "auth-service.service.pem"]))
        return try await signer.sign(issuer: "auth-service", audience: "ecg-api", subject: userID, type: .access, lifetime: 900).token
    }

    static func key(named candidates: [String]) throws -> SigningKey {
        let directory = environment["ECG_TEST_KEYS_DIR"] ?? ".data/test-stack/keys"
        for name in candidates {
            if let pem = try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8) { return try SigningKey(pem: pem) }
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "\(directory)/\(candidates[0])"])
    }

    static func randomUserID() -> String { String(Int.random(in: 1_000_000...9_999_999)) }
}
