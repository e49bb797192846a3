import Foundation

/// The subset of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that ECG's bodies need.
package indirect enum JSONSchema: Sendable {
    case string(format: String? = nil, enumValues: [String]? = nil, minLength: Int? = nil, maxLength: Int? = nil)
    case integer(minimum: Int? = nil, maximum: Int? = nil)
    case number
    case boolean
    case object([String: JSONSchema], required: [String] = [])
    case array(JSONSchema)
    case nullable(JSONSchema)
    /// Any JSON value.
    case any

    package static let text = JSONSchema.string()
    package static let dateTime = JSONSchema.string(format: "date-time")
    package static let error = JSONSchema.object(["detail": .text, "code": .text], required: ["detail", "code"])

    /// An object whose listed properties are all required.
    package static func record(_ properties: KeyValuePairs<String, JSONSchema>) -> JSONSchema {
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

extension JSONSchema {
    /// What in `value` (as `JSONSerialization` reads it) breaks this schema, as `path: problem` lines;
    /// empty when it conforms. Lets tests check that a response type and its published schema agree.
    package func violations(of value: Any, at path: String = "$") -> [String] {
        switch self {
        case .any:
            return []
        case .nullable(let schema):
            return value is NSNull ? [] : schema.violations(of: value, at: path)
        case .string(_, let enumValues, let minLength, let maxLength):
            guard let text = value as? String else { return ["\(path): expected a string, got \(type(of: value))"] }
            var problems: [String] = []
            if let enumValues, !enumValues.contains(text) { problems.append("\(path): \(text) is not one of \(enumValues)") }
            if let minLength, text.count < minLength { problems.append("\(path): shorter than \(minLength)") }
            if let maxLength, text.count > maxLength { problems.append("\(path): longer than \(maxLength)") }
            return problems
        case .integer(let minimum, let maximum):
            guard let number = value as? NSNumber, !Self.isBoolean(number), number.doubleValue == number.doubleValue.rounded() else {
                return ["\(path): expected an integer"]
            }
            if let minimum, number.intValue < minimum { return ["\(path): below \(minimum)"] }
            if let maximum, number.intValue > maximum { return ["\(path): above \(maximum)"] }
            return []
        case .number:
            guard let number = value as? NSNumber, !Self.isBoolean(number) else { return ["\(path): expected a number"] }
            return []
        case .boolean:
            guard let number = value as? NSNumber, Self.isBoolean(number) else { return ["\(path): expected true or false"] }
            return []
        case .array(let items):
            guard let array = value as? [Any] else { return ["\(path): expected an array"] }
            return array.enumerated().flatMap { items.violations(of: $1, at: "\(path)[\($0)]") }
        case .object(let properties, let required):
            guard let object = value as? [String: Any] else { return ["\(path): expected an object"] }
            var problems = required.filter { object[$0] == nil }.map { "\(path).\($0): required but missing" }
            for (name, schema) in properties {
                if let member = object[name] { problems += schema.violations(of: member, at: "\(path).\(name)") }
            }
            let undocumented = object.keys.filter { properties[$0] == nil && !properties.isEmpty }
            problems += undocumented.sorted().map { "\(path).\($0): not in the schema" }
            return problems
        }
    }

    /// JSONSerialization reads `true`/`false` as NSNumbers of type `c` (char).
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
