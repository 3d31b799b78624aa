import FlameDiff
import JSONCore
import JSONRPC
import Foundation
import ProtoPprof

/// Typed access to a request's named parameters. Every problem names the parameter, never its value.
public struct Params: Sendable {
    public let values: [String: JSONValue]
    /// Prefix for nested parameter names in messages ("profile." ...).
    public let path: String

    public init(_ params: JSONValue?, path: String = "") throws(RPCError) {
        self.path = path
        switch params {
        case nil, .null?: values = [:]
        case .object(let o)?: values = o
        default: throw RPCError.invalidParams(path.isEmpty ? "params" : String(path.dropLast()), "must be an object")
        }
    }

    public func name(_ key: String) -> String { path + key }

    public func has(_ key: String) -> Bool { values[key] != nil && values[key] != .null }

    public func string(_ key: String) throws(RPCError) -> String? {
        switch values[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw RPCError.invalidParams(name(key), "must be a string")
        }
    }

    public func requiredString(_ key: String) throws(RPCError) -> String {
        guard let s = try string(key) else { throw RPCError.invalidParams(name(key), "is required") }
        return s
    }

    public func int(_ key: String, in range: ClosedRange<Int64>? = nil) throws(RPCError) -> Int64? {
        switch values[key] {
        case nil, .null?: return nil
        case let v?:
            guard let i = v.intValue else { throw RPCError.invalidParams(name(key), "must be an integer") }
            if let range, !range.contains(i) {
                throw RPCError.invalidParams(name(key), "must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return i
        }
    }

    public func bool(_ key: String) throws(RPCError) -> Bool? {
        switch values[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw RPCError.invalidParams(name(key), "must be true or false")
        }
    }

    public func strings(_ key: String) throws(RPCError) -> [String] {
        switch values[key] {
        case nil, .null?: return []
        case .array(let a)?:
            var out: [String] = []
            for v in a {
                guard let s = v.stringValue else { throw RPCError.invalidParams(name(key), "must be an array of strings") }
                out.append(s)
            }
            return out
        default: throw RPCError.invalidParams(name(key), "must be an array of strings")
        }
    }

    public func nested(_ key: String) throws(RPCError) -> Params {
        guard let v = values[key], v != .null else { throw RPCError.invalidParams(name(key), "is required") }
        return try Params(v, path: name(key) + ".")
    }

    public func oneOf<T: RawRepresentable>(_ key: String, default value: T) throws(RPCError) -> T where T.RawValue == String, T: CaseIterable {
        guard let s = try string(key) else { return value }
        guard let v = T(rawValue: s) else {
            throw RPCError.invalidParams(name(key), "must be one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }

    /// `sampleType` as a name or an index; nil selects the profile's default.
    public func sampleTypeSelector() throws(RPCError) -> SampleTypeSelector? {
        switch values["sampleType"] {
        case nil, .null?: return nil
        case .string(let s)?: return .name(s)
        case .int(let i)?: return .index(Int(i))
        default: throw RPCError.invalidParams(name("sampleType"), "must be a sample type name or index")
        }
    }

    /// Sample selection, frame key and filters shared by every profile method.
    public func treeOptions() throws(RPCError) -> TreeOptions {
        var options = TreeOptions()
        options.sampleType = try sampleTypeSelector()
        options.frameKey = try oneOf("key", default: FrameKey.function)
        do {
            options.includeLabels = try strings("includeLabels").map { s throws(FlameDiffError) in try LabelFilter(parsing: s) }
            options.excludeLabels = try strings("excludeLabels").map { s throws(FlameDiffError) in try LabelFilter(parsing: s) }
        } catch {
            throw RPCError.invalidParams(name("includeLabels"), "entries must be key=value")
        }
        options.focus = try string("focus")
        options.ignore = try string("ignore")
        return options
    }
}

