import ECGPlatform
import Foundation
import HummingbirdTesting

/// The OpenAPI document a router serves at `/openapi.json`, read back into `JSONSchema`s so that tests
/// check bodies against what is published, not against a copy of the schema.
package struct PublishedOpenAPI {
    /// A documented response: `GET /api/auth/me` 200.
    package struct Response: Hashable, CustomStringConvertible {
        package let method: String
        package let path: String
        package let status: Int
        package var description: String { "\(method) \(path) \(status)" }

        package init(method: String, path: String, status: Int) {
            self.method = method
            self.path = path
            self.status = status
        }
    }

    package struct Unreadable: Error, CustomStringConvertible {
        package let description: String
    }

    package let document: [String: Any]

    /// Fetches `/openapi.json` from the router under test.
    package init(_ client: some TestClientProtocol) async throws {
        try self.init(data: try await Self.fetch(client))
    }

    /// The bytes of `/openapi.json` from the router under test.
    package static func fetch(_ client: some TestClientProtocol) async throws -> Data {
        try await client.execute(uri: "/openapi.json", method: .get) { Data(buffer: $0.body) }
    }

    package init(data: Data) throws {
        guard let document = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Unreadable(description: "/openapi.json is not a JSON object")
        }
        self.document = document
    }

    /// Every response documented with an `application/json` body.
    package var jsonResponses: Set<Response> {
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        var found: Set<Response> = []
        for (path, operations) in paths {
            for (method, operation) in operations {
                let responses = (operation as? [String: Any])?["responses"] as? [String: [String: Any]] ?? [:]
                for (status, response) in responses where (response["content"] as? [String: Any])?["application/json"] != nil {
                    found.insert(Response(method: method.uppercased(), path: path, status: Int(status) ?? 0))
                }
            }
        }
        return found
    }

    /// The published schema of one response's JSON body.
    package func schema(_ response: Response) throws -> JSONSchema {
        let paths = document["paths"] as? [String: [String: Any]]
        let operation = paths?[response.path]?[response.method.lowercased()] as? [String: Any]
        let documented = (operation?["responses"] as? [String: [String: Any]])?[String(response.status)]
        let content = documented?["content"] as? [String: [String: Any]]
        guard let schema = content?["application/json"]?["schema"] as? [String: Any] else {
            throw Unreadable(description: "\(response): no JSON body is documented")
        }
        return try Self.schema(schema, at: "\(response)")
    }

    package func schema(_ method: String, _ path: String, _ status: Int) throws -> JSONSchema {
        try schema(Response(method: method, path: path, status: status))
    }

    /// `components.schemas.Error`.
    package var errorSchema: JSONSchema {
        get throws {
            let components = document["components"] as? [String: Any]
            guard let error = (components?["schemas"] as? [String: Any])?["Error"] as? [String: Any] else {
                throw Unreadable(description: "components.schemas.Error is missing")
            }
            return try Self.schema(error, at: "Error")
        }
    }

    private static let keywords: Set<String> = [
        "type", "format", "enum", "minLength", "maxLength", "minimum", "maximum", "properties", "required", "items",
    ]

    /// Reads the JSON Schema subset `JSONSchema` writes; anything else (a keyword it would ignore) is an error,
    /// so that no published constraint goes unchecked.
    package static func schema(_ json: [String: Any], at location: String) throws -> JSONSchema {
        if json.isEmpty { return .any }
        if let unknown = json.keys.first(where: { !keywords.contains($0) }) {
            throw Unreadable(description: "\(location): keyword \(unknown) is not read by these tests")
        }
        if let types = json["type"] as? [String] {
            let others = types.filter { $0 != "null" }
            guard types.contains("null"), others.count == 1 else { throw Unreadable(description: "\(location): type \(types)") }
            var single = json
            single["type"] = others[0]
            return .nullable(try schema(single, at: location))
        }
        switch json["type"] as? String {
        case "string":
            return .string(
                format: json["format"] as? String,
                enumValues: json["enum"] as? [String],
                minLength: json["minLength"] as? Int,
                maxLength: json["maxLength"] as? Int
            )
        case "integer":
            return .integer(minimum: json["minimum"] as? Int, maximum: json["maximum"] as? Int)
        case "number":
            return .number
        case "boolean":
            return .boolean
        case "array":
            guard let items = json["items"] as? [String: Any] else { throw Unreadable(description: "\(location): array without items") }
            return .array(try schema(items, at: "\(location)[]"))
        case "object":
            let properties = json["properties"] as? [String: [String: Any]] ?? [:]
            return .object(
                try properties.reduce(into: [:]) { result, property in
                    result[property.key] = try schema(property.value, at: "\(location).\(property.key)")
                },
                required: json["required"] as? [String] ?? []
            )
        default:
            throw Unreadable(description: "\(location): type \(String(describing: json["type"]))")
        }
    }

    /// What in `value` breaks `schema`: `JSONSchema.violations(of:)`, plus the string formats it does not
    /// check (`date-time` as RFC 3339, `email`).
    package static func problems(of value: Any, against schema: JSONSchema) -> [String] {
        schema.violations(of: value) + formatViolations(of: value, against: schema, at: "$")
    }

    private static func formatViolations(of value: Any, against schema: JSONSchema, at path: String) -> [String] {
        switch schema {
        case .nullable(let inner):
            return formatViolations(of: value, against: inner, at: path)
        case .string(let format?, _, _, _):
            guard let text = value as? String else { return [] }
            let pattern =
                switch format {
                case "date-time": #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#
                case "email": #"^[^@\s]+@[^@\s]+$"#
                default: ".*"
                }
            return text.range(of: pattern, options: .regularExpression) == nil ? ["\(path): \(text) is not in \(format) format"] : []
        case .array(let items):
            return (value as? [Any] ?? []).enumerated().flatMap { formatViolations(of: $1, against: items, at: "\(path)[\($0)]") }
        case .object(let properties, _):
            let object = value as? [String: Any] ?? [:]
            return properties.sorted { $0.key < $1.key }.flatMap { name, property in
                object[name].map { formatViolations(of: $0, against: property, at: "\(path).\(name)") } ?? []
            }
        default:
            return []
        }
    }

    /// `value` as `JSONSerialization` reads the bytes the routes send (`JSONResponse`'s encoder).
    package static func wire(_ value: some Encodable) throws -> Any {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try JSONSerialization.jsonObject(with: try encoder.encode(value))
    }
}
