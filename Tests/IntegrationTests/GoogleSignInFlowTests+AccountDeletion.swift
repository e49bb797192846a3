import Foundation
import Testing

/// A Google-only account has no password: changing it is 409, and deleting the account takes the
/// refresh cookie of a Google sign-in less than 5 minutes old (docs/auth-account.md).
extension GoogleSignInFlowTests {
    @Test("a Google-only account: password change is 409 no_password; delete is 403 without a fresh sign-in's cookie, 202 with it")
    func deleteGoogleAccount() async throws {
        try await withHarness { harness in
            let person = Self.person("leaving")
            let outcome = try await signIn(harness, as: person)
            try #require(outcome.succeeded, "\(outcome.location)")
            let accessToken = try #require(outcome.query["access_token"])
            let cookie = try #require(outcome.callback.cookie("refresh_token"))
            let bearer = ("Authorization", "Bearer \(accessToken)")
            let id = try #require(try await me(accessToken)["id"] as? Int)

            let change = try await AuthHTTP.call(
                .POST,
                gateway + "/api/auth/password",
                json: ["current_password": "whatever-1", "new_password": "a-new-password"],
                headers: [bearer]
            )
            #expect(change.status == 409)
            #expect(change.code == "no_password")

            let withoutCookie = try await AuthHTTP.call(.DELETE, gateway + "/api/auth/me", json: [String: Any](), headers: [bearer])
            #expect(withoutCookie.status == 403)
            #expect(withoutCookie.code == "reauthentication_required")
            #expect((withoutCookie.json?["detail"] as? String)?.contains("sign in with Google again") == true)

            // The browser sends the sign-in's cookie (Path=/api/auth) with no body.
            let deleted = try await AuthHTTP.call(.DELETE, gateway + "/api/auth/me", headers: [bearer, ("Cookie", "refresh_token=\(cookie)")])
            #expect(deleted.status == 202, "\(deleted.text)")
            let gone = try await AuthHTTP.call(.GET, gateway + "/api/auth/me", headers: [bearer])
            #expect(gone.status == 401)

            // Signing in with the same Google account again creates a new account.
            let back = try await signIn(harness, as: person)
            #expect(back.succeeded)
            let newToken = try #require(back.query["access_token"])
            let newID = try #require(try await me(newToken)["id"] as? Int)
            #expect(newID != id)
        }
    }
}
