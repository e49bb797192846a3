import HTTPTypes
import Hummingbird

/// CORS for the origins in `CORS_ORIGINS` only, with credentials (the refresh cookie).
/// The exact origin is echoed back, never `*`, and `Vary: Origin` keeps caches honest.
package struct AllowListCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    private let origins: Set<String>

    package init(origins: [String]) {
        self.origins = Set(origins)
    }

    package func handle(_ request: Request, context: Context, next: @concurrent (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) else {
            return try await next(request, context)
        }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response.headers[.accessControlAllowHeaders] =
                request.headers[.accessControlRequestHeaders] ?? "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
            response.headers[.accessControlMaxAge] = "600"
        } else {
            response = try await next(request, context)
            response.headers[.accessControlExposeHeaders] = "X-Request-ID, Retry-After"
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlAllowCredentials] = "true"
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        return response
    }
}
