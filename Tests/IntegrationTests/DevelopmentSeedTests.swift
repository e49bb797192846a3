import Foundation
import Testing

/// SPEC.md §6: in development the seed user exists after start, created once; the test stack
/// (`ECG_ENV=test`) has none. Two auth-service processes with `ECG_ENV=development` start at once
/// against the stack's database.
@Suite(
    "Development seed user",
    .enabled(
        if: ProcessInfo.processInfo.environment["ECG_TEST_BIN_DIR"] != nil && ProcessInfo.processInfo.environment["ECG_TEST_GATEWAY_URL"] != nil
    ),
    .timeLimit(.minutes(2))
)
struct DevelopmentSeedTests {
    let gateway = ProcessInfo.processInfo.environment["ECG_TEST_GATEWAY_URL"] ?? ""

    @Test("ECG_ENV=development creates test@example.com / testpassword123 / testuser once, even with two replicas starting together")
    func seedUser() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await SpawnedAuthService.run(environment: { _ in ["ECG_ENV": "development"] }) { service in
                        let login = try await AuthHTTP.call(
                            .POST,
                            service.url + "/api/auth/login",
                            json: ["email": "test@example.com", "password": "testpassword123"]
                        )
                        #expect(login.status == 200, "\(login.text)")
                        #expect((login.json?["user"] as? [String: Any])?["username"] as? String == "testuser")
                    }
                }
            }
            try await group.waitForAll()
        }
        // The stack's own auth-service (ECG_ENV=test) sees the same database: one account, reachable through the gateway.
        let login = try await AuthHTTP.call(.POST, gateway + "/api/auth/login", json: ["email": "test@example.com", "password": "testpassword123"])
        #expect(login.status == 200)
        let duplicate = try await AuthHTTP.call(
            .POST,
            gateway + "/api/auth/signup",
            json: ["username": "TESTUSER", "email": "other-\(UUID().uuidString.prefix(6))@example.com", "password": "whatever123"]
        )
        #expect(duplicate.code == "username_taken")
    }
}
