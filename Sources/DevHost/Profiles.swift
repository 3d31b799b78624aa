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
/// - FILE and `--vs CMP` from the command line: `{path}` when inside DIR, else `{data: base64}` of the file as it
///   is when asked (so a re-recorded profile shows on reload);
/// - uploads (`POST /upload`): `{data: base64}` of the bytes the host keeps (see `UploadStore`).
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

    /// The JSON-RPC profile for a catalogue name, or nil when the name is not one of ours.
    public func reference(for name: String) throws -> [UInt8]? {
        if let entry = commandLine.first(where: { $0.name == name }) {
            if let directory, entry.path.hasPrefix(directory + "/"), !entry.path.dropFirst(directory.count + 1).contains("/") {
                return JSONValue.object(["path": .string(String(entry.path.dropFirst(directory.count + 1)))]).encoded()
            }
            let bytes = try Self.readFile(entry.path)
            return Self.dataReference(bytes)
        }
        guard directory != nil, !name.contains("/"), !name.hasPrefix("."), directoryNames().contains(name) else { return nil }
        return JSONValue.object(["path": .string(name)]).encoded()
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

/// Uploaded profiles, kept in memory so that one upload serves every request about it (`/flamegraph`, `/top`,
/// `/info`, `/diff`, `/explain`): at most `maxCount` uploads and `maxTotalBytes` in all, the least recently
/// used dropped first; each at most `maxBytes` (refused from its Content-Length before the body is read).
public actor UploadStore {
    public struct Upload: Sendable {
        public var name: String
        public var label: String
        public var bytes: [UInt8]
        var lastUse: UInt64
    }

    public let maxBytes: Int
    public let maxCount: Int
    public let maxTotalBytes: Int
    private var uploads: [String: Upload] = [:]
    private var clock: UInt64 = 0

    public init(maxBytes: Int, maxCount: Int, maxTotalBytes: Int) {
        self.maxBytes = maxBytes
        self.maxCount = maxCount
        self.maxTotalBytes = max(maxTotalBytes, maxBytes)
    }

    /// Stores an upload; returns its name (`upload-` and 16 random hex digits).
    public func add(_ bytes: [UInt8], label: String) -> String {
        var rng = SystemRandomNumberGenerator()
        let name = "upload-" + String(format: "%016llx", rng.next() as UInt64)
        while uploads.count >= maxCount
            || (uploads.values.reduce(0) { $0 + $1.bytes.count } + bytes.count > maxTotalBytes && !uploads.isEmpty)
        {
            guard let oldest = uploads.values.min(by: { $0.lastUse < $1.lastUse }) else { break }
            uploads.removeValue(forKey: oldest.name)
        }
        clock += 1
        uploads[name] = Upload(name: name, label: label, bytes: bytes, lastUse: clock)
        return name
    }

    public func bytes(of name: String) -> [UInt8]? {
        guard var u = uploads[name] else { return nil }
        clock += 1
        u.lastUse = clock
        uploads[name] = u
        return u.bytes
    }

    public var count: Int { uploads.count }
}
