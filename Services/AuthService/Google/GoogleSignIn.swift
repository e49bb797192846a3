import Foundation

/// Google sign-in's use case (SPEC.md §3 row 7): exchanges the authorization code for an id_token,
/// verifies it, finds or creates the account (`GoogleAccountResolver`) and starts a session proven by
/// Google. `GoogleAuthController` keeps the HTTP side: the redirects, the query and the state cookie.
struct GoogleSignIn: Sendable {
    /// What the flow needs when Google is configured: the settings and Google's endpoints.
    struct Provider: Sendable {
        let settings: AuthSettings.Google
        let tokens: GoogleTokenClient
        let verifier: GoogleIDTokenVerifier
    }

    let provider: Provider
    let accounts: GoogleAccountResolver
    let sessions: SessionService

    /// Signs in with the code Google returned, the PKCE verifier and nonce of the sign-in that asked
    /// for it; throws `GoogleSignInError` for every refusal the user is told about.
    func signIn(code: String, codeVerifier: String, nonce: String) async throws -> AccountService.SignedIn {
        let idToken = try await provider.tokens.exchange(code: code, verifier: codeVerifier)
        let identity = try await provider.verifier.verify(idToken, nonce: nonce)
        let user = try await accounts.resolve(identity)
        guard user.isActive else { throw GoogleSignInError.accountDisabled }
        return AccountService.SignedIn(user: user, issued: try await sessions.start(for: user, authenticatedWith: .google))
    }
}
