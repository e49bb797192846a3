import ECGPlatform
import Foundation

/// auth-service's own settings (SPEC.md §6), read through `EnvironmentSettings` so that one start
/// reports every bad variable.
///
/// Production refuses: a missing `USER_TOKEN_SIGNING_KEY`, `COOKIE_SECURE=false` (the refresh
/// cookie would travel over plain http), `BCRYPT_COST` below 10, a missing or non-https
/// `FRONTEND_URL`, and non-https Google endpoints.
struct AuthSettings: Sendable {
    /// Google's OpenID Connect endpoints and client, present only when both client id and secret are set.
    struct Google: Sendable, Equatable {
        var clientID: String
        var clientSecret: String
        var redirectURI: String
        var authURL: String
        var tokenURL: String
        var jwksURL: String
        var issuer: String
    }

    /// Limits on the routes that cost a bcrypt hash, `POST /api/auth/login` and `/signup` (security review M4).
    struct RateLimits: Sendable, Equatable {
        /// `AUTH_RATE_LIMIT_PER_CLIENT_PER_MINUTE`: requests per client address (an IPv6 client by its /64),
        /// as a token bucket of this size refilled over a minute.
        var perClientPerMinute: Int
        /// `AUTH_RATE_LIMIT_GLOBAL_PER_SECOND`: requests per second to this replica from everyone together,
        /// as a token bucket of this size refilled every second.
        var globalPerSecond: Int
        /// `TRUSTED_PROXY_HOPS`: how many proxies in front append to `X-Forwarded-For` (see `ClientAddressResolver`).
        var trustedProxyHops: Int

        static let defaults = RateLimits(perClientPerMinute: 20, globalPerSecond: 10, trustedProxyHops: 1)
    }

    enum Defaults {
        static let accessTokenTTL = 900
        static let refreshTokenTTL = 2_592_000
        /// 90 days: a rotating refresh family ends then, however often it was refreshed.
        static let refreshFamilyMaxAge = 7_776_000
        static let bcryptCost = 12
        static let frontendURL = "http://localhost:3000"
        static let googleRedirectURI = "http://127.0.0.1:8080/api/auth/google/callback"
        static let googleAuthURL = "https://accounts.google.com/o/oauth2/v2/auth"
        static let googleTokenURL = "https://oauth2.googleapis.com/token"
        static let googleJWKSURL = "https://www.googleapis.com/oauth2/v3/certs"
        static let googleIssuer = "https://accounts.google.com"
        /// The development key file under `KEYS_DIR`.
        static let userKeyFileName = "auth-service.user.pem"
    }

    /// `USER_TOKEN_SIGNING_KEY`: the current Ed25519 key (PKCS#8 PEM); nil outside production means
    /// the development key file.
    let userTokenSigningKeyPEM: String?
    /// `USER_TOKEN_PREVIOUS_KEYS`: retired keys (PEM blocks, concatenated) still published and accepted.
    let previousUserTokenKeyPEMs: [String]
    let accessTokenTTL: Int
    let refreshTokenTTL: Int
    /// `REFRESH_FAMILY_MAX_AGE_SECONDS`: the absolute lifetime of a login's refresh family.
    let refreshFamilyMaxAge: Int
    let bcryptCost: Int
    let rateLimits: RateLimits
    /// `GOOGLE_CALLBACK_TOKEN_IN_URL`: true (the seed's behaviour) puts the access token in the redirect to
    /// the front end; false redirects with `success=true` only and the page calls `/api/auth/refresh`.
    let googleCallbackTokenInURL: Bool
    let cookieSecure: Bool
    /// `FRONTEND_URL` without a trailing slash.
    let frontendURL: String
    let google: Google?
    let environment: DeploymentEnvironment
    /// `true` in development only: the seed user is created.
    var seedsDevelopmentData: Bool { environment == .development }

    init(settings: EnvironmentSettings) {
        let production = settings.environment.isProduction
        environment = settings.environment

        userTokenSigningKeyPEM = settings.optional("USER_TOKEN_SIGNING_KEY").map(Self.unescapeNewlines)
        if production, userTokenSigningKeyPEM == nil {
            settings.report("USER_TOKEN_SIGNING_KEY is required when ECG_ENV=production (an Ed25519 private key in PKCS#8 PEM form)")
        }
        if let userKey = userTokenSigningKeyPEM, let serviceKey = settings.optional("SERVICE_SIGNING_KEY").map(Self.unescapeNewlines),
            userKey.trimmingCharacters(in: .whitespacesAndNewlines) == serviceKey.trimmingCharacters(in: .whitespacesAndNewlines)
        {
            settings.report("USER_TOKEN_SIGNING_KEY must differ from SERVICE_SIGNING_KEY")
        }
        let previous = settings.optional("USER_TOKEN_PREVIOUS_KEYS").map(Self.unescapeNewlines) ?? ""
        previousUserTokenKeyPEMs = Self.pemBlocks(in: previous)
        if !previous.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, previousUserTokenKeyPEMs.isEmpty {
            settings.report("USER_TOKEN_PREVIOUS_KEYS must hold one or more PEM blocks (-----BEGIN PRIVATE KEY----- … -----END PRIVATE KEY-----)")
        }

        // At most an hour: every verifier refuses access tokens that live longer (TokenVerifier.defaultMaximumLifetime).
        accessTokenTTL = settings.int("ACCESS_TOKEN_TTL_SECONDS", default: Defaults.accessTokenTTL, range: 60...3_600)
        refreshTokenTTL = settings.int("REFRESH_TOKEN_TTL_SECONDS", default: Defaults.refreshTokenTTL, range: 300...31_536_000)
        refreshFamilyMaxAge = settings.int(
            "REFRESH_FAMILY_MAX_AGE_SECONDS",
            default: Defaults.refreshFamilyMaxAge,
            range: 300...63_072_000
        )
        if refreshFamilyMaxAge < refreshTokenTTL {
            settings.report(
                "REFRESH_FAMILY_MAX_AGE_SECONDS (\(refreshFamilyMaxAge)) must be at least REFRESH_TOKEN_TTL_SECONDS (\(refreshTokenTTL))"
            )
        }
        bcryptCost = settings.int("BCRYPT_COST", default: Defaults.bcryptCost, range: 4...31)
        rateLimits = RateLimits(
            perClientPerMinute: settings.int(
                "AUTH_RATE_LIMIT_PER_CLIENT_PER_MINUTE",
                default: RateLimits.defaults.perClientPerMinute,
                range: 1...1_000_000
            ),
            globalPerSecond: settings.int("AUTH_RATE_LIMIT_GLOBAL_PER_SECOND", default: RateLimits.defaults.globalPerSecond, range: 1...100_000),
            trustedProxyHops: settings.int("TRUSTED_PROXY_HOPS", default: RateLimits.defaults.trustedProxyHops, range: 0...5)
        )
        googleCallbackTokenInURL = settings.bool("GOOGLE_CALLBACK_TOKEN_IN_URL", default: true)
        if production, bcryptCost < 10 {
            settings.report("BCRYPT_COST must be at least 10 when ECG_ENV=production (got \(bcryptCost))")
        }
        cookieSecure = settings.bool("COOKIE_SECURE", default: true)
        if production, !cookieSecure {
            settings.report("COOKIE_SECURE=false is refused when ECG_ENV=production: the refresh cookie must only travel over https")
        }

        let frontend = settings.required("FRONTEND_URL", developmentDefault: Defaults.frontendURL)
        frontendURL = frontend.hasSuffix("/") ? String(frontend.dropLast()) : frontend
        if !frontend.isEmpty {
            Self.checkURL(frontendURL, name: "FRONTEND_URL", production: production, settings: settings)
        }

        let clientID = settings.optional("GOOGLE_CLIENT_ID")
        let clientSecret = settings.optional("GOOGLE_CLIENT_SECRET")
        let redirectURI = settings.optional("GOOGLE_REDIRECT_URI")
        let endpoints = (
            auth: settings.string("GOOGLE_AUTH_URL", default: Defaults.googleAuthURL),
            token: settings.string("GOOGLE_TOKEN_URL", default: Defaults.googleTokenURL),
            jwks: settings.string("GOOGLE_JWKS_URL", default: Defaults.googleJWKSURL),
            issuer: settings.string("GOOGLE_ISSUER", default: Defaults.googleIssuer)
        )
        switch (clientID, clientSecret) {
        case (let clientID?, let clientSecret?):
            if production, redirectURI == nil {
                settings.report("GOOGLE_REDIRECT_URI is required when ECG_ENV=production and Google sign-in is configured")
            }
            let google = Google(
                clientID: clientID,
                clientSecret: clientSecret,
                redirectURI: redirectURI ?? Defaults.googleRedirectURI,
                authURL: endpoints.auth,
                tokenURL: endpoints.token,
                jwksURL: endpoints.jwks,
                issuer: endpoints.issuer
            )
            // A missing GOOGLE_REDIRECT_URI in production is reported above; its development default is not checked.
            var urls = [("GOOGLE_AUTH_URL", google.authURL), ("GOOGLE_TOKEN_URL", google.tokenURL), ("GOOGLE_JWKS_URL", google.jwksURL)]
            if let redirectURI { urls.insert(("GOOGLE_REDIRECT_URI", redirectURI), at: 0) }
            for (name, url) in urls {
                Self.checkURL(url, name: name, production: production, settings: settings)
            }
            self.google = google
        case (nil, nil):
            google = nil
        default:
            settings.report("GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET must be set together (or neither, to turn Google sign-in off)")
            google = nil
        }
    }

    /// An absolute http(s) URL; https in production (Google's endpoints, the frontend, the callback).
    private static func checkURL(_ value: String, name: String, production: Bool, settings: EnvironmentSettings) {
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty
        else {
            settings.report("\(name) must be an absolute http(s) URL (got \(value))")
            return
        }
        if production, scheme != "https" {
            settings.report("\(name) must use https when ECG_ENV=production (got \(value))")
        }
    }

    /// Platforms that cannot hold newlines in a variable may write them as `\n`.
    static func unescapeNewlines(_ value: String) -> String {
        value.replacingOccurrences(of: "\\n", with: "\n")
    }

    /// The `-----BEGIN …----- … -----END …-----` blocks of a text, in order.
    static func pemBlocks(in text: String) -> [String] {
        var blocks: [String] = []
        var rest = Substring(text)
        while let begin = rest.range(of: "-----BEGIN "), let endMarker = rest.range(of: "-----END ", range: begin.upperBound..<rest.endIndex),
            let close = rest.range(of: "-----", range: endMarker.upperBound..<rest.endIndex)
        {
            blocks.append(String(rest[begin.lowerBound..<close.upperBound]))
            rest = rest[close.upperBound...]
        }
        return blocks
    }
}
