#if canImport(Glibc)
import Glibc
#endif

/// Why a `{path}` profile could not be read; messages never name more than the caller gave.
enum ConfinedFileError: Error, Equatable {
    case outside
    case missing
    case notRegular
    case tooLarge(limit: Int)
    case unreadable
}

/// Reads a file that must lie inside `directory` (a canonical path). A relative `path` is taken relative to
/// the directory. Symlinks are resolved first and the result must stay inside; the file is then opened
/// without following a final symlink and without blocking (a FIFO cannot hang the reader), must be a regular
/// file, and the opened descriptor's own path is checked again, so a rename or symlink swap between the
/// check and the open cannot lead outside.
func readConfinedFile(_ path: String, inside directory: String, limit: Int) throws(ConfinedFileError) -> [UInt8] {
    let candidate = path.hasPrefix("/") ? path : (directory == "/" ? "/" : directory + "/") + path
    func isInside(_ p: String) -> Bool {
        directory == "/" ? p.hasPrefix("/") : (p == directory || p.hasPrefix(directory + "/"))
    }
    guard let resolved = realpathString(candidate) else { throw .missing }
    guard isInside(resolved) else { throw .outside }
    let fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw errno == ELOOP ? .outside : .unreadable }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .unreadable }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notRegular }
    guard let opened = realpathString("/proc/self/fd/\(fd)"), isInside(opened) else { throw .outside }
    let size = Int(st.st_size)
    if size > limit { throw .tooLarge(limit: limit) }
    // Back to blocking reads for a regular file.
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    var bytes = [UInt8](repeating: 0, count: size)
    var done = 0
    let failed = bytes.withUnsafeMutableBytes { buffer -> Bool in
        while done < size {
            let n = read(fd, buffer.baseAddress! + done, size - done)
            if n < 0 {
                if errno == EINTR { continue }
                return true
            }
            if n == 0 { break }
            done += n
        }
        return false
    }
    if failed { throw .unreadable }
    if done < size { bytes.removeSubrange(done...) }
    return bytes
}

/// The canonical form of a path (symlinks resolved), or nil when it does not exist.
public func realpathString(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
