import Foundation
import Testing

/// Inputs the security review (L5, L6) saw answered 500 or stored unbounded, against the real stack:
/// PostgreSQL's index row limit and its text type, reached through the gateway.
@Suite("Hostile input is refused, never a 500", .enabled(if: ProcessInfo.processInfo.environment["ECG_TEST_GATEWAY_URL"] != nil), .timeLimit(.minutes(2)))
struct HostileInputTests {
    let gateway = ProcessInfo.processInfo.environment["ECG_TEST_GATEWAY_URL"] ?? ""

    @Test("login with an e-mail of kilobytes or with a NUL is the usual 401, not a database error")
    func loginEmails() async throws {
        for email in [String(repeating: "a", count: 3200) + "@example.com", "a\u{0}b@example.com", "é" + String(repeating: "\u{301}", count: 2000) + "@example.com"] {
            let reply = try await AuthHTTP.call(.POST, gateway + "/api/auth/login", json: ["email": email, "password": "whatever-password"])
            #expect(reply.status == 401, "\(email.prefix(20)): \(reply.status) \(reply.text.prefix(200))")
            #expect(reply.json?["code"] as? String == "invalid_credentials")
        }
    }

    @Test("signup with a username of combining marks or a NUL, or an e-mail of kilobytes, is 422 naming the field")
    func signupFields() async throws {
        let (username, email) = AuthHTTP.uniqueAccount("hostile")
        let zalgo = "abc".map { String($0) + String(repeating: "\u{301}", count: 700) }.joined()
        for (field, body) in [
            ("username", ["username": zalgo, "email": email, "password": "correct-horse-42"]),
            ("username", ["username": "ab\u{0}cd", "email": email, "password": "correct-horse-42"]),
            ("email", ["username": username, "email": String(repeating: "a", count: 3200) + "@example.com", "password": "correct-horse-42"]),
        ] {
            let reply = try await AuthHTTP.call(.POST, gateway + "/api/auth/signup", json: body)
            #expect(reply.status == 422, "\(field): \(reply.status) \(reply.text.prefix(200))")
            #expect(reply.text.contains(field), "\(reply.text.prefix(200))")
        }
    }

    @Test("an upload's filename is bounded in bytes too: 3 letters with 27,000 combining marks are refused")
    func filenameBytes() async throws {
        let token = try await MediaStack.userToken()
        let name = "abc".map { String($0) + String(repeating: "\u{301}", count: 9000) }.joined() + ".mp4"
        let reply = try await MediaStack.call(
            .POST, gateway + "/api/upload-video/generate-url", token: token,
            json: ["filename": name, "content_type": "video/mp4", "size_bytes": 1000]
        )
        #expect(reply.status == 422, "\(reply.status) \(reply.text.prefix(200))")
        #expect(reply.text.contains("filename"))
        let fine = try await MediaStack.call(
            .POST, gateway + "/api/upload-video/generate-url", token: token,
            json: ["filename": "caf\u{E9} talk.mp4", "content_type": "video/mp4", "size_bytes": 1000]
        )
        #expect(fine.status == 200, "\(fine.status) \(fine.text.prefix(200))")
    }
}
