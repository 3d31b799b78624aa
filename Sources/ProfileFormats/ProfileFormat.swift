import ProtoPprof

/// The profile formats `ProfileReader` understands. Every one is read into the same model (`ProtoPprof.Profile`),
/// so every command that works on pprof works on them unchanged.
public enum ProfileFormat: String, CaseIterable, Sendable {
    /// pprof's protobuf (`perftools.profiles.Profile`), gzip-compressed or raw. Read by `Profile.decode`.
    case pprof
    /// pprof's pre-protobuf formats as `go tool pprof` reads them: the gperftools binary CPU profile (32- or 64-bit
    /// words, either byte order), Go's text heap profile (`heap profile: …`), mutex and block contention profiles
    /// (`--- mutex:`, `--- contention:`) and count profiles (`threadcreate profile: total N`, `goroutine …`).
    case legacyPprof = "legacy-pprof"
    /// Folded (collapsed) stacks, one `root;…;leaf count` per line: FlameGraph's stackcollapse, py-spy
    /// `--format raw`, async-profiler `collapsed`, our own `flamegraph --format folded`.
    case folded
    /// Chrome DevTools / V8 CPU profile JSON (`node --cpu-prof`, DevTools' "Save profile"): `nodes`, `samples`,
    /// `timeDeltas`.
    case cpuprofile
    /// speedscope's file format (`shared.frames`, `profiles[]` sampled or evented), as py-spy `--format speedscope`
    /// writes it.
    case speedscope
    /// The text `perf script` prints for `perf record -g`: a header line per sample, then one frame per line.
    case perfScript = "perf-script"

    /// A format by its raw value, its case name, or a common alias (`collapsed`, `perf`, `chrome`, `legacy`).
    public init?(name: String) {
        let n = name.lowercased()
        if let f = ProfileFormat(rawValue: n) {
            self = f
            return
        }
        switch n {
        case "legacypprof", "legacy", "gperftools": self = .legacyPprof
        case "collapsed", "stackcollapse", "raw": self = .folded
        case "chrome", "v8", "devtools", "json-cpuprofile": self = .cpuprofile
        case "perfscript", "perf": self = .perfScript
        case "protobuf", "pb": self = .pprof
        default: return nil
        }
    }

    /// A human-readable description, used in error messages.
    public var summary: String {
        switch self {
        case .pprof: return "pprof (protobuf, gzip or raw)"
        case .legacyPprof: return "legacy pprof (gperftools CPU binary, Go heap/mutex/contention/threadcreate text)"
        case .folded: return "folded stacks (root;...;leaf count)"
        case .cpuprofile: return "Chrome/V8 .cpuprofile JSON"
        case .speedscope: return "speedscope JSON"
        case .perfScript: return "perf script text"
        }
    }
}

/// Why a profile could not be read. Every case names what was wrong and where (a line number, a byte offset or a
/// JSON path), never the whole input.
public enum ProfileFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input had no bytes at all.
    case empty
    /// The content matches none of the formats understood (listed).
    case unrecognized(understood: [ProfileFormat])
    /// The bytes were read as pprof (or as gzip) and that failed: the pprof decoder's own error.
    case pprof(PprofError)
    /// The content is of `format` but breaks its rules at `location` (e.g. `line 12`, `byte 40`, `nodes[3].children[0]`).
    case malformed(format: ProfileFormat, location: String, reason: String)
    /// A configured limit (`FormatLimits`, `DecodeLimits`) was exceeded.
    case limitExceeded(format: ProfileFormat, what: String, limit: Int)
    /// The values of one sample type add up to more than an Int64 holds (or a single value does not fit).
    case overflow(format: ProfileFormat, sampleType: String, location: String)

    public var description: String {
        switch self {
        case .empty:
            return "empty input: a profile needs at least one byte"
        case .unrecognized(let formats):
            return "unrecognized profile format; understood: " + formats.map(\.summary).joined(separator: "; ")
        case .pprof(let error):
            return error.description
        case .malformed(let format, let location, let reason):
            return "invalid \(format.rawValue) profile: \(location): \(reason)"
        case .limitExceeded(let format, let what, let limit):
            return "\(format.rawValue) profile exceeds a limit: \(what) (limit \(limit))"
        case .overflow(let format, let sampleType, let location):
            return "\(format.rawValue) profile: \(location): the total of \(sampleType) does not fit in a signed 64-bit integer"
        }
    }

    /// A short machine-readable kind for error payloads, as `PprofError.kind`: `bad_profile` or `limit_exceeded`.
    public var kind: String {
        switch self {
        case .empty, .unrecognized, .malformed, .overflow: return "bad_profile"
        case .limitExceeded: return "limit_exceeded"
        case .pprof(let error): return error.kind
        }
    }
}

/// Limits of the text and JSON readers, on top of `DecodeLimits` (whose `maxInflatedBytes` caps the input size,
/// gzip-inflated or not). The defaults accept any real profile we know of and bound what a hostile one costs.
public struct FormatLimits: Sendable, Equatable {
    /// Longest line of a text format, in bytes. Default 1 MiB.
    public var maxLineBytes: Int
    /// Deepest stack (frames per sample), in every format. Default 65,536.
    public var maxStackDepth: Int
    /// Most samples (records) read. Default 50 million.
    public var maxSamples: Int
    /// Deepest JSON nesting. Default 256 (real files need 5).
    public var maxJSONDepth: Int

    public init(maxLineBytes: Int = 1 << 20, maxStackDepth: Int = 1 << 16, maxSamples: Int = 50_000_000, maxJSONDepth: Int = 256) {
        self.maxLineBytes = maxLineBytes
        self.maxStackDepth = maxStackDepth
        self.maxSamples = maxSamples
        self.maxJSONDepth = maxJSONDepth
    }
}
