import Foundation
import JSONCore

#if canImport(Glibc)
    import Glibc
#endif

/// FlyingFox has a `JSONValue` of its own: in this module the name is JSONCore's.
typealias JSONValue = JSONCore.JSONValue

/// The profiles the page can name, and what each name becomes for the backend.
///
/// The page only ever sends `{name}`; names are the host's, in three kinds:
/// - files of `--profiles DIR` (the child runs with `--allow-dir DIR`): `{path: NAME}`, read by the child;
/// - FILE and `--vs CMP` from the command line: `{path}` when inside DIR; else, without `--profiles`, a copy in the
///   host's private folder (made again when the file changes, so a re-recorded profile shows on reload) named by
///   `{path}`; else `{data: base64}` of the file as it is when asked;
/// - uploads (`POST /upload`): files in the host's private folder (see `UploadStore`), `{path}` or `{data}` alike.
public struct ProfileCatalogue: Sendable {
    /// Real path of `--profiles DIR`, if given.
    public let directory: String?
    /// FILE and CMP: (name shown to the page, real path).
    public let commandLine: [(name: String, path: String)]
    public static let maxListed = 1000

    public init(directory: String?, commandLineFiles: [String]) throws {
        if let directory {
            guard let real = PageFiles.realPath(directory) else {
                throw PageFiles.LoadError(description: "--profiles \(directory) does not exist")
            }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: real, isDirectory: &isDir), isDir.boolValue else {
                throw PageFiles.LoadError(description: "--profiles \(directory) is not a directory")
            }
            self.directory = real
        } else {
            self.directory = nil
        }
        var named: [(String, String)] = []
        for file in commandLineFiles {
            guard let real = PageFiles.realPath(file) else { throw PageFiles.LoadError(description: "\(file) does not exist") }
            var name = (real as NSString).lastPathComponent
            var k = 2
            while named.contains(where: { $0.0 == name }) {
                name = "\((real as NSString).lastPathComponent) (\(k))"
                k += 1
            }
            named.append((name, real))
        }
        self.commandLine = named
    }

    /// Regular, non-hidden files directly in DIR, sorted (at most `maxListed`).
    public func directoryNames() -> [String] {
        guard let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var out: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            var st = stat()
            guard lstat(directory + "/" + name, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            out.append(name)
            if out.count == Self.maxListed { break }
        }
        return out
    }

    /// Every name, command-line files first.
    public func names() -> [String] {
        commandLine.map(\.name) + directoryNames().filter { n in !commandLine.contains { $0.name == n } }
    }

    public enum Source: Equatable, Sendable {
        /// A file of DIR, named relative to it.
        case inDirectory(String)
        /// A command-line file outside DIR: its real path and its place among the command-line files.
        case commandLine(path: String, index: Int)
    }

    /// Where a catalogue name's profile is, or nil when the name is not one of ours.
    public func source(for name: String) -> Source? {
        if let index = commandLine.firstIndex(where: { $0.name == name }) {
            let entry = commandLine[index]
            if let directory, entry.path.hasPrefix(directory + "/"), !entry.path.dropFirst(directory.count + 1).contains("/") {
                return .inDirectory(String(entry.path.dropFirst(directory.count + 1)))
            }
            return .commandLine(path: entry.path, index: index)
        }
        guard directory != nil, !name.contains("/"), !name.hasPrefix("."), directoryNames().contains(name) else { return nil }
        return .inDirectory(name)
    }

    static func pathReference(_ name: String) -> [UInt8] {
        JSONValue.object(["path": .string(name)]).encoded()
    }

    /// `{"data":"<base64>"}`, written directly (a 30 MB profile should not pass through a JSON string value).
    static func dataReference(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(#"{"data":""#.utf8)
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4 + 2)
        bytes.withUnsafeBytes { Base64.encode($0, into: &out) }
        out.append(contentsOf: Array(#""}"#.utf8))
        return out
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PageFiles.LoadError(description: "cannot read \((path as NSString).lastPathComponent)")
        }
        return [UInt8](data)
    }
}

/// Uploaded profiles, kept as files in the host's private folder (mode 0700, made at start, removed at exit;
/// files 0600), so that one upload serves every request about it (`/flamegraph`, `/top`, `/info`, `/diff`,
/// `/explain`) and the child reads it by `{path}` like any profile: at most `maxCount` uploads and
/// `maxTotalBytes` in all, the least recently used deleted first; each at most `maxBytes` (refused from its
/// Content-Length before the body is read). The folder also holds copies of command-line files outside DIR.
public actor UploadStore {
    struct Upload {
        var name: String
        var label: String
        var size: Int
        var lastUse: UInt64
    }

    public nonisolated let directory: String
    public let maxBytes: Int
    public let maxCount: Int
    public let maxTotalBytes: Int
    private var uploads: [String: Upload] = [:]
    private var clock: UInt64 = 0
    /// Command-line copies: key -> (size, mtime seconds, mtime nanoseconds) of the source when copied.
    private var mirrors: [String: (Int64, Int, Int)] = [:]

    public struct StoreError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Makes the private folder (under TMPDIR).
    public init(maxBytes: Int, maxCount: Int, maxTotalBytes: Int) throws {
        var template = Array((NSTemporaryDirectory() + "/flamegraph-ai-dev-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw StoreError(description: "cannot make a private folder for uploads: \(String(cString: strerror(errno)))")
        }
        directory = PageFiles.realPath(String(cString: made)) ?? String(cString: made)
        self.maxBytes = maxBytes
        self.maxCount = maxCount
        self.maxTotalBytes = max(maxTotalBytes, maxBytes)
    }

    /// Stores an upload; returns its name (`upload-` and 16 random hex digits).
    public func add(_ bytes: [UInt8], label: String) throws -> String {
        var rng = SystemRandomNumberGenerator()
        let name = "upload-" + String(format: "%016llx", rng.next() as UInt64)
        while !uploads.isEmpty && (uploads.count >= maxCount || uploads.values.reduce(0, { $0 + $1.size }) + bytes.count > maxTotalBytes) {
            guard let oldest = uploads.values.min(by: { $0.lastUse < $1.lastUse }) else { break }
            uploads.removeValue(forKey: oldest.name)
            unlink(directory + "/" + oldest.name)
        }
        try Self.writePrivate(directory + "/" + name, bytes)
        clock += 1
        uploads[name] = Upload(name: name, label: label, size: bytes.count, lastUse: clock)
        return name
    }

    /// The upload's file, or nil when it is not (or no longer) kept.
    public func path(of name: String) -> String? {
        guard var u = uploads[name] else { return nil }
        clock += 1
        u.lastUse = clock
        uploads[name] = u
        return directory + "/" + name
    }

    public var count: Int { uploads.count }

    /// A copy of `source` in the folder, named `key`, made again when the source's size or mtime changed.
    public func mirror(_ source: String, key: String) throws -> String {
        var st = stat()
        guard stat(source, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw StoreError(description: "cannot read \((source as NSString).lastPathComponent)")
        }
        let stamp = (Int64(st.st_size), st.st_mtim.tv_sec, st.st_mtim.tv_nsec)
        if let seen = mirrors[key], seen == stamp, access(directory + "/" + key, F_OK) == 0 { return key }
        try Self.writePrivate(directory + "/" + key, try ProfileCatalogue.readFile(source))
        mirrors[key] = stamp
        return key
    }

    /// Deletes the folder and everything in it.
    public nonisolated func removeAll() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func writePrivate(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw StoreError(description: "cannot store an upload: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var done = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while done < buffer.count {
                let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        guard ok else { throw StoreError(description: "cannot store an upload: \(String(cString: strerror(errno)))") }
    }
}
