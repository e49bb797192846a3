import AsyncHTTPClient
import ECGTokens
import Foundation
import NIOCore

/// What the integration tests need to talk to the running test stack.
enum StackClient {
    static let environment = ProcessInfo.processInfo.environment
    static var gateway: String { environment["ECG_TEST_GATEWAY_URL"] ?? "" }
    static var isAvailable: Bool { environment["ECG_TEST_GATEWAY_URL"] != nil }

    struct Reply: Sendable {
        let status: Int
        let headers: [(String, String)]
        let body: Data
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
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
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Data(bytes.readableBytesView))
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
