import ProtoPprof

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// pprof's pre-protobuf formats, read as `go tool pprof` reads them (google/pprof `profile/legacy_profile.go`):
///
/// - **gperftools CPU profile** (binary): words of 4 or 8 bytes, either byte order, found by the header
///   `0, 3, 0, period (µs), 0`; then records `count, depth, pc…`; the record `0, 1, 0` ends them; the rest is the
///   process's `/proc/self/maps`. Sample types `samples/count` and `cpu/nanoseconds` (count × period).
///   As pprof: every pc but the leaf is moved back one byte (onto the call instruction); a second frame shared by
///   all but 1/32 of the samples (the signal handler's) is dropped, up to twice; a leaf duplicated as its caller + 1
///   is dropped.
/// - **heap** (text, `heap profile: N: B [AN: AB] @ heap/RATE`, also `heap_v2/`, `heapz_v2/`, `heapprofile`,
///   `growthz`, `fragmentationz`): records `inuse_objects: inuse_bytes [alloc_objects: alloc_bytes] @ pc…`. Sample
///   types `alloc_objects/count, alloc_space/bytes, inuse_objects/count, inuse_space/bytes` when the header has
///   allocation totals of their own, else `objects/count, space/bytes`. Values are unsampled as pprof does for v2
///   sampling: × 1/(1 − e^(−avg/rate)), with rate = RATE/2 for `heap/` (Go writes twice its MemProfileRate).
///   Each sample carries the numeric label `bytes` = its block size.
/// - **contention** (`--- mutex:`, `--- contention:`, `--- contentionz `): `key = value` attributes
///   (`cycles/second`, `sampling period`, `ms since reset`, `discarded samples`), then `cycles count @ pc…`. Sample
///   types `contentions/count` (count × period) and `delay/nanoseconds` (cycles × period / GHz).
/// - **count** (`threadcreate profile: total N`, `goroutine profile: total N`): `count @ pc…`; sample type
///   `<name>/count`. An empty stack (`11 @`, as Go writes for threads started before profiling) is accepted.
///
/// In the text formats every pc is moved back one byte. Addresses are mapped with the memory map that follows a
/// `--- Memory map: ---` or `MAPPED_LIBRARIES:` line (or the end of the CPU records), merged and ordered as pprof
/// does; frames stay unsymbolized (named `0x… [binary]`, or `<unknown>` with no mapping — pprof's names), except
/// that Go's `#\t0x…\tfunc+0x…\tfile:line` comment lines, which pprof skips, symbolize their address (several
/// lines for one address are inlined frames, innermost first). Java legacy profiles and `threadz` are not read.
enum LegacyReader {
    private static func fail(_ location: String, _ reason: String) -> ProfileFormatError {
        .malformed(format: .legacyPprof, location: location, reason: reason)
    }

    // MARK: Detection

    static func isCPUHeader(_ bytes: Bytes) -> Bool {
        for w in WordLayout.all {
            guard let h = w.header(bytes) else { continue }
            if h.0 == 0 && h.1 == 3 && (h.2 == 0 || h.2 == 1) && h.3 > 0 && h.4 == 0 { return true }
        }
        return false
    }

    static func isTextHeader(_ line: Range<Int>, bytes: Bytes) -> Bool {
        let t = bytes.trimmed(line)
        return heapHeader(bytes, t) != nil || contentionHeader(bytes, t) || countHeader(bytes, t) != nil
    }

    // MARK: Reading

    static func read(_ bytes: Bytes, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        for w in WordLayout.all {
            guard let h = w.header(bytes), h.0 == 0, h.1 == 3, h.3 > 0, h.4 == 0 else { continue }
            if h.2 == 0 { return try readCPU(bytes, layout: w, periodMicros: h.3, limits: limits) }
            if h.2 == 1 { throw fail("header", "legacy Java CPU profiles are not supported") }
        }
        guard let sniff = TextSniff(bytes) else {
            throw fail("header", "neither a gperftools CPU profile header nor a legacy text profile header")
        }
        let first = bytes.trimmed(sniff.firstSignificantLine)
        if let h = heapHeader(bytes, first) { return try readHeap(bytes, header: h, limits: limits) }
        if contentionHeader(bytes, first) { return try readContention(bytes, limits: limits) }
        if let name = countHeader(bytes, first) { return try readCount(bytes, name: name, limits: limits) }
        throw fail("line 1", "not a legacy profile header: '\(preview(bytes, first))'")
    }

    /// One record of a legacy profile before addresses are mapped and stacks built.
    private struct RawSample {
        var values: [Int64]
        var addresses: [UInt64]  // leaf first, already adjusted
        var blockSize: Int64?
        var position: String
    }

    // MARK: CPU (binary)

    struct WordLayout {
        var size: Int
        var bigEndian: Bool

        static let all = [
            WordLayout(size: 4, bigEndian: false), WordLayout(size: 4, bigEndian: true),
            WordLayout(size: 8, bigEndian: false), WordLayout(size: 8, bigEndian: true),
        ]

        func word(_ bytes: Bytes, _ at: Int) -> UInt64? {
            guard at >= 0, at + size <= bytes.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<size {
                let b = UInt64(bytes[bigEndian ? at + k : at + size - 1 - k])
                v = v << 8 | b
            }
            return v
        }

        func header(_ bytes: Bytes) -> (UInt64, UInt64, UInt64, UInt64, UInt64)? {
            guard let a = word(bytes, 0), let b = word(bytes, size), let c = word(bytes, 2 * size),
                let d = word(bytes, 3 * size), let e = word(bytes, 4 * size)
            else { return nil }
            return (a, b, c, d, e)
        }
    }

    private static func readCPU(_ bytes: Bytes, layout w: WordLayout, periodMicros: UInt64, limits: FormatLimits) throws(ProfileFormatError)
        -> Profile
    {
        guard periodMicros <= UInt64(Int64.max / 1000) else { throw fail("header", "sampling period \(periodMicros) µs is out of range") }
        let period = Int64(periodMicros) * 1000
        var builder = ProfileBuilder(format: .legacyPprof, limits: limits, mergeSamples: false)
        builder.sampleTypes = [ValueType(type: "samples", unit: "count"), ValueType(type: "cpu", unit: "nanoseconds")]
        builder.periodType = ValueType(type: "cpu", unit: "nanoseconds")
        builder.period = period
        builder.dropFrames = cpuProfilerDropFrames

        var at = 5 * w.size
        var samples: [RawSample] = []
        var record = 0
        while at < bytes.count {
            let position = "record \(record) (byte \(at))"
            guard let count = w.word(bytes, at), let depth = w.word(bytes, at + w.size) else {
                throw fail(position, "truncated record (the data ends inside it)")
            }
            at += 2 * w.size
            guard depth <= UInt64((bytes.count - at) / w.size) else {
                throw fail(position, "stack depth \(depth) runs past the end of the data")
            }
            if depth == 1, count == 0, w.word(bytes, at) == 0 {
                at += w.size
                break
            }
            guard depth <= UInt64(limits.maxStackDepth) else {
                throw .limitExceeded(
                    format: .legacyPprof, what: "\(position): stack deeper than \(limits.maxStackDepth) frames", limit: limits.maxStackDepth
                )
            }
            try builder.countRecord(at: position)
            guard count <= UInt64(Int64.max) else { throw .overflow(format: .legacyPprof, sampleType: "samples/count", location: position) }
            let (cpu, overflow) = Int64(count).multipliedReportingOverflow(by: period)
            if overflow { throw .overflow(format: .legacyPprof, sampleType: "cpu/nanoseconds", location: position) }
            var addresses: [UInt64] = []
            addresses.reserveCapacity(Int(depth))
            for k in 0..<Int(depth) {
                let a = w.word(bytes, at + k * w.size)!
                addresses.append(k > 0 ? a &- 1 : a)
            }
            at += Int(depth) * w.size
            samples.append(RawSample(values: [Int64(count), cpu], addresses: addresses, position: position))
            record += 1
        }
        // Like pprof, records are read until the end marker or the end of the data.

        // The signal handler's frame: a second frame shared by all but 1/32 of the samples.
        let margin = samples.count / 32
        for _ in 0..<2 {
            var counts: [UInt64: Int] = [:]
            for s in samples where s.addresses.count > 1 { counts[s.addresses[1], default: 0] += 1 }
            guard let (frame, _) = counts.first(where: { $0.value >= samples.count - margin }) else { continue }
            for k in samples.indices where samples[k].addresses.count > 1 && samples[k].addresses[1] == frame {
                samples[k].addresses.remove(at: 1)
            }
        }

        let maps = try parseMaps(bytes, at < bytes.count ? at..<bytes.count : bytes.count..<bytes.count, limits: limits)
        return try finish(&builder, samples: samples, maps: maps, symbols: [:], dropDuplicateLeaf: true)
    }

    // MARK: Heap (text)

    struct HeapHeader {
        var hasAlloc: Bool
        var sampling: Bool  // v2 sampling: values are unsampled with the rate
        var period: Int64
    }

    /// `heap profile: N: B [AN: AB] @ heap/RATE` and its variants, anywhere in the line (pprof's expression is
    /// unanchored).
    static func heapHeader(_ bytes: Bytes, _ t: Range<Int>) -> HeapHeader? {
        guard let start = find("heap profile:", in: bytes, t) else { return nil }
        var p = TokenCursor(bytes: bytes, at: start + 13, end: t.upperBound)
        p.skipSpaces()
        guard let n1 = p.digits() else { return nil }
        guard p.consume(UInt8(ascii: ":")) else { return nil }
        p.skipSpaces()
        guard let n2 = p.digits() else { return nil }
        p.skipSpaces()
        guard p.consume(UInt8(ascii: "[")) else { return nil }
        p.skipSpaces()
        guard let n3 = p.digits() else { return nil }
        guard p.consume(UInt8(ascii: ":")) else { return nil }
        p.skipSpaces()
        guard let n4 = p.digits() else { return nil }
        p.skipSpaces()
        guard p.consume(UInt8(ascii: "]")) else { return nil }
        p.skipSpaces()
        guard p.consume(UInt8(ascii: "@")) else { return nil }
        p.skipSpaces()
        let word = p.word { b in (b >= 0x61 && b <= 0x7A) || isDigit(b) || b == UInt8(ascii: "_") }
        let hasAlloc = (n3 != n1 && n3 != "0") || (n4 != n2 && n4 != "0")
        switch word {
        case "growthz", "growth", "fragmentationz", "fragmentation":
            return HeapHeader(hasAlloc: false, sampling: false, period: 1)
        default:
            break
        }
        guard word.hasPrefix("heap") else { return nil }
        var rate: Int64 = 0
        if p.consume(UInt8(ascii: "/")), let r = p.digits() {
            guard let v = Int64(r) else { return nil }
            rate = v
        }
        switch word {
        case "heapz_v2", "heap_v2": return HeapHeader(hasAlloc: hasAlloc, sampling: true, period: rate)
        case "heapprofile": return HeapHeader(hasAlloc: hasAlloc, sampling: false, period: 1)
        case "heap": return HeapHeader(hasAlloc: hasAlloc, sampling: true, period: rate / 2)
        default: return nil
        }
    }

    private static func readHeap(_ bytes: Bytes, header: HeapHeader, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        var builder = ProfileBuilder(format: .legacyPprof, limits: limits, mergeSamples: false)
        builder.periodType = ValueType(type: "space", unit: "bytes")
        builder.period = header.period
        builder.sampleTypes =
            header.hasAlloc
            ? [
                ValueType(type: "alloc_objects", unit: "count"), ValueType(type: "alloc_space", unit: "bytes"),
                ValueType(type: "inuse_objects", unit: "count"), ValueType(type: "inuse_space", unit: "bytes"),
            ]
            : [ValueType(type: "objects", unit: "count"), ValueType(type: "space", unit: "bytes")]
        builder.dropFrames = allocDropFrames
        builder.keepFrames = allocKeepFrames

        var samples: [RawSample] = []
        let (symbols, maps) = try eachRecordLine(bytes, limits: limits) { t, position throws(ProfileFormatError) in
            try builder.countRecord(at: position)
            samples.append(try heapSample(bytes, t, header: header, position: position, limits: limits))
        }
        return try finish(&builder, samples: samples, maps: maps, symbols: symbols, dropDuplicateLeaf: false)
    }

    /// `inuse_objects: inuse_bytes [alloc_objects: alloc_bytes] @ 0x… 0x…`
    private static func heapSample(_ bytes: Bytes, _ t: Range<Int>, header: HeapHeader, position: String, limits: FormatLimits)
        throws(ProfileFormatError) -> RawSample
    {
        var p = TokenCursor(bytes: bytes, at: t.lowerBound, end: t.upperBound)
        func number(_ signed: Bool) throws(ProfileFormatError) -> Int64 {
            let text = p.signedDigits(allowMinus: signed)
            guard let text else {
                throw fail(position, "expected 'objects: bytes [objects: bytes] @ addresses', found '\(preview(bytes, t))'")
            }
            guard let v = Int64(text) else { throw .overflow(format: .legacyPprof, sampleType: "heap values", location: position) }
            return v
        }
        let inuseCount = try number(true)
        guard p.consume(UInt8(ascii: ":")) else { throw fail(position, "expected ':' after the in-use object count") }
        p.skipSpaces()
        let inuseSize = try number(true)
        p.skipSpaces()
        guard p.consume(UInt8(ascii: "[")) else { throw fail(position, "expected '[' before the allocation counts") }
        p.skipSpaces()
        let allocCount = try number(false)
        guard p.consume(UInt8(ascii: ":")) else { throw fail(position, "expected ':' after the allocated object count") }
        p.skipSpaces()
        let allocSize = try number(false)
        p.skipSpaces()
        guard p.consume(UInt8(ascii: "]")) else { throw fail(position, "expected ']' after the allocation counts") }
        p.skipSpaces()
        guard p.consume(UInt8(ascii: "@")) else { throw fail(position, "expected '@' before the stack") }

        var values: [Int64] = []
        var blockSize: Int64 = 0
        func add(_ count: Int64, _ size: Int64, _ label: String) throws(ProfileFormatError) {
            if count == 0 && size != 0 { throw fail(position, "\(label) count is 0 but \(label) bytes is \(size)") }
            var c = count
            var s = size
            if c != 0 {
                blockSize = s / c
                if header.sampling {
                    guard let scaled = scaleHeapSample(c, s, rate: header.period) else {
                        throw .overflow(format: .legacyPprof, sampleType: "\(label) values", location: position)
                    }
                    (c, s) = scaled
                }
            }
            values.append(c)
            values.append(s)
        }
        if header.hasAlloc { try add(allocCount, allocSize, "allocation") }
        try add(inuseCount, inuseSize, "inuse")
        let addresses = try stackAddresses(bytes, p.at..<t.upperBound, position: position, limits: limits)
        return RawSample(values: values, addresses: addresses.map { $0 &- 1 }, blockSize: blockSize, position: position)
    }

    /// pprof's `scaleHeapSample`: the expected number of allocations and bytes behind a sampled record, with
    /// Poisson sampling at mean rate `rate` bytes. nil when the result does not fit in Int64.
    static func scaleHeapSample(_ count: Int64, _ size: Int64, rate: Int64) -> (Int64, Int64)? {
        if count == 0 || size == 0 { return (0, 0) }
        if rate <= 1 { return (count, size) }
        let avgSize = Double(size) / Double(count)
        let scale = 1 / (1 - exp(-avgSize / Double(rate)))
        guard let c = JSON.integer((Double(count) * scale).rounded(.towardZero)),
            let s = JSON.integer((Double(size) * scale).rounded(.towardZero))
        else { return nil }
        return (c, s)
    }

    // MARK: Contention (text)

    static func contentionHeader(_ bytes: Bytes, _ t: Range<Int>) -> Bool {
        bytes.hasPrefix("--- contentionz ", in: t) || bytes.hasPrefix("--- mutex:", in: t) || bytes.hasPrefix("--- contention:", in: t)
    }

    private static func readContention(_ bytes: Bytes, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        var builder = ProfileBuilder(format: .legacyPprof, limits: limits, mergeSamples: false)
        builder.periodType = ValueType(type: "contentions", unit: "count")
        builder.period = 1
        builder.sampleTypes = [ValueType(type: "contentions", unit: "count"), ValueType(type: "delay", unit: "nanoseconds")]
        builder.dropFrames = lockDropFrames

        var cpuHz: Int64 = 0
        var samples: [RawSample] = []
        var inAttributes = true
        var inSamples = true
        let (symbols, maps) = try eachRecordLine(bytes, limits: limits) { t, position throws(ProfileFormatError) in
            if bytes.hasPrefix("---", in: t) {
                // Another section: pprof stops reading samples here and looks for the memory map.
                inSamples = false
                return
            }
            guard inSamples else { return }
            if inAttributes, let eq = bytes.firstIndex(of: UInt8(ascii: "="), in: t) {
                let key = bytes.string(bytes.trimmed(t.lowerBound..<eq))
                let value = bytes.string(bytes.trimmed(eq + 1..<t.upperBound))
                guard let v = parseGoInt(value) else { throw fail(position, "attribute '\(key)' is not an integer: '\(value)'") }
                switch key {
                case "cycles/second": cpuHz = v
                case "sampling period": builder.period = v
                case "ms since reset":
                    let (ns, o) = v.multipliedReportingOverflow(by: 1_000_000)
                    builder.durationNanos = o ? 0 : ns
                case "discarded samples": break
                default: throw fail(position, "unknown attribute '\(key)' (not a Go or gperftools contention profile)")
                }
                return
            }
            inAttributes = false
            try builder.countRecord(at: position)
            var p = TokenCursor(bytes: bytes, at: t.lowerBound, end: t.upperBound)
            guard let d1 = p.digits() else { throw fail(position, "expected 'cycles count @ addresses', found '\(preview(bytes, t))'") }
            p.skipSpaces()
            guard let d2 = p.digits() else { throw fail(position, "expected 'cycles count @ addresses', found '\(preview(bytes, t))'") }
            p.skipSpaces()
            guard p.consume(UInt8(ascii: "@")) else { throw fail(position, "expected '@' before the stack") }
            guard var v1 = Int64(d1), var v2 = Int64(d2) else {
                throw .overflow(format: .legacyPprof, sampleType: "contention values", location: position)
            }
            let period = builder.period
            if period > 0 {
                if cpuHz > 0 {
                    let cpuGHz = Double(cpuHz) / 1e9
                    guard let scaled = JSON.integer((Double(v1) * Double(period) / cpuGHz).rounded(.towardZero)) else {
                        throw .overflow(format: .legacyPprof, sampleType: "delay/nanoseconds", location: position)
                    }
                    v1 = scaled
                }
                let (m, o) = v2.multipliedReportingOverflow(by: period)
                if o { throw .overflow(format: .legacyPprof, sampleType: "contentions/count", location: position) }
                v2 = m
            }
            let addresses = try stackAddresses(bytes, p.at..<t.upperBound, position: position, limits: limits)
            samples.append(RawSample(values: [v2, v1], addresses: addresses.map { $0 &- 1 }, position: position))
        }
        return try finish(&builder, samples: samples, maps: maps, symbols: symbols, dropDuplicateLeaf: false)
    }

    // MARK: Count (text)

    /// `name profile: total N` → name.
    static func countHeader(_ bytes: Bytes, _ t: Range<Int>) -> String? {
        let tokens = bytes.tokens(t)
        guard tokens.count == 4, bytes.equals("profile:", in: tokens[1]), bytes.equals("total", in: tokens[2]),
            bytes.decimal(tokens[3]) != .invalid
        else { return nil }
        return bytes.string(tokens[0])
    }

    private static func readCount(_ bytes: Bytes, name: String, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        var builder = ProfileBuilder(format: .legacyPprof, limits: limits, mergeSamples: false)
        builder.periodType = ValueType(type: name, unit: "count")
        builder.period = 1
        builder.sampleTypes = [ValueType(type: name, unit: "count")]
        var samples: [RawSample] = []
        var inSamples = true
        let (symbols, maps) = try eachRecordLine(bytes, limits: limits) { t, position throws(ProfileFormatError) in
            if bytes.hasPrefix("---", in: t) { inSamples = false }
            guard inSamples else { return }
            try builder.countRecord(at: position)
            var p = TokenCursor(bytes: bytes, at: t.lowerBound, end: t.upperBound)
            guard let d = p.digits() else { throw fail(position, "expected 'count @ addresses', found '\(preview(bytes, t))'") }
            p.skipSpaces()
            guard p.consume(UInt8(ascii: "@")) else { throw fail(position, "expected '@' after the count") }
            guard let n = Int64(d) else { throw .overflow(format: .legacyPprof, sampleType: "\(name)/count", location: position) }
            let addresses = try stackAddresses(bytes, p.at..<t.upperBound, position: position, limits: limits)
            samples.append(RawSample(values: [n], addresses: addresses.map { $0 &- 1 }, position: position))
        }
        return try finish(&builder, samples: samples, maps: maps, symbols: symbols, dropDuplicateLeaf: false)
    }

    // MARK: Shared pieces

    typealias Symbols = [UInt64: [(name: String, file: String, line: Int64)]]

    /// Walks the lines after a legacy text header: skips blank lines, collects Go's `#` symbol lines, stops at the
    /// memory-map sentinel and parses the map after it, and hands every other line (trimmed) to `record`.
    private static func eachRecordLine(
        _ bytes: Bytes, limits: FormatLimits, _ record: (Range<Int>, String) throws(ProfileFormatError) -> Void
    ) throws(ProfileFormatError) -> (Symbols, [RawMapping]) {
        var scanner = LineScanner(bytes, format: .legacyPprof, maxLineBytes: limits.maxLineBytes)
        var symbols = SymbolTable()
        var sawHeader = false
        var mapsStart = bytes.count
        while let line = try scanner.next() {
            let t = bytes.trimmed(line)
            let isComment = !t.isEmpty && bytes[t.lowerBound] == UInt8(ascii: "#")
            if !sawHeader {
                sawHeader = !t.isEmpty && !isComment
                continue
            }
            if isMemoryMapSentinel(bytes, t) {
                mapsStart = scanner.rest.lowerBound
                break
            }
            if t.isEmpty { continue }
            if isComment {
                symbols.add(bytes, t)
                continue
            }
            symbols.endBlock()
            try record(t, "line \(scanner.number)")
        }
        symbols.endBlock()
        return (symbols.table, try parseMaps(bytes, mapsStart..<bytes.count, limits: limits))
    }

    /// The `0x…` numbers of a stack (pprof takes the run of `[ x0-9a-f]` after the `@` and finds `0x[0-9a-f]+`).
    private static func stackAddresses(_ bytes: Bytes, _ r: Range<Int>, position: String, limits: FormatLimits) throws(ProfileFormatError)
        -> [UInt64]
    {
        var out: [UInt64] = []
        var i = r.lowerBound
        func allowed(_ b: UInt8) -> Bool { b == 0x20 || b == UInt8(ascii: "x") || isDigit(b) || (b >= 0x61 && b <= 0x66) }
        var end = i
        while end < r.upperBound && allowed(bytes[end]) { end += 1 }
        while i + 1 < end {
            if bytes[i] == 0x30 && bytes[i + 1] == UInt8(ascii: "x") {
                var j = i + 2
                while j < end && (isDigit(bytes[j]) || (bytes[j] >= 0x61 && bytes[j] <= 0x66)) { j += 1 }
                if j > i + 2 {
                    guard let a = bytes.hex(i..<j) else { throw fail(position, "address \(preview(bytes, i ..< j)) exceeds 64 bits") }
                    out.append(a)
                    if out.count > limits.maxStackDepth {
                        throw .limitExceeded(
                            format: .legacyPprof, what: "\(position): stack deeper than \(limits.maxStackDepth) frames",
                            limit: limits.maxStackDepth)
                    }
                    i = j
                    continue
                }
            }
            i += 1
        }
        return out
    }

    private static func isMemoryMapSentinel(_ bytes: Bytes, _ t: Range<Int>) -> Bool {
        bytes.contains("--- Memory map: ---", in: t) || bytes.contains("MAPPED_LIBRARIES:", in: t)
    }

    /// Go's `#\t0xADDR\tfunc+0xOFF\tfile:line` comment lines, by address; several for one address in one block are
    /// inlined frames, innermost first. The first block naming an address wins.
    private struct SymbolTable {
        var table: Symbols = [:]
        private var block: Symbols = [:]

        mutating func add(_ bytes: Bytes, _ t: Range<Int>) {
            var fields: [Range<Int>] = []
            var s = t.lowerBound + 1
            for i in t.lowerBound + 1...t.upperBound where i == t.upperBound || bytes[i] == 0x09 {
                let f = bytes.trimmed(s..<i)
                if !f.isEmpty { fields.append(f) }
                s = i + 1
            }
            if fields.count < 2 { fields = bytes.tokens(t.lowerBound + 1..<t.upperBound) }
            guard fields.count >= 2, bytes.hasPrefix("0x", in: fields[0]), let address = bytes.hex(fields[0]) else { return }
            var name = fields[1]
            if let plus = bytes.lastIndex(of: UInt8(ascii: "+"), in: name), bytes.hasPrefix("+0x", in: plus..<name.upperBound) {
                name = name.lowerBound..<plus
            }
            guard !name.isEmpty else { return }
            var file = ""
            var line: Int64 = 0
            if fields.count >= 3 {
                let f = fields[2]
                if let colon = bytes.lastIndex(of: UInt8(ascii: ":"), in: f), case .value(let l) = bytes.decimal(colon + 1..<f.upperBound) {
                    file = bytes.string(f.lowerBound..<colon)
                    line = l
                } else {
                    file = bytes.string(f)
                }
            }
            block[address, default: []].append((bytes.string(name), file, line))
        }

        mutating func endBlock() {
            if block.isEmpty { return }
            for (a, frames) in block where table[a] == nil { table[a] = frames }
            block.removeAll(keepingCapacity: true)
        }
    }

    /// Builds the profile from raw samples as pprof's `ParseMemoryMap` + `remapMappingIDs` do: locations in order
    /// of first use, each assigned to the first mapping (in pprof's order) containing its address.
    private static func finish(
        _ builder: inout ProfileBuilder, samples inputSamples: [RawSample], maps inputMaps: [RawMapping],
        symbols: Symbols, dropDuplicateLeaf: Bool
    ) throws(ProfileFormatError) -> Profile {
        var samples = inputSamples
        var maps = massage(inputMaps)

        // Addresses in order of first use (after the frame removals pprof makes before mapping).
        var order: [UInt64] = []
        var seen: Set<UInt64> = []
        for s in samples {
            for a in s.addresses where seen.insert(a).inserted { order.append(a) }
        }
        if dropDuplicateLeaf {
            for k in samples.indices {
                let a = samples[k].addresses
                if a.count > 1 && a[0] == a[1] &+ 1 { samples[k].addresses.remove(at: 1) }
            }
        }

        // remapMappingIDs' heuristics.
        if let m = maps.first, m.file.hasPrefix("/anon_hugepage"), maps.count > 1, m.limit == maps[1].start { maps.removeFirst() }
        if let m = maps.first, m.start &- m.offset == 0x400000 {
            maps[0].start = 0x400000
            maps[0].offset = 0
        }
        var mappingOf: [UInt64: Int] = [:]
        var work = 0
        let maxWork = 200_000_000
        for a in order where a != 0 {
            var found = -1
            for (k, m) in maps.enumerated() where m.start <= a && a < m.limit {
                found = k
                break
            }
            work += maps.count
            if found < 0 {
                // Legacy handlers may leave out the first part of a mapping split in two.
                for (k, m) in maps.enumerated() where m.offset != 0 && m.start &- m.offset <= a && a < m.start {
                    maps[k].start = m.start &- m.offset
                    maps[k].offset = 0
                    found = k
                    break
                }
                work += maps.count
            }
            if work > maxWork {
                throw .limitExceeded(
                    format: .legacyPprof, what: "address × mapping lookups (\(order.count) addresses, \(maps.count) mappings)",
                    limit: maxWork)
            }
            if found >= 0 { mappingOf[a] = found }
        }

        var mappingIndex: [Int32] = []
        for m in maps {
            mappingIndex.append(builder.mapping(file: m.file, buildID: m.buildID, start: m.start, limit: m.limit, offset: m.offset))
        }
        var locationOf: [UInt64: Int32] = [:]
        for s in samples {
            var leafFirst: [Int32] = []
            leafFirst.reserveCapacity(s.addresses.count)
            for a in s.addresses {
                if let l = locationOf[a] {
                    leafFirst.append(l)
                    continue
                }
                let mapping = mappingOf[a].map { mappingIndex[$0] } ?? -1
                var lines: [(function: Int32, line: Int64)] = []
                for f in symbols[a] ?? [] {
                    lines.append((builder.function(name: f.name, file: f.file), f.line))
                }
                let l = builder.addressLocation(address: a, mapping: mapping, lines: lines)
                locationOf[a] = l
                leafFirst.append(l)
            }
            let node = try builder.stack(leafFirst: leafFirst, at: s.position)
            var labels: Int32 = 0
            if let b = s.blockSize { labels = builder.labelSet([Label(key: builder.string("bytes"), num: b)]) }
            try builder.addSample(stack: node, values: s.values, labelSet: labels, at: s.position)
        }
        return try builder.build()
    }

    // MARK: Memory maps

    struct RawMapping: Equatable {
        var start: UInt64
        var limit: UInt64
        var offset: UInt64
        var file: String
        var buildID: String
    }

    /// Executable entries of a `/proc/self/maps`-style text (or pprof's brief `start-end file (@offset) buildid`).
    /// Unrecognized lines are skipped, as pprof does.
    static func parseMaps(_ bytes: Bytes, _ r: Range<Int>, limits: FormatLimits) throws(ProfileFormatError) -> [RawMapping] {
        guard !r.isEmpty else { return [] }
        var scanner = LineScanner(UnsafeBufferPointer(rebasing: bytes[r]), format: .legacyPprof, maxLineBytes: limits.maxLineBytes)
        let sub = UnsafeBufferPointer(rebasing: bytes[r])
        var out: [RawMapping] = []
        while let line = try scanner.next() {
            if let m = mappingEntry(sub, removeLoggingInfo(sub, line)) { out.append(m) }
        }
        return out
    }

    /// Drops a glog prefix (`I0101 00:00:00.000 file.cc:12] `).
    private static func removeLoggingInfo(_ bytes: Bytes, _ line: Range<Int>) -> Range<Int> {
        guard let close = bytes.firstIndex(of: UInt8(ascii: "]"), in: line), close + 1 < line.upperBound, isSpace(bytes[close + 1]),
            bytes.firstIndex(of: UInt8(ascii: "["), in: line.lowerBound..<close) == nil,
            let colon = bytes.lastIndex(of: UInt8(ascii: ":"), in: line.lowerBound..<close), colon > line.lowerBound,
            bytes.decimal(colon + 1..<close) != .invalid
        else { return line }
        return close + 2..<line.upperBound
    }

    static func mappingEntry(_ bytes: Bytes, _ line: Range<Int>) -> RawMapping? {
        var tokens = bytes.tokens(line)
        guard !tokens.isEmpty else { return nil }
        // The address range: `start-end`, `start - end` or `start end`, each with or without 0x, end maybe with ':'.
        var start: UInt64
        var end: UInt64
        var k: Int
        func stripColon(_ t: Range<Int>) -> Range<Int> {
            t.count > 1 && bytes[t.upperBound - 1] == UInt8(ascii: ":") ? t.lowerBound..<t.upperBound - 1 : t
        }
        if let dash = bytes.firstIndex(of: UInt8(ascii: "-"), in: tokens[0]), dash > tokens[0].lowerBound {
            guard let s = bytes.hex(tokens[0].lowerBound..<dash) else { return nil }
            let rest = dash + 1..<tokens[0].upperBound
            if rest.isEmpty {
                guard tokens.count > 1, let e = bytes.hex(stripColon(tokens[1])) else { return nil }
                (start, end, k) = (s, e, 2)
            } else {
                guard let e = bytes.hex(stripColon(rest)) else { return nil }
                (start, end, k) = (s, e, 1)
            }
        } else {
            guard tokens.count > 1, let s = bytes.hex(tokens[0]) else { return nil }
            var second = tokens[1]
            if bytes[second.lowerBound] == UInt8(ascii: "-") { second = second.lowerBound + 1..<second.upperBound }
            if second.isEmpty, tokens.count > 2 {
                tokens.remove(at: 1)
                second = tokens[1]
            }
            guard let e = bytes.hex(stripColon(second)) else { return nil }
            (start, end, k) = (s, e, 2)
        }
        func isPerm(_ t: Range<Int>) -> Bool { t.allSatisfy { "-rwxp".utf8.contains(bytes[$0]) } }
        func isDev(_ t: Range<Int>) -> Bool {
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":"), in: t) else { return false }
            return bytes.hex(t.lowerBound..<colon) != nil && bytes.hex(colon + 1..<t.upperBound) != nil
                && !bytes.hasPrefix("0x", in: t)
        }
        var perm: Range<Int>?
        var offset: UInt64 = 0
        var file = ""
        var buildID = ""
        // /proc/self/maps: [perm] [offset] dev inode [file]
        var j = k
        if j < tokens.count && isPerm(tokens[j]) {
            perm = tokens[j]
            j += 1
        }
        var proc = false
        var off: UInt64 = 0
        var jj = j
        if jj + 1 < tokens.count, let o = bytes.hex(tokens[jj]), !bytes.hasPrefix("0x", in: tokens[jj]), isDev(tokens[jj + 1]) {
            off = o
            jj += 1
        }
        if jj + 1 < tokens.count && isDev(tokens[jj]) && bytes.decimal(tokens[jj + 1]) != .invalid {
            proc = true
            offset = off
            jj += 2
            if jj < tokens.count { file = bytes.string(tokens[jj]) }
        }
        if !proc {
            // Brief: [perm] [file] [(@offset)] [buildid]
            if j < tokens.count {
                file = bytes.string(tokens[j])
                j += 1
            }
            if j < tokens.count, bytes.hasPrefix("(@", in: tokens[j]), bytes[tokens[j].upperBound - 1] == UInt8(ascii: ")"),
                let o = bytes.hex(tokens[j].lowerBound + 2..<tokens[j].upperBound - 1)
            {
                offset = o
                j += 1
            }
            if j < tokens.count, bytes.hex(tokens[j]) != nil { buildID = bytes.string(tokens[j]) }
        }
        if let perm, !bytes.contains("x", in: perm) { return nil }
        return RawMapping(start: start, limit: end, offset: offset, file: file, buildID: buildID)
    }

    /// pprof's `massageMappings`: adjacent entries of one file merge; the main binary (the first entry whose file
    /// is not a shared library or a `[pseudo]` file) moves to the front.
    static func massage(_ input: [RawMapping]) -> [RawMapping] {
        var maps: [RawMapping] = []
        for m in input {
            if var last = maps.last, adjacent(last, m) {
                last.limit = m.limit
                if !m.file.isEmpty { last.file = m.file }
                if !m.buildID.isEmpty { last.buildID = m.buildID }
                maps[maps.count - 1] = last
                continue
            }
            maps.append(m)
        }
        for (i, m) in maps.enumerated() {
            let file = m.file.replacing("(deleted)", with: "").trimmingSpaces()
            if file.isEmpty || isSharedLibrary(file) || file.hasPrefix("[") { continue }
            maps.swapAt(0, i)
            break
        }
        return maps
    }

    private static func adjacent(_ a: RawMapping, _ b: RawMapping) -> Bool {
        if !a.file.isEmpty && !b.file.isEmpty && a.file != b.file { return false }
        if !a.buildID.isEmpty && !b.buildID.isEmpty && a.buildID != b.buildID { return false }
        if a.limit != b.start { return false }
        if a.offset != 0 && b.offset != 0 && a.offset &+ (a.limit &- a.start) != b.offset { return false }
        return true
    }

    /// `([.]so$|[.]so[._][0-9]+)`
    private static func isSharedLibrary(_ file: String) -> Bool {
        if file.hasSuffix(".so") { return true }
        let u = Array(file.utf8)
        var i = 0
        while i + 4 < u.count + 0 {
            if u[i] == UInt8(ascii: "."), u[i + 1] == UInt8(ascii: "s"), u[i + 2] == UInt8(ascii: "o"),
                u[i + 3] == UInt8(ascii: ".") || u[i + 3] == UInt8(ascii: "_"), i + 4 < u.count, isDigit(u[i + 4])
            {
                return true
            }
            i += 1
        }
        return false
    }

    /// Go's `strconv.ParseInt(s, 0, 64)`: decimal, `0x` hex, `0o`/leading-0 octal, `0b` binary, optional sign.
    static func parseGoInt(_ s: String) -> Int64? {
        var t = Substring(s)
        var negative = false
        if t.hasPrefix("-") || t.hasPrefix("+") {
            negative = t.hasPrefix("-")
            t = t.dropFirst()
        }
        let lower = t.lowercased()
        var radix = 10
        if lower.hasPrefix("0x") {
            radix = 16
            t = t.dropFirst(2)
        } else if lower.hasPrefix("0b") {
            radix = 2
            t = t.dropFirst(2)
        } else if lower.hasPrefix("0o") {
            radix = 8
            t = t.dropFirst(2)
        } else if t.count > 1 && t.hasPrefix("0") {
            radix = 8
            t = t.dropFirst()
        }
        t = Substring(t.filter { $0 != "_" })
        guard !t.isEmpty, let magnitude = UInt64(t, radix: radix) else { return nil }
        if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    private static func find(_ needle: StaticString, in bytes: Bytes, _ r: Range<Int>) -> Int? {
        let n = needle.utf8CodeUnitCount
        var i = r.lowerBound
        while i + n <= r.upperBound {
            if bytes.hasPrefix(needle, in: i..<r.upperBound) { return i }
            i += 1
        }
        return nil
    }

    // pprof's addLegacyFrameInfo: frames a legacy profile's viewer drops (informational in our model).
    static let cpuProfilerDropFrames = [
        "ProfileData::Add", "ProfileData::prof_handler", "CpuProfiler::prof_handler", "__pthread_sighandler", "__restore",
    ].joined(separator: "|")
    static let allocDropFrames = [
        "calloc", "cfree", "malloc", "free", "memalign", "do_memalign", "(__)?posix_memalign", "pvalloc", "valloc", "realloc",
        "tcmalloc::.*", "tc_calloc", "tc_cfree", "tc_malloc", "tc_free", "tc_memalign", "tc_posix_memalign", "tc_pvalloc",
        "tc_valloc", "tc_realloc", "tc_new", "tc_delete", "tc_newarray", "tc_deletearray", "tc_new_nothrow",
        "tc_newarray_nothrow", "malloc_zone_malloc", "malloc_zone_calloc", "malloc_zone_valloc", "malloc_zone_realloc",
        "malloc_zone_memalign", "malloc_zone_free", "runtime\\..*", "BaseArena::.*", "(::)?do_malloc_no_errno",
        "(::)?do_malloc_pages", "(::)?do_malloc", "DoSampledAllocation", "MallocedMemBlock::MallocedMemBlock", "_M_allocate",
        "__builtin_(vec_)?delete", "__builtin_(vec_)?new", "__gnu_cxx::new_allocator::allocate", "__libc_malloc",
        "__malloc_alloc_template::allocate", "allocate", "cpp_alloc", "operator new(\\[\\])?", "simple_alloc::allocate",
    ].joined(separator: "|")
    static let allocKeepFrames = ["runtime\\.panic", "runtime\\.reflectcall", "runtime\\.call[0-9]*"].joined(separator: "|")
    static let lockDropFrames = [
        "RecordLockProfileData", "(base::)?RecordLockProfileData.*", "(base::)?SubmitMutexProfileData.*",
        "(base::)?SubmitSpinLockProfileData.*", "(base::Mutex::)?AwaitCommon.*", "(base::Mutex::)?Unlock.*",
        "(base::Mutex::)?UnlockSlow.*", "(base::Mutex::)?ReaderUnlock.*", "(base::MutexLock::)?~MutexLock.*",
        "(Mutex::)?AwaitCommon.*", "(Mutex::)?Unlock.*", "(Mutex::)?UnlockSlow.*", "(Mutex::)?ReaderUnlock.*",
        "(MutexLock::)?~MutexLock.*", "(SpinLock::)?Unlock.*", "(SpinLock::)?SlowUnlock.*", "(SpinLockHolder::)?~SpinLockHolder.*",
    ].joined(separator: "|")
}

/// A cursor over one line for the hand-written matchers of the legacy text formats.
private struct TokenCursor {
    let bytes: Bytes
    var at: Int
    let end: Int

    mutating func skipSpaces() {
        while at < end && (bytes[at] == 0x20 || bytes[at] == 0x09) { at += 1 }
    }

    mutating func consume(_ b: UInt8) -> Bool {
        guard at < end, bytes[at] == b else { return false }
        at += 1
        return true
    }

    /// A run of digits as text (so that overflow is the caller's to report).
    mutating func digits() -> String? { signedDigits(allowMinus: false) }

    mutating func signedDigits(allowMinus: Bool) -> String? {
        let s = at
        if allowMinus && at < end && bytes[at] == UInt8(ascii: "-") { at += 1 }
        let d = at
        while at < end && isDigit(bytes[at]) { at += 1 }
        guard at > d else {
            at = s
            return nil
        }
        return bytes.string(s..<at)
    }

    mutating func word(_ allowed: (UInt8) -> Bool) -> String {
        let s = at
        while at < end && allowed(bytes[at]) { at += 1 }
        return bytes.string(s..<at)
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
