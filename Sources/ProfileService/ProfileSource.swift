import FlameDiff
import Foundation
import ProfileFormats
import JSONCore
import JSONRPC
import ProtoPprof
import PyroscopeClient
import Synchronization

/// Where a profile comes from. Each kind fetches its bytes (asynchronously: a file, later a remote query)
/// and says which key stands for its content in the result cache (nil: never cached, the content may change).
/// New kinds (other input formats, Pyroscope queries) are new conforming types plus a case in `SourceParser`.
public protocol ProfileSource: Sendable {
    /// A key for the content, or nil when results from it must not be cached.
    var cacheKey: String? { get }
    /// What to call the profile in messages and headings (never its bytes or a secret).
    var label: String { get }
    /// The encoded profile.
    func bytes(limits: DecodeLimits) async throws(RPCError) -> [UInt8]
    /// What decode errors name instead of the request parameter (a file path on the command line).
    var errorLabel: String? { get }
    /// The input format, when the caller named one; nil: detected from the content.
    var format: ProfileFormat? { get }
}

extension ProfileSource {
    public var errorLabel: String? { nil }
    public var format: ProfileFormat? { nil }

    /// Fetches and decodes; decoding runs on a thread of its own and stops when the request is cancelled.
    /// With a memory budget (the request's `MemoryReservation.current`), decoding first reserves what the
    /// profile should need (from the gzip trailer's size, a hint) and grows the reservation as inflating shows
    /// the real size; a budget with no room answers "overloaded".
    public func profile(limits: DecodeLimits, parameter: String) async throws(RPCError) -> Profile {
        // The decoding thread takes the bytes from the box, so that nothing else holds them once inflated.
        let box = Handoff(try await self.bytes(limits: limits))
        let name = errorLabel ?? parameter
        let format = self.format
        guard let reservation = MemoryReservation.current else {
            return try await offload { () throws(RPCError) -> Profile in
                var bytes = box.take() ?? []
                return try ProfileDecoding.decode(releasing: &bytes, format: format, limits: limits, parameter: name)
            }
        }
        return try await offload { () throws(RPCError) -> Profile in
            try reservation.run { () throws(RPCError) -> Profile in
                var bytes = box.take() ?? []
                let estimate = ProfileDecoding.inflatedSizeHint(bytes, limits: limits)
                guard MemoryReservation.cover(inflated: estimate) else {
                    throw RPCError.overloaded(
                        neededBytes: MemoryReservation.need(inflated: estimate), budgetBytes: reservation.budget.limit)
                }
                return try ProfileDecoding.decode(releasing: &bytes, format: format, limits: limits, parameter: name)
            }
        }
    }
}

/// A value handed from a request to the one thread that works on it: `take` leaves the box empty, so that
/// thread holds the only reference and can let the value go (inflated bytes, a decoded profile) as soon as it
/// is done with it, instead of the request's frame keeping it until the answer.
final class Handoff<Value: Sendable>: Sendable {
    private let value: Mutex<Value?>

    init(_ value: Value) { self.value = Mutex(value) }

    /// The value, once; nil after that.
    func take() -> Value? {
        value.withLock { held in
            let taken = held
            held = nil
            return taken
        }
    }
}

/// Decoding of profile bytes in any format the project reads (pprof, legacy pprof, folded stacks, Chrome
/// .cpuprofile, speedscope, perf script; detected from the content unless named), with the error naming the
/// parameter they came from.
public enum ProfileDecoding {
    /// The inflated size to expect: the gzip trailer's (attacker-controlled, so capped by the limit and by what
    /// deflate can produce from these bytes, and only a first guess), else the bytes as they are.
    public static func inflatedSizeHint(_ bytes: [UInt8], limits: DecodeLimits) -> Int {
        guard bytes.count >= 18, bytes[0] == 0x1f, bytes[1] == 0x8b else { return bytes.count }
        let t = bytes.count - 4
        let declared = Int(bytes[t]) | Int(bytes[t + 1]) << 8 | Int(bytes[t + 2]) << 16 | Int(bytes[t + 3]) << 24
        return min(max(declared, bytes.count), limits.maxInflatedBytes, bytes.count * Gunzip.maxRatio)
    }

    /// Decodes, letting go of the caller's bytes once they are inflated (see `ProfileReader.decode(releasing:)`).
    public static func decode(releasing bytes: inout [UInt8], format: ProfileFormat? = nil, limits: DecodeLimits, parameter: String) throws(RPCError) -> Profile {
        do {
            return try ProfileReader.decode(releasing: &bytes, format: format, limits: limits)
        } catch {
            if case .pprof(.memoryBudget) = error, let refusal = MemoryReservation.threadRefusal {
                throw RPCError.overloaded(neededBytes: refusal.neededBytes, budgetBytes: refusal.budgetBytes)
            }
            if case .pprof(let e) = error { throw RPCError.badProfile(e, parameter: parameter) }
            let code = error.kind == "limit_exceeded" ? RPCError.limitExceededCode : RPCError.badProfileCode
            throw RPCError.domain(code, kind: error.kind, "\(parameter): \(error)")
        }
    }
}

/// Profile bytes carried in the request (`{pprof: base64}` or `{data: base64, encoding}`), keyed by a keyed hash
/// of the decoded bytes and the format they are read as.
public struct InlineProfile: ProfileSource {
    public let data: [UInt8]
    public let format: ProfileFormat?
    public var label: String { "inline profile (\(data.count) bytes)" }
    /// Hashed when asked for (only with the result cache on): two passes over the bytes otherwise wasted.
    public var cacheKey: String? { "bytes:" + contentHash(data) + ":" + (format?.rawValue ?? "auto") }

    public init(_ data: [UInt8], format: ProfileFormat? = nil) {
        self.data = data
        self.format = format
    }

    public func bytes(limits: DecodeLimits) async throws(RPCError) -> [UInt8] { data }
}

/// A file the server may read: inside the directory given with `--allow-dir` (`{path}`). Never cached.
public struct ConfinedFile: ProfileSource {
    public let path: String
    public let directory: String
    let parameter: String
    public var format: ProfileFormat? = nil
    public var cacheKey: String? { nil }
    public var label: String { path }

    public init(path: String, directory: String, parameter: String) {
        self.path = path
        self.directory = directory
        self.parameter = parameter
    }

    public func bytes(limits: DecodeLimits) async throws(RPCError) -> [UInt8] {
        let (path, directory, parameter) = (self.path, self.directory, self.parameter)
        return try await offload { () throws(RPCError) -> [UInt8] in
            do throws(ConfinedFileError) {
                return try readConfinedFile(path, inside: directory, limit: max(limits.maxInflatedBytes, 64 << 20))
            } catch {
                switch error {
                case .outside, .missing: throw RPCError.invalidParams(parameter, "is outside the allowed directory or does not exist")
                case .notRegular: throw RPCError.invalidParams(parameter, "is not a regular file")
                case .tooLarge(let limit): throw RPCError.invalidParams(parameter, "is larger than \(limit) bytes")
                case .unreadable: throw RPCError.invalidParams(parameter, "could not be read")
                }
            }
        }
    }
}

/// A file named on the command line: any path the user can read. Never cached.
public struct LocalFile: ProfileSource {
    public let path: String
    public let format: ProfileFormat?
    public var cacheKey: String? { nil }
    public var label: String { path }
    public var errorLabel: String? { path }

    public init(_ path: String, format: ProfileFormat? = nil) {
        self.path = path
        self.format = format
    }

    public func bytes(limits: DecodeLimits) async throws(RPCError) -> [UInt8] {
        let path = self.path
        return try await offload { () throws(RPCError) -> [UInt8] in
            do {
                return try readWholeFile(path, limit: max(limits.maxInflatedBytes, 64 << 20))
            } catch {
                throw RPCError.domain(RPCError.badProfileCode, kind: "unreadable", "\(error)")
            }
        }
    }
}

/// Reads profile sources out of request parameters. Each kind of source is one key of the profile object.
public struct SourceParser: Sendable {
    /// The directory `{path}` profiles may come from; nil refuses every path.
    public var allowedDirectory: String?
    /// The Pyroscope `{pyroscope}` profiles are queried from (the request's app settings, else the server's);
    /// nil: not configured, a failure: settings that cannot work (PyroscopeSource.swift).
    public var pyroscope: Result<PyroscopeConfig, PyroscopeError>?
    /// The request's time (ms since the epoch), so that every relative time of one request means the same
    /// instant; nil: the clock when a source is read.
    public var now: Int64?

    public init(allowedDirectory: String?) { self.allowedDirectory = allowedDirectory }

    /// The input kinds a request may use, for `initialize`.
    public var kinds: [String] {
        (allowedDirectory == nil ? ["pprof", "data"] : ["pprof", "data", "path"]) + (pyroscopeConfigured ? ["pyroscope"] : [])
    }

    /// The formats `{data, encoding}` and `{path, encoding}` may name (`auto`: detected from the content).
    public static var encodings: [String] { ["auto"] + ProfileFormat.allCases.map(\.rawValue) }

    /// `encoding`: a format name, or nil for detection. A name, not `format`: that is the output format.
    func encoding(_ params: Params) throws(RPCError) -> ProfileFormat? {
        guard let name = try params.string("encoding"), name != "auto" else { return nil }
        guard let format = ProfileFormat(name: name) else {
            throw RPCError.invalidParams(params.name("encoding"), "must be one of: \(Self.encodings.joined(separator: ", "))")
        }
        return format
    }

    /// `{pprof: base64}`, `{data: base64, encoding?}` (any format the project reads) or `{path, encoding?}`.
    public func source(_ params: Params) throws(RPCError) -> any ProfileSource {
        if params.has("pyroscope") { return try pyroscopeSource(params.nested("pyroscope")) }
        if let encoded = try params.string("data") {
            guard let data = Data(base64Encoded: encoded) else {
                throw RPCError.invalidParams(params.name("data"), "is not valid base64")
            }
            return InlineProfile([UInt8](data), format: try encoding(params))
        }
        if let encoded = try params.string("pprof") {
            // Strict: characters outside the alphabet are an error, not skipped (skipping them would let two
            // different texts stand for one profile).
            guard let data = Data(base64Encoded: encoded) else {
                throw RPCError.invalidParams(params.name("pprof"), "is not valid base64")
            }
            return InlineProfile([UInt8](data))
        }
        if let path = try params.string("path") {
            guard let allowed = allowedDirectory else {
                throw RPCError.invalidParams(params.name("path"), "is not allowed: the server was started without --allow-dir")
            }
            var file = ConfinedFile(path: path, directory: allowed, parameter: params.name("path"))
            file.format = try encoding(params)
            return file
        }
        throw RPCError.invalidParams(String(params.path.dropLast()), "needs 'pprof' (base64), 'data' (base64, any format), 'path' or 'pyroscope'")
    }

    /// One profile or an array of profiles (a side of a diff).
    public func sources(_ params: Params, _ key: String) throws(RPCError) -> [any ProfileSource] {
        switch params.values[key] {
        case .array(let items)?:
            if items.isEmpty { throw RPCError.invalidParams(params.name(key), "must not be empty") }
            var out: [any ProfileSource] = []
            for (i, item) in items.enumerated() { out.append(try source(Params(item, path: params.name(key) + "[\(i)]."))) }
            return out
        case .object?:
            return [try source(params.nested(key))]
        default:
            throw RPCError.invalidParams(params.name(key), "must be a profile or an array of profiles")
        }
    }
}

/// Reads a whole file with POSIX calls, refusing files over `limit` bytes.
public func readWholeFile(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileReadError(description: "\(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw FileReadError(description: "\(path): \(String(cString: strerror(errno)))") }
    if (st.st_mode & S_IFMT) == S_IFDIR { throw FileReadError(description: "\(path): is a directory") }
    let size = Int(st.st_size)
    if size > limit { throw FileReadError(description: "\(path): \(size) bytes is over the limit of \(limit) bytes") }
    var bytes = [UInt8](repeating: 0, count: size)
    var done = 0
    try bytes.withUnsafeMutableBytes { buffer in
        while done < size {
            let n = read(fd, buffer.baseAddress! + done, size - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileReadError(description: "\(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            done += n
        }
    }
    if done < size { bytes.removeSubrange(done...) }
    return bytes
}

public struct FileReadError: Error, CustomStringConvertible {
    public var description: String
}
