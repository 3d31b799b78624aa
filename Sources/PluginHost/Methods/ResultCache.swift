import FlameDiff
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

    /// The cache key, or nil when the request must not be cached.
    static func key(method: String, params: Params) -> String? {
        var canonical = params.values
        canonical["progress"] = nil
        var uncacheable = false
        func replaceProfiles(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(var o):
                if o["path"] != nil { uncacheable = true }
                if case .string(let encoded)? = o["pprof"] {
                    o["pprof"] = .string("h:" + contentHash(encoded))
                    return .object(o)
                }
                return .object(o.mapValues(replaceProfiles))
            case .array(let a):
                return .array(a.map(replaceProfiles))
            default:
                return value
            }
        }
        let keyed = replaceProfiles(.object(canonical))
        if uncacheable { return nil }
        return method + " " + String(decoding: keyed.encoded(), as: UTF8.self)
    }

    func value(_ key: String?, compute: () throws(RPCError) -> JSONValue) throws(RPCError) -> JSONValue {
        guard maxBytes > 0, let key else { return try compute() }
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
        let value = try compute()
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

/// A 128-bit keyed hash of the text: SipHash (Swift's `Hasher`) under this process's random seed, twice with
/// distinct domain prefixes. Without the seed nobody can engineer two profiles with one key, and the base64
/// it hashes is decoded strictly, so the text stands for the bytes.
func contentHash(_ text: String) -> String {
    var a = Hasher()
    var b = Hasher()
    a.combine(0xA5 as UInt8)
    b.combine(0x5A as UInt8)
    var copy = text
    copy.withUTF8 { bytes in
        a.combine(bytes: UnsafeRawBufferPointer(bytes))
        b.combine(bytes: UnsafeRawBufferPointer(bytes))
    }
    a.combine(text.utf8.count)
    b.combine(text.utf8.count)
    return String(UInt64(bitPattern: Int64(a.finalize())), radix: 16) + "-" + String(UInt64(bitPattern: Int64(b.finalize())), radix: 16)
}
