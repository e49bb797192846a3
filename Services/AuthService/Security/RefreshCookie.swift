import Foundation
import Hummingbird

/// The `refresh_token` cookie (SPEC.md §3): HttpOnly, SameSite=Lax, Path=/api/auth,
/// Max-Age=`REFRESH_TOKEN_TTL_SECONDS` (2592000), Secure unless `COOKIE_SECURE=false`.
struct RefreshCookie: Sendable {
    static let name = "refresh_token"
    static let path = "/api/auth"

    private let cookie: HttpOnlyCookie

    init(maxAge: Int, secure: Bool) {
        cookie = HttpOnlyCookie(name: Self.name, path: Self.path, maxAge: maxAge, secure: secure)
    }

    func setting(_ token: String) -> Cookie { cookie.setting(token) }

    func clearing() -> Cookie { cookie.clearing() }

    /// The presented refresh token, if the request carries one.
    static func token(in request: Request) -> String? {
        guard let value = request.cookies[name]?.value, !value.isEmpty else { return nil }
        return value
    }
}
