import HTTPTypes
import Hummingbird

/// Adds routes to a Hummingbird router or group and records each in the OpenAPI document at the same
/// time: the one way routes are added, so `/openapi.json` stays true.
package struct DocumentedRoutes<Methods: RouterMethods> {
    package typealias Context = Methods.Context
    private let methods: Methods
    private let document: OpenAPIDocument
    private let security: OpenAPISecurity

    package init(_ methods: Methods, document: OpenAPIDocument, security: OpenAPISecurity) {
        self.methods = methods
        self.document = document
        self.security = security
    }

    /// - Parameters:
    ///   - path: the full path in OpenAPI form, e.g. `/api/v1/ml/job-status/{job_id}`.
    ///   - routerPath: what the router matches when it differs from `path`, e.g. `/files/**` for a
    ///     parameter that may contain slashes (the matched rest, still percent-encoded, is
    ///     `context.parameters[Parameters.recursiveCaptureKey]`).
    @discardableResult
    package func on(
        _ method: HTTPRequest.Method,
        _ path: String,
        routerPath: String? = nil,
        _ operation: OpenAPIOperation,
        use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator
    ) -> Self {
        document.add(method: method, path: path, operation: operation, security: security)
        methods.on(RouterPath(routerPath ?? path), method: method, use: handler)
        return self
    }

    @discardableResult
    package func get(
        _ path: String,
        routerPath: String? = nil,
        _ operation: OpenAPIOperation,
        use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator
    ) -> Self {
        on(.get, path, routerPath: routerPath, operation, use: handler)
    }

    @discardableResult
    package func post(
        _ path: String,
        _ operation: OpenAPIOperation,
        use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator
    )
        -> Self
    {
        on(.post, path, operation, use: handler)
    }
}
