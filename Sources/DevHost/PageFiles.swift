import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The page's static files (frontend-stub/): only the page's own, by an exact list made at start.
///
/// - At start the folder is walked once: regular files with a page type (html, js, css, svg, png, ico) whose real
///   path lies inside the folder are listed. Hidden files, other types (README.md), and symlinks that lead out of
///   the folder are not. A request can only name a listed file: nothing else is ever opened, and there is no
///   listing of folders.
/// - The request's raw path is checked before anything is looked up: after the page prefix it is percent-decoded
///   once (invalid escapes refused); a NUL, a backslash, a `%` left after decoding, an empty, `.` or `..`
///   segment (so `..`, `%2e%2e`, `..%2f` and `//etc/passwd`) is refused.
/// - Contents are read at request time (edits show on reload), opened without following a symlink, and the
///   opened file must still be a regular file inside the folder.
public struct PageFiles: Sendable {
    public static let prefix = "/a/flamegraphai-explain-app/"

    public static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon",
    ]

    public enum Lookup: Equatable, Sendable {
        case file(path: String, contentType: String)
        /// Refused before any lookup: a malformed or escaping path (400).
        case refused(String)
        /// Not one of the page's files (404).
        case notFound
    }

    public let root: String
    /// Relative path (as requested) -> real path.
    public let files: [String: String]

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(directory: String) throws {
        guard let root = Self.realPath(directory) else { throw LoadError(description: "\(directory) does not exist") }
        guard FileManager.default.fileExists(atPath: root + "/index.html") else {
            throw LoadError(description: "\(directory) has no index.html: is it the page folder (frontend-stub/)?")
        }
        self.root = root
        var files: [String: String] = [:]
        Self.walk(root: root, relative: "", depth: 0, into: &files)
        self.files = files
    }

    private static func walk(root: String, relative: String, depth: Int, into files: inout [String: String]) {
        guard depth < 4, let names = try? FileManager.default.contentsOfDirectory(atPath: root + "/" + relative) else { return }
        for name in names.sorted() where !name.hasPrefix(".") {
            let rel = relative.isEmpty ? name : relative + "/" + name
            guard let real = realPath(root + "/" + rel), real.hasPrefix(root + "/") else { continue }  // leads out
            var st = stat()
            guard stat(real, &st) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFDIR {
                walk(root: root, relative: rel, depth: depth + 1, into: &files)
            } else if st.st_mode & S_IFMT == S_IFREG, contentTypes[ext(name)] != nil {
                files[rel] = real
            }
        }
    }

    private static func ext(_ name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }

    /// Maps a raw request path (percent-encoded, as on the request line) to one of the page's files.
    public func lookup(rawPath: String) -> Lookup {
        guard rawPath.hasPrefix(Self.prefix) else { return .notFound }
        let encoded = String(rawPath.dropFirst(Self.prefix.count))
        if encoded.isEmpty { return file("index.html") }
        guard let decoded = encoded.removingPercentEncoding else { return .refused("the path has an invalid %-escape") }
        if decoded.contains("\0") || decoded.contains("\\") || decoded.contains("%") {
            return .refused("the path has a character no page file has")
        }
        let segments = decoded.split(separator: "/", omittingEmptySubsequences: false)
        for s in segments where s.isEmpty || s == "." || s == ".." {
            return .refused("the path has an empty, '.' or '..' segment")
        }
        return file(decoded)
    }

    private func file(_ rel: String) -> Lookup {
        guard let real = files[rel], let type = Self.contentTypes[Self.ext(rel)] else { return .notFound }
        return .file(path: real, contentType: type)
    }

    /// Reads a listed file: opened without following a symlink, still a regular file inside the folder.
    public func read(_ path: String) -> Data? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size < 16 << 20 else { return nil }
        guard let opened = Self.realPath("/proc/self/fd/\(fd)"), opened.hasPrefix(root + "/") else { return nil }
        var data = Data(count: Int(st.st_size))
        var done = 0
        let ok = data.withUnsafeMutableBytes { buffer -> Bool in
            while done < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        return ok ? data : nil
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
