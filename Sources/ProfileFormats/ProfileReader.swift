import ProtoPprof

/// Reads a profile in any format of `ProfileFormat` into `ProtoPprof.Profile`.
///
/// Detection is by content, never by file name: gzip is inflated first (any format may be gzipped), then
/// JSON objects are told apart by their top-level keys (`nodes` → cpuprofile; `profiles` with `shared` or a
/// speedscope `$schema` → speedscope), the legacy binary CPU header (words 0, 3, 0, period, 0) and legacy text headers
/// by their first line, perf script by its sample header followed by indented frames, folded stacks by lines
/// ending in a count, and pprof by a well-formed protobuf start. Anything else is `.unrecognized`, listing what is
/// understood.
public enum ProfileReader {
    /// The format of `bytes`, or nil when none matches. gzip input is inflated (up to `limits.maxInflatedBytes`)
    /// and the content judged; gzip that does not inflate is reported as pprof, whose decoder says what is wrong.
    public static func detect(_ bytes: [UInt8], limits: DecodeLimits = DecodeLimits()) -> ProfileFormat? {
        if bytes.isEmpty { return nil }
        let isGzip = bytes.withUnsafeBytes { Gunzip.isGzip($0) }
        if isGzip {
            let inflated: [UInt8]
            do {
                inflated = try bytes.withUnsafeBytes { raw throws(PprofError) in try Gunzip.inflate(raw, limit: limits.maxInflatedBytes) }
            } catch {
                return .pprof
            }
            return inflated.withUnsafeBufferPointer { detectContent($0) }
        }
        return bytes.withUnsafeBufferPointer { detectContent($0) }
    }

    /// Decodes `bytes` as `format`, or as the detected format when `format` is nil.
    ///
    /// - `limits.maxInflatedBytes` caps the input (after gzip) for every format; pprof gets `limits` as is.
    /// - `formatLimits` caps line length, stack depth, sample count and JSON depth of the other readers.
    /// - Errors are typed and say what is wrong and where; no input makes this trap.
    public static func decode(
        _ bytes: [UInt8], format: ProfileFormat? = nil, limits: DecodeLimits = DecodeLimits(),
        formatLimits: FormatLimits = FormatLimits()
    ) throws(ProfileFormatError) -> Profile {
        var bytes = bytes
        return try decode(releasing: &bytes, format: format, limits: limits, formatLimits: formatLimits)
    }

    /// Decodes bytes the caller gives up: gzip input is emptied once inflated, so the compressed bytes are not
    /// held beside the inflated ones (a 1M-sample profile: 22 MB less at peak). The same profile as `decode`.
    public static func decode(
        releasing bytes: inout [UInt8], format: ProfileFormat? = nil, limits: DecodeLimits = DecodeLimits(),
        formatLimits: FormatLimits = FormatLimits()
    ) throws(ProfileFormatError) -> Profile {
        guard !bytes.isEmpty else { throw .empty }
        let isGzip = bytes.withUnsafeBytes { Gunzip.isGzip($0) }
        if !isGzip {
            if bytes.count > limits.maxInflatedBytes { throw .pprof(.inflatedSizeLimit(limit: limits.maxInflatedBytes)) }
            return try decodeContent(bytes, format: format, limits: limits, formatLimits: formatLimits)
        }
        let result: Result<[UInt8], PprofError> = bytes.withUnsafeBytes { raw in
            Result { () throws(PprofError) -> [UInt8] in try Gunzip.inflate(raw, limit: limits.maxInflatedBytes) }
        }
        var inflated: [UInt8]
        switch result {
        case .success(let bytes): inflated = bytes
        case .failure(let error): throw .pprof(error)
        }
        bytes = []
        guard !inflated.isEmpty else { throw .empty }
        // pprof lets go of the inflated bytes once its samples are decoded (a 1M-sample profile: 150 MB less at peak).
        if (format ?? inflated.withUnsafeBufferPointer { detectContent($0) }) == .pprof {
            do throws(PprofError) {
                return try Profile.decode(releasing: &inflated, limits: limits)
            } catch {
                throw .pprof(error)
            }
        }
        return try decodeContent(inflated, format: format, limits: limits, formatLimits: formatLimits)
    }

    private static func decodeContent(
        _ bytes: [UInt8], format: ProfileFormat?, limits: DecodeLimits, formatLimits: FormatLimits
    ) throws(ProfileFormatError) -> Profile {
        let result: Result<Profile, ProfileFormatError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(ProfileFormatError) -> Profile in
                guard let format = format ?? detectContent(buffer) else {
                    throw .unrecognized(understood: ProfileFormat.allCases)
                }
                switch format {
                case .pprof:
                    do throws(PprofError) {
                        return try Profile.decode(UnsafeRawBufferPointer(buffer), limits: limits)
                    } catch {
                        throw .pprof(error)
                    }
                case .legacyPprof:
                    return try LegacyReader.read(buffer, limits: formatLimits)
                case .folded:
                    return try FoldedReader.read(buffer, limits: formatLimits)
                case .cpuprofile:
                    return try CPUProfileReader.read(buffer, limits: formatLimits)
                case .speedscope:
                    return try SpeedscopeReader.read(buffer, limits: formatLimits)
                case .perfScript:
                    return try PerfScriptReader.read(buffer, limits: formatLimits)
                }
            }
        }
        return try result.get()
    }

    /// Content detection on inflated bytes.
    static func detectContent(_ bytes: Bytes) -> ProfileFormat? {
        guard !bytes.isEmpty else { return nil }
        if let keys = topLevelJSONKeys(bytes) {
            if keys.contains("nodes") { return .cpuprofile }
            if keys.contains("profiles") && (keys.contains("shared") || keys.contains("$schema")) { return .speedscope }
            return nil
        }
        if LegacyReader.isCPUHeader(bytes) { return .legacyPprof }
        if let text = TextSniff(bytes) {
            if LegacyReader.isTextHeader(text.firstLine, bytes: bytes) || LegacyReader.isTextHeader(text.firstSignificantLine, bytes: bytes)
            {
                return .legacyPprof
            }
            if PerfScriptReader.looksLike(bytes, lines: text.significantLines) { return .perfScript }
            if FoldedReader.looksLike(bytes, lines: text.significantLines) { return .folded }
        }
        if looksLikePprofProtobuf(bytes) { return .pprof }
        return nil
    }

    /// Whether the start of `bytes` parses as fields of `perftools.profiles.Profile` with the right wire types
    /// (up to 32 fields; length-delimited fields must fit in the input).
    static func looksLikePprofProtobuf(_ bytes: Bytes) -> Bool {
        var i = 0
        var fields = 0
        func varint() -> UInt64? {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count && shift < 64 {
                let b = bytes[i]
                i += 1
                v |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
            return nil
        }
        while i < bytes.count && fields < 32 {
            guard let tag = varint() else { return false }
            let field = tag >> 3
            let wire = tag & 7
            switch field {
            case 1, 2, 3, 4, 5, 6, 11:
                guard wire == 2 else { return false }
            case 7, 8, 9, 10, 12, 14:
                guard wire == 0 else { return false }
            case 13:
                guard wire == 0 || wire == 2 else { return false }
            default:
                return false
            }
            if wire == 0 {
                guard varint() != nil else { return false }
            } else {
                guard let n = varint(), n <= UInt64(bytes.count - i) else {
                    // A length past the end: a truncated pprof is still pprof, and its decoder says so.
                    return fields > 0
                }
                i += Int(n)
            }
            fields += 1
        }
        return fields > 0
    }
}

/// The first lines of a text input, if it is text at all.
struct TextSniff {
    /// The first line, whatever it is.
    var firstLine: Range<Int>
    /// The first line that is neither blank nor a `#` comment.
    var firstSignificantLine: Range<Int>
    /// Up to 64 lines after leading blank and comment lines (blank lines kept: perf script separates samples by them).
    var significantLines: [Range<Int>]

    init?(_ bytes: Bytes) {
        var scanner = LineScanner(bytes, format: .folded, maxLineBytes: Int.max)
        var first: Range<Int>?
        var lines: [Range<Int>] = []
        var examined = 0
        while lines.count < 64, examined < 4096, let line = try? scanner.next() {
            examined += 1
            // Look at no more than 64 KiB of one line.
            let probe = line.lowerBound..<min(line.upperBound, line.lowerBound + 65536)
            guard bytes.isTextLine(probe) else { return nil }
            if first == nil { first = line }
            let t = bytes.trimmed(line)
            if lines.isEmpty && (t.isEmpty || bytes[t.lowerBound] == UInt8(ascii: "#")) { continue }
            lines.append(line)
        }
        guard let first, let significant = lines.first else { return nil }
        firstLine = first
        firstSignificantLine = significant
        significantLines = lines
    }
}
