/// Why a Google sign-in failed. `message` goes to the frontend as `?error=<message>`; details stay in the logs.
enum GoogleSignInError: Error, Equatable, Sendable, CustomStringConvertible {
    case notConfigured
    /// Google sent `error=…` back (the user cancelled, or the request was refused).
    case providerError(String)
    case missingCode
    /// The state cookie is missing, tampered with or expired, or the state parameter does not match it.
    case invalidState
    case tokenExchangeFailed(String)
    case invalidIDToken(String)
    case emailNotVerified
    case accountConflict
    /// An account with a password already uses this e-mail; it is never linked silently (security review H1).
    case passwordAccountExists
    case accountDisabled

    var message: String {
        switch self {
        case .notConfigured: "Google sign-in is not configured."
        case .providerError: "Google sign-in was cancelled or refused."
        case .missingCode: "Google did not return an authorization code."
        case .invalidState: "The sign-in session expired or is invalid. Please try again."
        case .tokenExchangeFailed: "Could not complete sign-in with Google."
        case .invalidIDToken: "Google's identity token could not be verified."
        case .emailNotVerified: "Your Google email address is not verified."
        case .accountConflict: "This email belongs to an account linked to another Google account."
        case .passwordAccountExists:
            "An account with this email already exists. Sign in with your email and password instead."
        case .accountDisabled: "This account is disabled."
        }
    }

    var description: String {
        switch self {
        case .providerError(let error): "provider error: \(error)"
        case .tokenExchangeFailed(let reason): "token exchange failed: \(reason)"
        case .invalidIDToken(let reason): "invalid id_token: \(reason)"
        default: message
        }
    }
}
