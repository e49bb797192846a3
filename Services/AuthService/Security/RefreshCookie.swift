import Foundation
import Hummingbird

/// The `refresh_token` cookie (SPEC.md §3): HttpOnly, SameSite=Lax, Path=/api/auth,
/// Max-Age=`REFRESH_TOKEN_TTL_SECONDS` (2592000), Secure unless `COOKIE_SECURE=false`.
struct RefreshCookie: Sendable {
    static let name = "refresh_token"
    static let path = "/api/auth"

    let maxAge: Int
    let secure: Bool

    func setting(_ token: String) -> Cookie {
        Cookie(name: Self.name, value: token, maxAge: maxAge, path: Self.path, secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// Tells the browser to drop the cookie: empty value, Max-Age=0 and an expiry in the past.
    func clearing() -> Cookie {
        Cookie(
            name: Self.name,
            value: "",
            expires: Date(timeIntervalSince1970: 0),
            maxAge: 0,
            path: Self.path,
            secure: secure,
            httpOnly: true,
            sameSite: .lax
        )
    }

    /// The presented refresh token, if the request carries one.
    static func token(in request: Request) -> String? {
        guard let value = request.cookies[name]?.value, !value.isEmpty else { return nil }
        return value
    }
}
