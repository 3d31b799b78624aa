import JSONCore

/// JSON Schema (2020-12) builders for the tool listings, and a validator for the subset they use.
public enum Schema {
    public static func object(
        _ properties: [String: JSONValue], required: [String] = [], description: String? = nil, additional: Bool = false
    ) -> JSONValue {
        var o: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { o["required"] = .array(required.map(JSONValue.string)) }
        if !additional { o["additionalProperties"] = false }
        if let description { o["description"] = .string(description) }
        return .object(o)
    }

    public static func string(_ description: String, oneOf values: [String]? = nil, maxLength: Int? = nil, default value: String? = nil)
        -> JSONValue
    {
        var o: [String: JSONValue] = ["type": "string", "description": .string(description)]
        if let values { o["enum"] = .array(values.map(JSONValue.string)) }
        if let maxLength { o["maxLength"] = .int(Int64(maxLength)) }
        if let value { o["default"] = .string(value) }
        return .object(o)
    }

    public static func integer(_ description: String, range: ClosedRange<Int>? = nil, default value: Int? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["type": "integer", "description": .string(description)]
        if let range {
            o["minimum"] = .int(Int64(range.lowerBound))
            o["maximum"] = .int(Int64(range.upperBound))
        }
        if let value { o["default"] = .int(Int64(value)) }
        return .object(o)
    }

    public static let number: JSONValue = ["type": "number"]
    public static let int: JSONValue = ["type": "integer"]
    public static let text: JSONValue = ["type": "string"]
    public static let bool: JSONValue = ["type": "boolean"]

    public static func array(_ items: JSONValue, description: String? = nil, maxItems: Int? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["type": "array", "items": items]
        if let description { o["description"] = .string(description) }
        if let maxItems { o["maxItems"] = .int(Int64(maxItems)) }
        return .object(o)
    }

    /// `{type, unit}` of a sample type.
    public static let sampleType = object(["type": text, "unit": text], required: ["type", "unit"])

    /// An object whose keys are free and whose values are numbers (counts of what was left out).
    public static let counts: JSONValue = ["type": "object", "additionalProperties": number]
}

/// Validates a value against a schema of the subset this server writes: `type` (a name or a list),
/// `properties`, `required`, `additionalProperties` (false or a schema), `items`, `enum`, `minimum`,
/// `maximum`, `minLength`, `maxLength`, `minItems`, `maxItems`, `minProperties`, `maxProperties`, and `x-exactlyOneOf`.
/// Annotations (`description`, `default`, `title`) are ignored. Returns every problem, each naming its place.
public enum SchemaValidator {
    /// A keyword of this server's (other validators take it as an annotation): exactly one of these
    /// properties must be present.
    public static let exactlyOneOf = "x-exactlyOneOf"

    public static func validate(_ value: JSONValue, against schema: JSONValue, at path: String = "") -> [String] {
        guard case .object(let s) = schema else { return [] }
        var problems: [String] = []
        let place = path.isEmpty ? "the value" : "'\(path)'"
        if let type = s["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue ?? ""]
            if !allowed.contains(where: { matches(value, type: $0) }) {
                return ["\(place) must be \(allowed.map(article).joined(separator: " or ")), not \(typeName(value))"]
            }
        }
        if let options = s["enum"]?.arrayValue, !options.contains(where: { equal($0, value) }) {
            let names = options.map { String(decoding: $0.encoded(), as: UTF8.self) }
            problems.append("\(place) must be one of: \(names.joined(separator: ", "))")
        }
        if let n = number(value) {
            if let min = s["minimum"].flatMap(number), n < min { problems.append("\(place) must be at least \(format(min))") }
            if let max = s["maximum"].flatMap(number), n > max { problems.append("\(place) must be at most \(format(max))") }
        }
        if case .string(let text) = value {
            let length = text.unicodeScalars.count
            if let min = s["minLength"]?.intValue, length < min { problems.append("\(place) must have at least \(min) characters") }
            if let max = s["maxLength"]?.intValue, length > max { problems.append("\(place) must have at most \(max) characters") }
        }
        if case .array(let items) = value {
            if let min = s["minItems"]?.intValue, items.count < min { problems.append("\(place) must have at least \(min) items") }
            if let max = s["maxItems"]?.intValue, items.count > max { problems.append("\(place) must have at most \(max) items") }
            if let itemSchema = s["items"] {
                for (i, item) in items.enumerated() {
                    problems += validate(item, against: itemSchema, at: "\(path)[\(i)]")
                }
            }
        }
        if case .object(let o) = value {
            let names = (s["properties"]?.objectValue ?? [:]).keys.sorted().joined(separator: ", ")
            if let keys = s[exactlyOneOf]?.arrayValue?.compactMap(\.stringValue), keys.filter({ o[$0] != nil }).count != 1 {
                return ["\(place) needs exactly one of: \(keys.joined(separator: ", "))"]
            }
            if s["minProperties"]?.intValue == 1, s["maxProperties"]?.intValue == 1, o.count != 1 {
                problems.append("\(place) needs exactly one of: \(names)")
            } else {
                if let min = s["minProperties"]?.intValue, o.count < min {
                    problems.append("\(place) must have at least \(min) properties")
                }
                if let max = s["maxProperties"]?.intValue, o.count > max { problems.append("\(place) must have at most \(max) properties") }
            }
            for key in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where o[key] == nil {
                problems.append("'\(join(path, key))' is required")
            }
            let properties = s["properties"]?.objectValue ?? [:]
            for key in o.keys.sorted() {
                let child = join(path, key)
                if let propertySchema = properties[key] {
                    problems += validate(o[key]!, against: propertySchema, at: child)
                } else if let additional = s["additionalProperties"] {
                    if additional == .bool(false) {
                        problems.append("'\(child)' is not a known property (known: \(properties.keys.sorted().joined(separator: ", ")))")
                    } else if additional.objectValue != nil {
                        problems += validate(o[key]!, against: additional, at: child)
                    }
                }
            }
        }
        return problems
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("number", .int), ("number", .double): return true
        case ("integer", .int): return true
        case ("integer", .double(let d)): return d.rounded() == d && d.isFinite
        default: return false
        }
    }

    static func article(_ type: String) -> String {
        switch type {
        case "integer": return "an integer"
        case "array": return "an array"
        case "object": return "an object"
        case "null": return "null"
        default: return "a \(type)"
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        case .encoded: return "encoded JSON"
        }
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    static func format(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d) }

    /// JSON equality, with 1 and 1.0 equal.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return a == b
    }
}
