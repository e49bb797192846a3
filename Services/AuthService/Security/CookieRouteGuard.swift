import ECGPlatform
import Foundation
import Hummingbird

/// Login CSRF defence for the routes that set the refresh cookie (security review M1): login, signup,
/// refresh and the Google callback.
///
/// - A request that carries an `Origin` header must come from an allowed origin: `CORS_ORIGINS` plus the
///   gateway's own origin (that of `FRONTEND_URL`, where the web client is served). Otherwise 403
///   `forbidden_origin`. Requests without `Origin` (curl, server-to-server, top-level GET navigations such
///   as Google's redirect to the callback) are allowed: a browser always sends `Origin` on a cross-origin
///   POST, so a cross-site form cannot omit it.
/// - Routes that take a body accept it only as `application/json` (415 `unsupported_media_type`): a
///   cross-site form can only send `text/plain`, form-encoded or multipart bodies without a preflight.
struct CookieRouteGuard: Sendable {
    let allowedOrigins: Set<String>

    init(corsOrigins: [String], frontendURL: String) {
        var origins = Set(corsOrigins.filter { $0 != "*" }.map(Self.normalize))
        if let own = Self.origin(of: frontendURL) { origins.insert(own) }
        allowedOrigins = origins
    }

    static let forbiddenOrigin = APIError(
        .forbidden,
        code: "forbidden_origin",
        detail: "Requests to this endpoint from another site's page are refused (the Origin header is not allowed)."
    )
    static let unsupportedMediaType = APIError(
        .unsupportedMediaType,
        code: "unsupported_media_type",
        detail: "Send the body as application/json."
    )

    /// Throws 403 for a foreign `Origin`, then (with `jsonBody`) 415 for a body that is not `application/json`.
    func check(_ request: Request, jsonBody: Bool) throws {
        if let origin = request.headers[.origin], !allowedOrigins.contains(Self.normalize(origin)) {
            throw Self.forbiddenOrigin
        }
        if jsonBody {
            let mediaType = (request.headers[.contentType] ?? "").split(separator: ";", maxSplits: 1).first
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard mediaType == "application/json" else { throw Self.unsupportedMediaType }
        }
    }

    /// `scheme://host[:port]` of a URL, lowercased, the default port dropped; nil without scheme or host.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
        if let port = components.port, port != defaultPort { return "\(scheme)://\(host):\(port)" }
        return "\(scheme)://\(host)"
    }

    private static func normalize(_ origin: String) -> String {
        let trimmed = origin.trimmingCharacters(in: .whitespaces)
        return Self.origin(of: trimmed) ?? trimmed.lowercased()
    }
}
