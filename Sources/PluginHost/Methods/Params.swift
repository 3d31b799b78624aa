import FlameDiff
import Foundation
import ProtoPprof

/// Typed access to a request's named parameters. Every problem names the parameter, never its value.
struct Params: Sendable {
    let values: [String: JSONValue]
    /// Prefix for nested parameter names in messages ("profile." ...).
    let path: String

    init(_ params: JSONValue?, path: String = "") throws(RPCError) {
        self.path = path
        switch params {
        case nil, .null?: values = [:]
        case .object(let o)?: values = o
        default: throw RPCError.invalidParams(path.isEmpty ? "params" : String(path.dropLast()), "must be an object")
        }
    }

    func name(_ key: String) -> String { path + key }

    func has(_ key: String) -> Bool { values[key] != nil && values[key] != .null }

    func string(_ key: String) throws(RPCError) -> String? {
        switch values[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw RPCError.invalidParams(name(key), "must be a string")
        }
    }

    func requiredString(_ key: String) throws(RPCError) -> String {
        guard let s = try string(key) else { throw RPCError.invalidParams(name(key), "is required") }
        return s
    }

    func int(_ key: String, in range: ClosedRange<Int64>? = nil) throws(RPCError) -> Int64? {
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

    func bool(_ key: String) throws(RPCError) -> Bool? {
        switch values[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw RPCError.invalidParams(name(key), "must be true or false")
        }
    }

    func strings(_ key: String) throws(RPCError) -> [String] {
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

    func nested(_ key: String) throws(RPCError) -> Params {
        guard let v = values[key], v != .null else { throw RPCError.invalidParams(name(key), "is required") }
        return try Params(v, path: name(key) + ".")
    }

    func oneOf<T: RawRepresentable>(_ key: String, default value: T) throws(RPCError) -> T where T.RawValue == String, T: CaseIterable {
        guard let s = try string(key) else { return value }
        guard let v = T(rawValue: s) else {
            throw RPCError.invalidParams(name(key), "must be one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }

    /// `sampleType` as a name or an index; nil selects the profile's default.
    func sampleTypeSelector() throws(RPCError) -> SampleTypeSelector? {
        switch values["sampleType"] {
        case nil, .null?: return nil
        case .string(let s)?: return .name(s)
        case .int(let i)?: return .index(Int(i))
        default: throw RPCError.invalidParams(name("sampleType"), "must be a sample type name or index")
        }
    }

    /// Sample selection, frame key and filters shared by every profile method.
    func treeOptions() throws(RPCError) -> TreeOptions {
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

/// Where profiles may come from, and the limits applied while reading them.
struct ProfileSource: Sendable {
    var limits: DecodeLimits
    /// A canonical directory from which `{path}` profiles may be read; nil refuses every path.
    var allowedDirectory: String?

    /// Reads `{pprof: base64}` or `{path}` (inside the allowed directory only).
    func load(_ params: Params) throws(RPCError) -> Profile {
        let bytes: [UInt8]
        if let encoded = try params.string("pprof") {
            // Strict: characters outside the alphabet are an error, not skipped (skipping them would let two
            // different texts stand for one profile).
            guard let data = Data(base64Encoded: encoded) else {
                throw RPCError.invalidParams(params.name("pprof"), "is not valid base64")
            }
            bytes = [UInt8](data)
        } else if let path = try params.string("path") {
            guard let allowed = allowedDirectory else {
                throw RPCError.invalidParams(params.name("path"), "is not allowed: the server was started without --allow-dir")
            }
            do throws(ConfinedFileError) {
                bytes = try readConfinedFile(path, inside: allowed, limit: max(limits.maxInflatedBytes, 64 << 20))
            } catch {
                switch error {
                case .outside, .missing:
                    throw RPCError.invalidParams(params.name("path"), "is outside the allowed directory or does not exist")
                case .notRegular:
                    throw RPCError.invalidParams(params.name("path"), "is not a regular file")
                case .tooLarge(let limit):
                    throw RPCError.invalidParams(params.name("path"), "is larger than \(limit) bytes")
                case .unreadable:
                    throw RPCError.invalidParams(params.name("path"), "could not be read")
                }
            }
        } else {
            throw RPCError.invalidParams(String(params.path.dropLast()), "needs 'pprof' (base64) or 'path'")
        }
        do {
            return try Profile.decode(bytes, limits: limits)
        } catch {
            throw RPCError.badProfile(error, parameter: String(params.path.dropLast()))
        }
    }

    /// One profile or an array of profiles (a side of a diff).
    func loadMany(_ params: Params, _ key: String) throws(RPCError) -> [Profile] {
        switch params.values[key] {
        case .array(let items)?:
            if items.isEmpty { throw RPCError.invalidParams(params.name(key), "must not be empty") }
            var out: [Profile] = []
            for (i, item) in items.enumerated() { out.append(try load(Params(item, path: params.name(key) + "[\(i)]."))) }
            return out
        case .object?:
            return [try load(params.nested(key))]
        default:
            throw RPCError.invalidParams(params.name(key), "must be a profile or an array of profiles")
        }
    }
}

func realpathString(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
