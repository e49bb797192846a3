import Foundation
import HTTPTypes
import Synchronization

/// Who may call an operation.
package enum OpenAPISecurity: Sendable {
    case none
    /// A user access token from auth-service.
    case userBearer
    /// A service token (`typ: service`); `/internal/*` only.
    case serviceBearer
}

/// One documented operation.
package struct OpenAPIOperation: Sendable {
    package struct Response: Sendable {
        package let description: String
        package let schema: JSONSchema?
        package let contentType: String

        package init(_ description: String, _ schema: JSONSchema? = nil, contentType: String = "application/json") {
            self.description = description
            self.schema = schema
            self.contentType = contentType
        }
    }

    package let summary: String
    package let requestBody: JSONSchema?
    package let responses: [Int: Response]
    package let parameters: [(name: String, location: String, required: Bool, schema: JSONSchema)]

    package init(
        _ summary: String,
        body: JSONSchema? = nil,
        responses: [Int: Response],
        headers: [(name: String, required: Bool)] = [],
        query: [(name: String, required: Bool)] = []
    ) {
        self.summary = summary
        self.requestBody = body
        self.responses = responses
        self.parameters =
            headers.map { ($0.name, "header", $0.required, JSONSchema.text) } + query.map { ($0.name, "query", $0.required, JSONSchema.text) }
    }
}

/// The service's OpenAPI 3.1 document, filled by `DocumentedRoutes` as routes are added, so that
/// every served route is documented and nothing undocumented is served.
package final class OpenAPIDocument: Sendable {
    private struct Entry: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let operation: OpenAPIOperation
        let security: OpenAPISecurity
    }

    package let title: String
    package let version: String
    private let entries = Mutex<[Entry]>([])

    package init(title: String, version: String = "1.0.0") {
        self.title = title
        self.version = version
    }

    func add(method: HTTPRequest.Method, path: String, operation: OpenAPIOperation, security: OpenAPISecurity) {
        entries.withLock { $0.append(Entry(method: method, path: path, operation: operation, security: security)) }
    }

    /// `(method, path)` of every documented operation, e.g. `("GET", "/health")`.
    package var operations: [(method: String, path: String)] {
        entries.withLock { $0.map { ($0.method.rawValue, $0.path) } }
    }

    package func jsonData() throws -> Data {
        try JSONSerialization.data(withJSONObject: jsonObject, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    var jsonObject: [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for entry in entries.withLock({ $0 }) {
            var operation: [String: Any] = [
                "summary": entry.operation.summary,
                "operationId": Self.operationID(entry.method, entry.path),
                "responses": Dictionary(
                    uniqueKeysWithValues: entry.operation.responses.map { status, response -> (String, Any) in
                        var body: [String: Any] = ["description": response.description]
                        if let schema = response.schema {
                            body["content"] = [response.contentType: ["schema": schema.json]]
                        }
                        return (String(status), body)
                    }
                ),
            ]
            var parameters: [[String: Any]] = Self.pathParameters(entry.path).map {
                ["name": $0, "in": "path", "required": true, "schema": JSONSchema.text.json]
            }
            parameters += entry.operation.parameters.map {
                ["name": $0.name, "in": $0.location, "required": $0.required, "schema": $0.schema.json]
            }
            if !parameters.isEmpty { operation["parameters"] = parameters }
            if let body = entry.operation.requestBody {
                operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": body.json]]]
            }
            switch entry.security {
            case .none: operation["security"] = [[String: Any]]()
            case .userBearer: operation["security"] = [["userToken": [String]()]]
            case .serviceBearer: operation["security"] = [["serviceToken": [String]()]]
            }
            paths[entry.path, default: [:]][entry.method.rawValue.lowercased()] = operation
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": title, "version": version],
            "paths": paths,
            "components": [
                "securitySchemes": [
                    "userToken": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "auth-service access token (EdDSA)"],
                    "serviceToken": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "service token (typ: service)"],
                ],
                "schemas": ["Error": JSONSchema.error.json],
            ],
        ]
    }

    static func pathParameters(_ path: String) -> [String] {
        path.split(separator: "/").compactMap { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
        }
    }

    static func operationID(_ method: HTTPRequest.Method, _ path: String) -> String {
        let words = path.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.prefix(1).uppercased() + $0.dropFirst() }
        return method.rawValue.lowercased() + words.joined()
    }
}
