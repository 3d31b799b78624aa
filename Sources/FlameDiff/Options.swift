import ProtoPprof

/// Which sample type a tree is built for.
public enum SampleTypeSelector: Sendable, Equatable {
    /// Position in the profile's sample types.
    case index(Int)
    /// A sample type by name: `cpu`, or with its unit `cpu/nanoseconds`.
    case name(String)
}

/// What makes two frames the same node.
public enum FrameKey: String, Sendable, CaseIterable {
    /// The function name (pprof's default granularity).
    case function
    /// Function and source line: `main.work main.go:42`.
    case functionAndLine = "function+line"
    /// Function and source file: `main.work main.go`.
    case functionAndFile = "function+file"
}

/// A sample filter on a label: `key=value` (string labels, or numeric labels compared as integers).
public struct LabelFilter: Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `key=value`.
    public init(parsing text: String) throws(FlameDiffError) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw .invalidLabelFilter(text)
        }
        key = String(text[..<eq])
        value = String(text[text.index(after: eq)...])
    }

    public var description: String { "\(key)=\(value)" }
}

/// How samples are chosen and frames named before a tree is built.
public struct TreeOptions: Sendable, Equatable {
    /// nil: the profile's default (`default_sample_type`, else the last type, as pprof does).
    public var sampleType: SampleTypeSelector?
    public var frameKey: FrameKey
    /// A sample is kept only if it carries every one of these labels.
    public var includeLabels: [LabelFilter]
    /// A sample is dropped if it carries any of these labels.
    public var excludeLabels: [LabelFilter]
    /// pprof's -focus: keep only samples with a frame whose function, file or mapping matches.
    public var focus: String?
    /// pprof's -ignore: drop samples with a frame whose function, file or mapping matches.
    public var ignore: String?
    /// Threads that build the tree: 2 builds large trees on two threads, 1 on one; by default the process's
    /// setting (`Parallelism.threads`, `--threads`). The tree is the same either way, so this is not part of
    /// equality: options that select the same tree are equal.
    public var threads: Int

    public init(
        sampleType: SampleTypeSelector? = nil, frameKey: FrameKey = .function, includeLabels: [LabelFilter] = [],
        excludeLabels: [LabelFilter] = [], focus: String? = nil, ignore: String? = nil,
        threads: Int = Parallelism.threads
    ) {
        self.sampleType = sampleType
        self.frameKey = frameKey
        self.includeLabels = includeLabels
        self.excludeLabels = excludeLabels
        self.focus = focus
        self.ignore = ignore
        self.threads = threads
    }

    /// Equal when they select the same samples and name frames alike; `threads` does not change the tree.
    public static func == (a: TreeOptions, b: TreeOptions) -> Bool {
        a.sampleType == b.sampleType && a.frameKey == b.frameKey && a.includeLabels == b.includeLabels
            && a.excludeLabels == b.excludeLabels && a.focus == b.focus && a.ignore == b.ignore
    }
}

/// Why a tree could not be built from a valid profile.
public enum FlameDiffError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownSampleType(requested: String, available: [String])
    case noSampleTypes
    case invalidRegex(pattern: String, reason: String)
    case invalidLabelFilter(String)
    case sampleTypeMismatch(requested: String, baseline: [String], comparison: [String])
    case noProfiles(side: String)
    case invalidFlameGraph(String)
    /// Sample values whose sums would not fit in 64 bits (a diff adds its sides and its profiles together).
    case valuesTooLarge(String)
    /// The work was cancelled (`WorkCancellation`) before it finished.
    case cancelled

    public var description: String {
        switch self {
        case .unknownSampleType(let requested, let available):
            return "unknown sample type '\(requested)'; the profile has: \(available.joined(separator: ", "))"
        case .noSampleTypes:
            return "the profile has no sample types, so there is nothing to draw"
        case .invalidRegex(let pattern, let reason):
            return "invalid regular expression '\(pattern)': \(reason)"
        case .invalidLabelFilter(let text):
            return "invalid label filter '\(text)': expected key=value"
        case .sampleTypeMismatch(let requested, let baseline, let comparison):
            return "sample type '\(requested)' must exist on both sides; baseline has: \(baseline.joined(separator: ", ")); comparison has: \(comparison.joined(separator: ", "))"
        case .noProfiles(let side):
            return "no \(side) profile given"
        case .invalidFlameGraph(let why):
            return "invalid flame graph: \(why)"
        case .valuesTooLarge(let why):
            return "sample values too large: \(why)"
        case .cancelled:
            return "cancelled"
        }
    }
}

extension Profile {
    /// Resolves a selector to a sample type index. nil selects pprof's default (`default_sample_type`, else
    /// the last type), except when that type has no values at all and another has: then the first type with
    /// values (a .NET profile's last type is often an empty lock time). Every command follows this rule.
    public func sampleTypeIndex(_ selector: SampleTypeSelector?) throws(FlameDiffError) -> Int {
        guard !sampleTypes.isEmpty else { throw .noSampleTypes }
        let available = sampleTypes.enumerated().map { "\($0.offset):\($0.element)" }
        switch selector {
        case nil:
            let preferred = defaultSampleTypeIndex
            if magnitude(ofType: preferred) == 0, let nonzero = sampleTypes.indices.first(where: { magnitude(ofType: $0) != 0 }) {
                return nonzero
            }
            return preferred
        case .index(let i):
            guard sampleTypes.indices.contains(i) else {
                throw .unknownSampleType(requested: String(i), available: available)
            }
            return i
        case .name(let name):
            if let i = sampleTypes.firstIndex(where: { $0.description == name || $0.type == name }) { return i }
            if let i = Int(name), sampleTypes.indices.contains(i) { return i }
            throw .unknownSampleType(requested: name, available: available)
        }
    }
}

extension Profile {
    /// The sum of |value| of one sample type over all samples, or nil when it does not fit in 64 bits.
    public func magnitude(ofType typeIndex: Int) -> Int64? {
        var sum: Int64 = 0
        let n = sampleTypes.count
        guard n > 0 else { return 0 }
        var i = typeIndex
        while i < sampleValues.count {
            let v = sampleValues[i]
            guard v != .min else { return nil }
            let (s, overflow) = sum.addingReportingOverflow(v < 0 ? -v : v)
            if overflow { return nil }
            sum = s
            i += n
        }
        return sum
    }
}
