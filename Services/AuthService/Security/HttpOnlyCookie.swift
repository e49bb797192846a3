import Foundation
import Hummingbird

/// The attributes auth-service's cookies share: HttpOnly, SameSite=Lax, a path, a lifetime, and
/// Secure unless `COOKIE_SECURE=false`. Used by the refresh cookie and the Google state cookie.
struct HttpOnlyCookie: Sendable {
    let name: String
    let path: String
    let maxAge: Int
    let secure: Bool

    func setting(_ value: String) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// Tells the browser to drop the cookie: empty value, Max-Age=0 and an expiry in the past.
    func clearing() -> Cookie {
        Cookie(
            name: name,
            value: "",
            expires: Date(timeIntervalSince1970: 0),
            maxAge: 0,
            path: path,
            secure: secure,
            httpOnly: true,
            sameSite: .lax
        )
    }
}
