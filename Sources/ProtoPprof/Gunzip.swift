import CDeflate

#if canImport(Glibc)
    import Glibc
#endif

/// Whole-buffer gzip inflation with libdeflate, bounded by a size limit.
public enum Gunzip {
    /// The most bytes deflate inflates one input byte to (a 258-byte match per 2 bits, about 1032:1).
    public static let maxRatio = 1032

    /// True when the bytes start with the gzip magic number.
    public static func isGzip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Inflates every gzip member of `input`; never produces more than `limit` bytes.
    public static func inflate(_ input: UnsafeRawBufferPointer, limit: Int) throws(PprofError) -> [UInt8] {
        guard let decompressor = libdeflate_alloc_decompressor() else {
            throw .corruptGzip("libdeflate could not allocate a decompressor")
        }
        defer { libdeflate_free_decompressor(decompressor) }

        var output: [UInt8] = []
        var offset = 0
        while offset < input.count {
            let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
            if !isGzip(rest) {
                // pprof (Go's gzip reader) rejects trailing garbage; trailing zero padding is harmless.
                if rest.allSatisfy({ $0 == 0 }) { break }
                throw .corruptGzip("unexpected bytes after gzip member at offset \(offset)")
            }
            let (member, consumed) = try inflateMember(
                rest, decompressor: decompressor, limit: limit - output.count, alreadyInflated: output.count)
            // One member is the common case: keep its buffer rather than copy 100+ MB.
            if output.isEmpty { output = member } else { output.append(contentsOf: member) }
            offset += consumed
        }
        return output
    }

    private static func inflateMember(
        _ input: UnsafeRawBufferPointer, decompressor: OpaquePointer, limit: Int, alreadyInflated: Int
    ) throws(PprofError) -> ([UInt8], Int) {
        guard input.count >= 18 else { throw .corruptGzip("gzip stream of \(input.count) bytes is too short") }
        // The trailer's ISIZE is the inflated size modulo 2^32 for a single member; use it as the first guess.
        let trailer = input.count - 4
        let declared = Int(input[trailer]) | Int(input[trailer + 1]) << 8 | Int(input[trailer + 2]) << 16
            | Int(input[trailer + 3]) << 24
        // A trailer over the limit may be a bomb or just a truncated stream whose last bytes are not a trailer:
        // try with the whole allowance (untouched capacity costs no memory) and let the data decide.
        var capacity = declared > limit ? limit : max(declared, min(limit, max(4096, input.count * 4)))
        while true {
            // The request's memory reservation grows with the buffer (the trailer is only the first guess), up to
            // what deflate can produce at all: 1032 bytes per input byte, whatever the trailer claims.
            let possible = min(capacity, input.count.multipliedReportingOverflow(by: Self.maxRatio).partialValue)
            guard MemoryReservation.cover(inflated: possible + alreadyInflated) else { throw .memoryBudget }
            var consumed = 0
            var produced = 0
            var result = LIBDEFLATE_SUCCESS
            let buffer = [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buf, count in
                HugePages.advise(UnsafeMutableRawBufferPointer(buf))
                result = libdeflate_gzip_decompress_ex(
                    decompressor, input.baseAddress, input.count, buf.baseAddress, capacity, &consumed, &produced)
                count = result == LIBDEFLATE_SUCCESS ? produced : 0
            }
            switch result {
            case LIBDEFLATE_SUCCESS:
                return (buffer, consumed)
            case LIBDEFLATE_INSUFFICIENT_SPACE:
                if capacity >= limit { throw .inflatedSizeLimit(limit: limit) }
                capacity = capacity > limit / 2 ? limit : capacity * 2
            case LIBDEFLATE_SHORT_OUTPUT:
                throw .corruptGzip("inflated data shorter than declared")
            default:
                throw .corruptGzip("invalid deflate data or truncated stream")
            }
        }
    }
}
