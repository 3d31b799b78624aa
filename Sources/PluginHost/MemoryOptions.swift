import ArgumentParser
import Foundation
import ProtoPprof

/// `--max-memory`: the whole process's memory budget, for `serve` and `mcp` (and `dev`'s serve child, which gets
/// the same default). Requests reserve from what is left once the process's own footprint, the result cache and
/// the line buffers are set aside; see README's limits table.
struct MemoryOptions: ParsableArguments {
    @Option(
        name: .customLong("max-memory"),
        help: "Memory budget of the whole process, in bytes (suffixes K, M, G, T: powers of 1024). Default: half the machine's memory (or of the cgroup's limit). Requests past it wait briefly, then are answered 'overloaded'.")
    var maxMemory: String?

    @Option(name: .customLong("memory-wait-seconds"), help: "How long a request waits for room in the memory budget before it is answered 'overloaded'.")
    var memoryWaitSeconds: Double = 5

    /// The fraction of the machine's memory that is the default budget.
    static let defaultFraction = 0.5

    func validate() throws {
        if let maxMemory, Self.parseBytes(maxMemory) == nil {
            throw ValidationError("--max-memory \(maxMemory) is not a size (e.g. 4294967296, 4G, 512M)")
        }
        guard memoryWaitSeconds >= 0 && memoryWaitSeconds <= 600 else { throw ValidationError("--memory-wait-seconds must be between 0 and 600") }
    }

    /// The process's budget in bytes.
    var processBytes: Int { maxMemory.flatMap(Self.parseBytes) ?? Int(Double(Self.machineBytes()) * Self.defaultFraction) }

    /// The budget requests share: the process's, less what it holds already (resident now), the result cache and
    /// two request lines (one read, one parsed). Throws when nothing would be left.
    func budget(cacheBytes: Int, maxLineBytes: Int) throws -> MemoryBudget {
        let total = processBytes
        let setAside = Self.residentBytes() + cacheBytes + 2 * maxLineBytes
        let left = total - setAside
        guard left >= 16 << 20 else {
            throw ValidationError(
                "--max-memory \(total) leaves no room for requests: the process holds \(Self.residentBytes()) bytes, the result cache may hold \(cacheBytes) and request lines \(2 * maxLineBytes) (lower --cache-bytes or --max-line-bytes)"
            )
        }
        return MemoryBudget(limit: left, wait: .milliseconds(Int(memoryWaitSeconds * 1000)))
    }

    /// `123`, `4K`, `512M`, `2G`, `1T` (also `KiB`…, `KB`…, all powers of 1024).
    static func parseBytes(_ text: String) -> Int? {
        var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits.removeLast(suffix.count)
            break
        }
        var shift = 0
        if let last = digits.last, let index = "KMGT".firstIndex(of: last) {
            shift = 10 * ("KMGT".distance(from: "KMGT".startIndex, to: index) + 1)
            digits.removeLast()
        }
        guard let value = Int(digits), value > 0, value <= Int.max >> shift else { return nil }
        return value << shift
    }

    /// Physical memory, or the cgroup's (v2 `memory.max`, v1 `memory.limit_in_bytes`) when lower.
    static func machineBytes() -> Int {
        var bytes = Int(ProcessInfo.processInfo.physicalMemory)
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0
            {
                bytes = min(bytes, limit)
            }
        }
        return bytes
    }

    /// The process's resident set now (/proc/self/statm), 0 when unknown.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
