import FlameDiff
import Foundation
import JSONCore
import JSONRPC
import ProtoPprof

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
}

extension ProfileSource {
    public var errorLabel: String? { nil }

    /// Fetches and decodes; decoding runs on a thread of its own and stops when the request is cancelled.
    public func profile(limits: DecodeLimits, parameter: String) async throws(RPCError) -> Profile {
        let bytes = try await self.bytes(limits: limits)
        let name = errorLabel ?? parameter
        return try await offload { () throws(RPCError) -> Profile in try ProfileDecoding.decode(bytes, limits: limits, parameter: name) }
    }
}

/// Decoding of profile bytes, with the error naming the parameter they came from.
public enum ProfileDecoding {
    public static func decode(_ bytes: [UInt8], limits: DecodeLimits, parameter: String) throws(RPCError) -> Profile {
        do {
            return try Profile.decode(bytes, limits: limits)
        } catch {
            throw RPCError.badProfile(error, parameter: parameter)
        }
    }
}

/// Profile bytes carried in the request (`{pprof: base64}`), keyed by a keyed hash of the decoded bytes.
public struct InlineProfile: ProfileSource {
    public let data: [UInt8]
    public let cacheKey: String?
    public var label: String { "inline profile (\(data.count) bytes)" }

    public init(_ data: [UInt8]) {
        self.data = data
        cacheKey = "bytes:" + contentHash(data)
    }

    public func bytes(limits: DecodeLimits) async throws(RPCError) -> [UInt8] { data }
}

/// A file the server may read: inside the directory given with `--allow-dir` (`{path}`). Never cached.
public struct ConfinedFile: ProfileSource {
    public let path: String
    public let directory: String
    let parameter: String
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
    public var cacheKey: String? { nil }
    public var label: String { path }
    public var errorLabel: String? { path }

    public init(_ path: String) { self.path = path }

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

    public init(allowedDirectory: String?) { self.allowedDirectory = allowedDirectory }

    /// The input kinds a request may use, for `initialize`.
    public var kinds: [String] { allowedDirectory == nil ? ["pprof"] : ["pprof", "path"] }

    /// `{pprof: base64}` or `{path}`.
    public func source(_ params: Params) throws(RPCError) -> any ProfileSource {
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
            return ConfinedFile(path: path, directory: allowed, parameter: params.name("path"))
        }
        throw RPCError.invalidParams(String(params.path.dropLast()), "needs 'pprof' (base64) or 'path'")
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
