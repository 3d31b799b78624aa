import FlameDiff
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct FileError: Error, CustomStringConvertible {
    var description: String
}

/// Reads a whole file into memory with POSIX calls (no Foundation copy), refusing files over `limit` bytes.
func readFile(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw FileError(description: "\(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw FileError(description: "\(path): \(String(cString: strerror(errno)))") }
    if (st.st_mode & S_IFMT) == S_IFDIR { throw FileError(description: "\(path): is a directory") }
    let size = Int(st.st_size)
    if size > limit { throw FileError(description: "\(path): \(size) bytes is over the limit of \(limit) bytes") }
    var bytes = [UInt8](repeating: 0, count: size)
    var done = 0
    try bytes.withUnsafeMutableBytes { buffer in
        while done < size {
            let n = read(fd, buffer.baseAddress! + done, size - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(description: "\(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            done += n
        }
    }
    if done < size { bytes.removeSubrange(done...) }
    return bytes
}

/// Writes bytes to standard output in full.
func writeStdout(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(1, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            done += n
        }
    }
}

func writeStderr(_ text: String) {
    var text = text
    if !text.hasSuffix("\n") { text += "\n" }
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(2, buffer.baseAddress! + done, buffer.count - done)
            if n <= 0 { return }
            done += n
        }
    }
}

/// Phase timings on stderr when FLAMEGRAPH_AI_TIMING is set: what each stage of a command costs.
struct PhaseTimer {
    private let enabled = getenv("FLAMEGRAPH_AI_TIMING") != nil
    private let start = ContinuousClock.now
    private var last = ContinuousClock.now

    mutating func mark(_ phase: String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        func ms(_ d: Duration) -> String {
            let v = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
            return NumberText.fixed(v, places: 2)
        }
        writeStderr("[timing] \(phase): \(ms(now - last)) ms (total \(ms(now - start)) ms)")
        last = now
    }
}

