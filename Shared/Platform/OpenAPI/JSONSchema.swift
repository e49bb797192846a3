/// The subset of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that ECG's bodies need.
public indirect enum JSONSchema: Sendable {
    case string(format: String? = nil, enumValues: [String]? = nil, minLength: Int? = nil, maxLength: Int? = nil)
    case integer(minimum: Int? = nil, maximum: Int? = nil)
    case number
    case boolean
    case object([String: JSONSchema], required: [String] = [])
    case array(JSONSchema)
    case nullable(JSONSchema)
    /// Any JSON value.
    case any

    public static let text = JSONSchema.string()
    public static let dateTime = JSONSchema.string(format: "date-time")
    public static let error = JSONSchema.object(["detail": .text, "code": .text], required: ["detail", "code"])

    /// An object whose listed properties are all required.
    public static func record(_ properties: KeyValuePairs<String, JSONSchema>) -> JSONSchema {
        .object(Dictionary(uniqueKeysWithValues: properties.map { ($0.key, $0.value) }), required: properties.map(\.key))
    }

    var json: [String: any Sendable] {
        switch self {
        case .string(let format, let enumValues, let minLength, let maxLength):
            var result: [String: any Sendable] = ["type": "string"]
            if let format { result["format"] = format }
            if let enumValues { result["enum"] = enumValues }
            if let minLength { result["minLength"] = minLength }
            if let maxLength { result["maxLength"] = maxLength }
            return result
        case .integer(let minimum, let maximum):
            var result: [String: any Sendable] = ["type": "integer"]
            if let minimum { result["minimum"] = minimum }
            if let maximum { result["maximum"] = maximum }
            return result
        case .number: return ["type": "number"]
        case .boolean: return ["type": "boolean"]
        case .object(let properties, let required):
            var result: [String: any Sendable] = ["type": "object", "properties": properties.mapValues(\.json)]
            if !required.isEmpty { result["required"] = required.sorted() }
            return result
        case .array(let items): return ["type": "array", "items": items.json]
        case .nullable(let schema):
            var result = schema.json
            if let type = result["type"] as? String { result["type"] = [type, "null"] }
            return result
        case .any: return [:]
        }
    }
}
