import HTTPTypes
import Hummingbird

/// An error a client may see: the status, a stable snake_case `code` and a human `detail` (SPEC.md §3).
package struct APIError: Error, Sendable, Equatable {
    package let status: HTTPResponse.Status
    package let code: String
    package let detail: String
    package var headers: HTTPFields

    package init(_ status: HTTPResponse.Status, code: String, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    package static func invalidJSON(_ detail: String = "The request body is not valid JSON.") -> APIError {
        APIError(.badRequest, code: "invalid_json", detail: detail)
    }

    /// 422 naming the field that failed.
    package static func validation(field: String, _ problem: String) -> APIError {
        APIError(.unprocessableContent, code: "validation_error", detail: "\(field): \(problem)")
    }

    package static func unauthorized(
        _ detail: String = "Authentication required: send a valid bearer token.",
        code: String = "not_authenticated"
    )
        -> APIError
    {
        APIError(.unauthorized, code: code, detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }

    package static func notFound(_ detail: String = "Not found.", code: String = "not_found") -> APIError {
        APIError(.notFound, code: code, detail: detail)
    }

    package static let payloadTooLarge = APIError(.contentTooLarge, code: "payload_too_large", detail: "The request body is larger than 64 KiB.")

    package static let unexpected = APIError(.internalServerError, code: "internal_error", detail: "Internal server error.")
}

/// A domain error (thrown below the controllers, e.g. by a repository) and the answer a client gets
/// for it: the mapping lives beside the controllers, the error mapper applies it.
package protocol APIErrorConvertible: Error {
    var apiError: APIError { get }
}

/// The JSON body of every error response.
package struct ErrorBody: Codable, Sendable, Equatable {
    /// `code` first: error bodies read `{"code":…,"detail":…}`, as they always have.
    package let code: String
    package let detail: String

    package init(detail: String, code: String) {
        self.detail = detail
        self.code = code
    }
}
