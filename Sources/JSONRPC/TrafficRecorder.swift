import JSONCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Mirrors JSON-RPC traffic to `FILE.requests.jsonl` and `FILE.responses.jsonl` for `replay`, with secrets
/// removed: the same rule as the logs, applied to structure rather than to text.
///
/// - Values under `decryptedSecureJsonData` / `secureJsonData` (Grafana's secure settings) become `<redacted>`.
/// - Header values whose name says credential (`Authorization`, `Cookie`, `X-Api-Key`, anything with `token`,
///   `secret`, `password` or `key`) become `<redacted>`.
/// - Every secret seen so far is also scrubbed from the text of each line written, so a line that does not
///   parse, or an answer that echoes a key, cannot carry one to disk.
/// Files are created with mode 0600 (and set to it when they already exist).
public final class TrafficRecorder: Sendable {
    private let requestsFD: Int32
    private let responsesFD: Int32
    private let secrets = Mutex<Set<String>>([])

    public struct OpenError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Opens (truncating) both files; `knownSecrets` are the server's own credentials.
    public init(prefix: String, knownSecrets: [String] = []) throws {
        func openPrivate(_ path: String) throws -> Int32 {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw OpenError(description: "\(path): \(String(cString: strerror(errno)))") }
            fchmod(fd, 0o600)
            return fd
        }
        requestsFD = try openPrivate(prefix + ".requests.jsonl")
        responsesFD = try openPrivate(prefix + ".responses.jsonl")
        secrets.withLock { $0.formUnion(knownSecrets.filter { $0.count >= 4 }) }
    }

    deinit {
        close(requestsFD)
        close(responsesFD)
    }

    /// Records a request line: re-encoded with secrets redacted when it parses, scrubbed text otherwise.
    public func recordRequest(raw: [UInt8], parsed: JSONValue?) {
        var line: [UInt8]
        if let parsed {
            var found: Set<String> = []
            let clean = Self.redact(parsed, found: &found)
            if !found.isEmpty { secrets.withLock { $0.formUnion(found.filter { $0.count >= 4 }) } }
            line = clean.encoded()
        } else {
            line = raw
        }
        line = scrub(line)
        line.append(0x0A)
        _ = writeFully(requestsFD, line)
    }

    /// Records one protocol message as written to stdout (newline included).
    public func recordResponse(_ bytes: [UInt8]) {
        _ = writeFully(responsesFD, scrub(bytes))
    }

    private static let secureContainers: Set<String> = ["decryptedsecurejsondata", "securejsondata"]

    public static func isCredentialHeader(_ name: String) -> Bool {
        let n = name.lowercased()
        return n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "set-cookie"
            || n.contains("token") || n.contains("secret") || n.contains("password") || n.contains("api-key")
            || n.contains("apikey") || n.contains("api_key")
    }

    /// The value with every secret replaced; the secret strings found are added to `found`.
    public static func redact(_ value: JSONValue, found: inout Set<String>, inHeaders: Bool = false) -> JSONValue {
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o {
                if secureContainers.contains(k.lowercased()) {
                    out[k] = redactAll(v, found: &found)
                } else if inHeaders && isCredentialHeader(k) {
                    out[k] = redactAll(v, found: &found)
                } else {
                    out[k] = redact(v, found: &found, inHeaders: k.lowercased() == "headers")
                }
            }
            return .object(out)
        case .array(let a):
            return .array(a.map { redact($0, found: &found, inHeaders: inHeaders) })
        default:
            return value
        }
    }

    private static func redactAll(_ value: JSONValue, found: inout Set<String>) -> JSONValue {
        switch value {
        case .object(let o): return .object(o.mapValues { redactAll($0, found: &found) })
        case .array(let a): return .array(a.map { redactAll($0, found: &found) })
        case .string(let s):
            found.insert(s)
            return .string("<redacted>")
        case .null: return .null
        default: return .string("<redacted>")
        }
    }

    /// Replaces each known secret's bytes in a line.
    private func scrub(_ line: [UInt8]) -> [UInt8] {
        let known = secrets.withLock { $0 }
        if known.isEmpty { return line }
        var text = String(decoding: line, as: UTF8.self)
        var changed = false
        for s in known where text.contains(s) {
            text = text.replacing(s, with: "<redacted>")
            changed = true
        }
        return changed ? Array(text.utf8) : line
    }
}

/// Writes all of `bytes` to `fd`, retrying after signals; false when a write fails (EPIPE: the reader went away).
func writeFully(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }
}
