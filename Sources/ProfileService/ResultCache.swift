import JSONCore
import JSONRPC
import Synchronization

/// Results of profile methods, keyed by the method, its parameters and a 128-bit keyed hash of each profile,
/// evicted least-recently-used past a byte budget. Grafana asks for the same profile again on every click
/// (another maxNodes, a focus, the table after the graph); a repeated request then costs a lookup.
/// Profiles given by `path` are never cached: the file may change.
final class ResultCache: Sendable {
    private struct State {
        var entries: [String: (value: JSONValue, bytes: Int, lastUse: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    let maxBytes: Int
    private let state = Mutex(State())

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    /// The cache key: the method, its parameters with every profile object replaced by a placeholder, and the
    /// content keys of the request's sources in order; nil when a source must not be cached.
    static func key(method: String, params: Params, sources: [any ProfileSource]) -> String? {
        var keys: [String] = []
        for s in sources {
            guard let k = s.cacheKey else { return nil }
            keys.append(k)
        }
        var canonical = params.values
        canonical["progress"] = nil
        canonical["pluginContext"] = nil
        func placeholders(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let o):
                if o["pprof"] != nil || o["path"] != nil || o["data"] != nil || o["pyroscope"] != nil { return "<source>" }
                return .object(o.mapValues(placeholders))
            case .array(let a):
                return .array(a.map(placeholders))
            default:
                return value
            }
        }
        let keyed = placeholders(.object(canonical))
        return method + " " + String(decoding: keyed.encoded(), as: UTF8.self) + " " + keys.joined(separator: " ")
    }

    func value(_ key: String?, compute: () async throws(RPCError) -> JSONValue) async throws(RPCError) -> JSONValue {
        guard maxBytes > 0, let key else { return try await compute() }
        let cached: JSONValue? = state.withLock { s in
            s.clock += 1
            guard let entry = s.entries[key] else {
                s.misses += 1
                return nil
            }
            s.hits += 1
            s.entries[key]!.lastUse = s.clock
            return entry.value
        }
        if let cached { return cached }
        let value = try await compute()
        let size = value.encoded().count + key.utf8.count
        guard size <= maxBytes / 4 else { return value }
        state.withLock { s in
            s.clock += 1
            if let old = s.entries[key] { s.bytes -= old.bytes }
            s.entries[key] = (value, size, s.clock)
            s.bytes += size
            while s.bytes > maxBytes, let victim = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                s.bytes -= victim.value.bytes
                s.entries[victim.key] = nil
            }
        }
        return value
    }

    var statistics: (entries: Int, bytes: Int, hits: Int, misses: Int) {
        state.withLock { ($0.entries.count, $0.bytes, $0.hits, $0.misses) }
    }
}

/// A 128-bit keyed hash of bytes: SipHash (Swift's `Hasher`) under this process's random seed, twice with
/// distinct domain prefixes. Without the seed nobody can engineer two profiles with one key.
func contentHash(_ bytes: [UInt8]) -> String {
    var a = Hasher()
    var b = Hasher()
    a.combine(0xA5 as UInt8)
    b.combine(0x5A as UInt8)
    bytes.withUnsafeBytes { raw in
        a.combine(bytes: raw)
        b.combine(bytes: raw)
    }
    a.combine(bytes.count)
    b.combine(bytes.count)
    return String(UInt64(bitPattern: Int64(a.finalize())), radix: 16) + "-" + String(UInt64(bitPattern: Int64(b.finalize())), radix: 16)
}
