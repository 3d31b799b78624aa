/// Why a pprof profile could not be read. Every case says what was wrong and, for
/// validation failures, which field and index.
public enum PprofError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input had no bytes at all.
    case empty
    /// The input looked like gzip but could not be inflated (truncated or corrupt).
    case corruptGzip(String)
    /// Inflating would produce more than the configured limit (a gzip bomb, or a profile too large to serve).
    case inflatedSizeLimit(limit: Int)
    /// The bytes are not a protobuf-encoded perftools.profiles.Profile.
    case malformedProtobuf(String)
    /// Decoding needed more memory than the configured limit.
    case decodeMemoryLimit(limit: Int)
    /// The protobuf decoded, but the profile breaks one of pprof's rules.
    case invalid(field: String, reason: String)
    /// The values of one sample type (`type/unit`) add up to more than Int64 holds, counted in magnitude:
    /// totals and subtree sums over them would overflow.
    case valueSumOverflow(sampleType: String)
    /// The process's memory budget (`MemoryBudget`) had no room for the profile, even after a brief wait:
    /// not the profile's fault; the server answers "overloaded" and the request may be retried.
    case memoryBudget

    public var description: String {
        switch self {
        case .empty:
            return "empty input: a pprof profile needs at least one byte"
        case .corruptGzip(let detail):
            return "corrupt or truncated gzip data: \(detail)"
        case .inflatedSizeLimit(let limit):
            return "the inflated profile would exceed \(limit) bytes (limit maxInflatedBytes); raise the limit if the profile is genuine"
        case .malformedProtobuf(let detail):
            return "not a pprof profile: \(detail)"
        case .decodeMemoryLimit(let limit):
            return "decoding the profile needs more than \(limit) bytes of memory (limit maxDecodeMemoryBytes)"
        case .invalid(let field, let reason):
            return "invalid profile: \(field): \(reason)"
        case .valueSumOverflow(let sampleType):
            return "invalid profile: the values of sample type \(sampleType) add up to more than 2^63-1 in magnitude, so their totals would overflow"
        case .memoryBudget:
            return "the server's memory budget has no room for this profile now; retry later"
        }
    }

    /// A short machine-readable kind for error payloads.
    public var kind: String {
        switch self {
        case .empty, .corruptGzip, .malformedProtobuf, .invalid, .valueSumOverflow: return "bad_profile"
        case .inflatedSizeLimit, .decodeMemoryLimit: return "limit_exceeded"
        case .memoryBudget: return "overloaded"
        }
    }
}

/// How sample messages are decoded.
public enum SampleDecoding: Sendable, Equatable {
    /// The hand-written decoder for `Sample` (the default); everything else goes through protobuf-c.
    case handWritten
    /// protobuf-c for everything: the straightforward reference path, kept for equality tests.
    case protobufC
}

/// Limits applied while reading a profile. The defaults serve profiles of a whole fleet-hour.
public struct DecodeLimits: Sendable, Equatable {
    /// The largest `maxInflatedBytes` there is: 2 GiB - 1 (`Int32.max`). The decoded profile indexes its
    /// arrays with 32-bit offsets, and each of those arrays has fewer elements than the inflated profile has
    /// bytes, so no offset can wrap below this size.
    public static let maxInflatedBytesCeiling = Int(Int32.max)

    /// Largest inflated (raw protobuf) size accepted. Default 512 MiB; a larger value is clamped to
    /// `maxInflatedBytesCeiling`.
    public var maxInflatedBytes: Int {
        get { inflatedBytes }
        set { inflatedBytes = min(newValue, Self.maxInflatedBytesCeiling) }
    }
    private var inflatedBytes: Int
    /// Largest amount of memory decoding may take: the hand-written sample decoder's upper bound and
    /// protobuf-c's arena together. Default 4 GiB.
    public var maxDecodeMemoryBytes: Int

    /// Which sample decoder to use; both give the same profile.
    public var sampleDecoding: SampleDecoding

    /// How many threads the hand-written sample decoder may use: 1 decodes in one pass on the calling
    /// thread; 2 or more decode a large profile's samples in two halves at once (small profiles still take
    /// one pass). Every setting gives the same profile and the same errors. 1 by default (`--decode-threads`):
    /// on the 1M-sample profile two halves saved ~5% of the flame graph's wall time (1.44 s vs 1.51 s) but
    /// held the second half's arrays beside the first's, 280 MB at the peak instead of 244 (issue 24's
    /// budget is 250 MB).
    public var threads: Int

    /// The size from which the sample decoder takes two threads, when `threads` allows: smaller profiles are
    /// decoded faster on one. Tests lower it to take two threads on small profiles.
    struct TwoThreadMinimum: Sendable, Equatable {
        var samples = 4096
        var sampleBytes = 1 << 20
    }
    var twoThreadMinimum = TwoThreadMinimum()

    /// `maxInflatedBytes` above `maxInflatedBytesCeiling` is clamped to it.
    public init(
        maxInflatedBytes: Int = 512 << 20, maxDecodeMemoryBytes: Int = 4 << 30, sampleDecoding: SampleDecoding = .handWritten,
        threads: Int = 1
    ) {
        self.inflatedBytes = min(maxInflatedBytes, Self.maxInflatedBytesCeiling)
        self.maxDecodeMemoryBytes = maxDecodeMemoryBytes
        self.sampleDecoding = sampleDecoding
        self.threads = threads
    }
}
