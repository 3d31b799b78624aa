#if canImport(Glibc)
import Glibc
#endif

/// A hand-written decoder for the one hot message of a pprof profile: `Sample`, usually most of its bytes.
///
/// One pass over the top-level fields decodes every sample straight into flat arrays and copies all other
/// fields into a separate buffer that protobuf-c then decodes. Stacks and label sets are interned on the
/// way (a sample's ids are written, hashed, and taken back when an equal stack exists), so memory grows with
/// distinct stacks, not with samples. Ids and string indexes are stored raw and resolved afterwards, once the
/// locations and the string table are known.
struct SampleDecoder {
    /// The top-level fields other than samples, for protobuf-c.
    var rest: [UInt8] = []
    var sampleCount = 0
    var sampleStacks: [Int32] = []
    var sampleLabelSets: [Int32] = []
    var stackOffsets: [Int32] = [0]
    /// Raw location ids (below 2^32) of the distinct stacks until the converter maps them to dense indexes.
    var stackLocations: [Int32] = []
    var values: [Int64] = []
    var valueCounts: [Int32] = []
    var labelSetOffsets: [Int32] = [0, 0]
    /// Raw string indexes (-1 when out of Int32 range) of the distinct label sets until the converter remaps them.
    var labels: [Label] = []
    /// A location id did not fit in 32 bits: the caller falls back to protobuf-c for the samples.
    var needsFallback = false
    /// The upper bound of the bytes decoding could write, checked against the limit before writing.
    private(set) var memoryBoundBytes = 0

    /// The bytes the decoded arrays hold (their untouched capacity costs nothing).
    var heldBytes: Int {
        rest.count + stackLocations.count * MemoryLayout<Int32>.stride + values.count * MemoryLayout<Int64>.stride
            + labels.count * MemoryLayout<Label>.stride
            + (sampleStacks.count + sampleLabelSets.count + valueCounts.count + stackOffsets.count + labelSetOffsets.count)
            * MemoryLayout<Int32>.stride
    }

    /// A decoder holding nothing, to release the arrays of one that was consumed.
    static var empty: SampleDecoder { SampleDecoder() }

    private init() {}

    struct Failure: Error {
        var reason: String
        var memoryLimit = false
    }

    /// Decodes; fails with `memoryLimit` set when the arrays would need more than `maxMemory` bytes. With
    /// `threads` >= 2, the samples of a profile of at least `twoThreadMinimum` are decoded in two halves at
    /// once (see `decodeInHalves`), to the same result and the same errors.
    init(
        _ raw: UnsafeRawBufferPointer, maxMemory: Int = Int.max, threads: Int = 1,
        twoThreadMinimum: DecodeLimits.TwoThreadMinimum = .init()
    ) throws(Failure) {
        let bytes = raw.bindMemory(to: UInt8.self)
        // Pass 1: count samples and the bytes of everything else, so every array is allocated once; for two
        // threads, note where the input could be split.
        let (whole, splits) = try Self.scan(bytes, splitEvery: threads >= 2 ? bytes.count / Self.splitCandidates + 1 : nil)
        // At most this much is written (distinct stacks usually need far less): the decode-memory limit
        // applies to it as to protobuf-c.
        let needed = Self.memoryBound(whole)
        if needed > maxMemory { throw Failure(reason: "needs \(needed) bytes", memoryLimit: true) }
        if threads >= 2, let halves = Self.halves(whole, splits: splits, minimum: twoThreadMinimum, maxMemory: maxMemory) {
            self = try Self.decodeInHalves(bytes, halves)
            memoryBoundBytes = halves.memoryBound
        } else {
            self = try Self.decode(bytes, 0 ..< bytes.count, capacity: whole, firstSample: 0)
            memoryBoundBytes = needed
        }
    }

    /// What pass 1 counts over top-level fields.
    struct FieldCounts {
        var samples = 0
        var sampleBytes = 0
        var restBytes = 0
        /// Where the counted fields end.
        var end = 0
    }

    /// Pass 1: counts the top-level fields. With `splitEvery`, also returns the counts up to the first field
    /// boundary after every `splitEvery` bytes of input: where two threads could split it.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, splitEvery: Int? = nil) throws(Failure) -> (FieldCounts, splits: [FieldCounts]) {
        var counts = FieldCounts()
        var splits: [FieldCounts] = []
        var nextSplit = splitEvery ?? bytes.count
        var i = 0
        while i < bytes.count {
            if i >= nextSplit, let splitEvery {
                counts.end = i
                splits.append(counts)
                nextSplit = i + splitEvery
            }
            let fieldStart = i
            let (field, wire) = try Self.tag(bytes, &i)
            try Self.skip(bytes, &i, wire: wire)
            if field == 2 && wire == 2 {
                counts.samples += 1
                counts.sampleBytes += i - fieldStart
            } else {
                counts.restBytes += i - fieldStart
            }
        }
        counts.end = i
        return (counts, splits)
    }

    /// Pass 2 over the top-level fields in `range` (whole fields, which pass 1 read without error): decodes
    /// through raw pointers into arrays allocated once for `capacity`. The upper bounds (each id or value
    /// takes at least one byte, each label at least two) are virtual memory: pages never written are never
    /// touched. `firstSample` is the index of the range's first sample, for errors. `finish` runs after the
    /// range is decoded, while the arrays can still be written (to append another range's samples).
    static func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, capacity: FieldCounts, firstSample: Int,
        finish: (inout Output, inout [UInt8]) throws(Failure) -> Void = { _, _ in }
    ) throws(Failure) -> SampleDecoder {
        var failure: Failure?
        var restOut: [UInt8] = []
        restOut.reserveCapacity(capacity.restBytes)
        var out = Output(expectedSamples: capacity.samples, firstSample: firstSample)
        var values: [Int64] = []
        var labels: [Label] = []
        let sampleBytes = capacity.sampleBytes
        let stackLocations = [Int32](unsafeUninitializedCapacity: max(sampleBytes, 1)) { locs, locCount in
            values = [Int64](unsafeUninitializedCapacity: max(sampleBytes, 1)) { vals, valCount in
                labels = [Label](unsafeUninitializedCapacity: sampleBytes / 2 + 1) { labs, labCount in
                    out.locations = locs.baseAddress!
                    out.values = vals.baseAddress!
                    out.labels = labs.baseAddress!
                    do throws(Failure) {
                        var i = range.lowerBound
                        while i < range.upperBound {
                            let fieldStart = i
                            let (field, wire) = try Self.tag(bytes, &i)
                            if field == 2 && wire == 2 {
                                let length = try Self.length(bytes, &i)
                                try Self.decodeSample(UnsafeBufferPointer(rebasing: bytes[i ..< i + length]), into: &out)
                                i += length
                            } else {
                                try Self.skip(bytes, &i, wire: wire)
                                restOut.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[fieldStart ..< i]))
                            }
                        }
                        try finish(&out, &restOut)
                    } catch {
                        failure = error
                    }
                    locCount = out.locationCount
                    valCount = out.valueCount
                    labCount = out.labelCount
                }
            }
        }
        if let failure { throw failure }
        var decoded = SampleDecoder()
        decoded.rest = restOut
        decoded.stackLocations = stackLocations
        decoded.values = values
        decoded.labels = labels
        decoded.sampleCount = out.sampleStacks.count
        decoded.sampleStacks = out.sampleStacks
        decoded.sampleLabelSets = out.sampleLabelSets
        decoded.stackOffsets = out.stackOffsets
        decoded.labelSetOffsets = out.labelSetOffsets
        decoded.valueCounts = out.valueCounts
        decoded.needsFallback = out.fallback
        return decoded
    }

    static func memoryBound(_ counts: FieldCounts) -> Int {
        memoryBound(samples: counts.samples, sampleBytes: counts.sampleBytes, restBytes: counts.restBytes)
    }

    /// An upper bound of the bytes pass 2 writes, from what pass 1 counted.
    ///
    /// Each byte of a sample message yields at most one of: a location id (a varint takes at least one byte),
    /// a value (likewise), or half a label (a label field takes at least two bytes, tag and length). A cached
    /// stack or label set written out again stands for bytes that were skipped, not decoded, so it adds
    /// nothing. Per sample come its entries in the per-sample arrays and, when its stack and label set are
    /// both new, their offsets and their entries in the two content tables and the two byte caches: an
    /// appended array touches twice its count while it grows (old and new buffer); a table's slots are at
    /// most four per entry, six while it grows. Equal stacks and label sets are taken back, so the arrays
    /// never hold more than this either.
    static func memoryBound(samples: Int, sampleBytes: Int, restBytes: Int) -> Int {
        let int32 = MemoryLayout<Int32>.stride
        let perByte = max(MemoryLayout<Int32>.stride, MemoryLayout<Int64>.stride, (MemoryLayout<Label>.stride + 1) / 2)
        let tableEntry = 2 * MemoryLayout<UInt64>.stride + 6 * int32
        let cacheEntry = 2 * (MemoryLayout<UnsafePointer<UInt8>>.stride + MemoryLayout<Int>.stride + int32) + tableEntry
        let perSample = 3 * int32 + 2 * int32 + 2 * tableEntry + 2 * cacheEntry
        // Tables start with at least 128 slots (256 while growing) and the arrays with one element.
        let fixed = 4 * 256 * int32 + 2 * perByte
        let (a, o1) = sampleBytes.multipliedReportingOverflow(by: perByte)
        let (b, o2) = samples.multipliedReportingOverflow(by: perSample)
        let (c, o3) = a.addingReportingOverflow(b)
        let (d, o4) = c.addingReportingOverflow(restBytes + fixed)
        return o1 || o2 || o3 || o4 ? Int.max : d
    }

    /// Where pass 2 writes; counts are the number of elements written so far.
    struct Output {
        var locations: UnsafeMutablePointer<Int32>
        var values: UnsafeMutablePointer<Int64>
        var labels: UnsafeMutablePointer<Label>
        var locationCount = 0
        var valueCount = 0
        var labelCount = 0
        var sampleStacks: [Int32] = []
        var sampleLabelSets: [Int32] = []
        var valueCounts: [Int32] = []
        var stackOffsets: [Int32] = [0]
        var labelSetOffsets: [Int32] = [0, 0]
        var stackTable: SequenceTable
        var labelSetTable: SequenceTable
        /// Stacks by the raw bytes of their packed location field: most samples repeat a stack already seen,
        /// and a byte match skips their varint decoding. A miss falls through to the content table, so ids
        /// are the same as without the cache.
        var stackBytes: ByteCache
        /// Label sets by the raw bytes of a sample's run of label fields, the same way.
        var labelBytes: ByteCache
        var fallback = false
        /// The index of the first sample written here among all samples of the profile, for errors.
        let firstSample: Int

        /// The index among all samples of the profile of the sample being decoded.
        var sampleIndex: Int { firstSample + sampleStacks.count }

        init(expectedSamples: Int, firstSample: Int) {
            self.firstSample = firstSample
            let unset = UnsafeMutablePointer<Int32>(bitPattern: 0x10)!
            locations = unset
            values = UnsafeMutableRawPointer(unset).assumingMemoryBound(to: Int64.self)
            labels = UnsafeMutableRawPointer(unset).assumingMemoryBound(to: Label.self)
            sampleStacks.reserveCapacity(expectedSamples)
            sampleLabelSets.reserveCapacity(expectedSamples)
            valueCounts.reserveCapacity(expectedSamples)
            // Virtual until written: one entry per new stack or set at most, and never a copy on growth.
            stackOffsets.reserveCapacity(expectedSamples + 1)
            labelSetOffsets.reserveCapacity(expectedSamples + 2)
            stackTable = SequenceTable(expected: max(64, expectedSamples / 8))
            labelSetTable = SequenceTable(expected: 64)
            stackBytes = ByteCache(expected: max(64, expectedSamples / 8))
            labelBytes = ByteCache(expected: 64)
        }

        @inline(__always)
        mutating func location(_ id: UInt64) {
            if id > UInt64(UInt32.max) { fallback = true }
            locations[locationCount] = Int32(bitPattern: UInt32(truncatingIfNeeded: id))
            locationCount += 1
        }

        /// Writes the labels of an interned set again, when a sample adds labels after a cached run.
        mutating func rewrite(labelSet: Int32) {
            Self.append(labels, count: &labelCount, copyOf: labelSetOffsets, sequence: Int(labelSet))
        }

        /// Writes the raw ids of an interned stack again, when a sample continues it with more fields.
        mutating func rewrite(stack: Int32) {
            Self.append(locations, count: &locationCount, copyOf: stackOffsets, sequence: Int(stack))
        }

        /// Appends a copy of sequence `k` (`offsets[k] ..< offsets[k+1]`) at `storage[count...]`.
        private static func append<Element>(
            _ storage: UnsafeMutablePointer<Element>, count: inout Int, copyOf offsets: [Int32], sequence k: Int
        ) {
            for i in Int(offsets[k]) ..< Int(offsets[k + 1]) {
                storage[count] = storage[i]
                count += 1
            }
        }

        @inline(__always)
        mutating func value(_ v: UInt64) {
            values[valueCount] = Int64(bitPattern: v)
            valueCount += 1
        }

        /// Keeps the locations written since `start` as a new stack, or takes them back for an equal one.
        mutating func internStack(from start: Int) -> Int32 {
            let h = SequenceTable.hash(locations + start, count: locationCount - start)
            return Self.intern(locations, count: &locationCount, from: start, offsets: &stackOffsets, base: 0, table: &stackTable, hash: h)
        }

        /// Keeps the labels written since `start` as a new set, or takes them back for an equal one.
        mutating func internLabelSet(from start: Int) -> Int32 {
            if labelCount == start { return 0 }
            let h = SequenceTable.hash(labels + start, count: labelCount - start)
            // Set 0 is the empty set, outside the table: table id k is set k + 1.
            return 1 + Self.intern(labels, count: &labelCount, from: start, offsets: &labelSetOffsets, base: 1, table: &labelSetTable, hash: h)
        }

        /// The interning both use: `storage[start ..< count]` becomes a new sequence (its end appended to
        /// `offsets`), or is taken back (count reset) when an equal one exists. Sequence k spans
        /// `offsets[base + k] ..< offsets[base + k + 1]`. The offsets are read through a buffer pointer so
        /// that no second reference makes the append copy the array.
        private static func intern<Element: Equatable>(
            _ storage: UnsafeMutablePointer<Element>, count: inout Int, from start: Int, offsets: inout [Int32], base: Int,
            table: inout SequenceTable, hash: UInt64
        ) -> Int32 {
            let n = count - start
            let (id, isNew) = offsets.withUnsafeBufferPointer { offs in
                table.intern(hash: hash) { candidate in
                    let a = Int(offs[base + Int(candidate)])
                    guard Int(offs[base + Int(candidate) + 1]) - a == n else { return false }
                    for k in 0 ..< n where storage[a + k] != storage[start + k] { return false }
                    return true
                }
            }
            if isNew {
                offsets.append(Int32(truncatingIfNeeded: count))
            } else {
                count = start
            }
            return id
        }
    }

    private static func decodeSample(_ m: UnsafeBufferPointer<UInt8>, into out: inout Output) throws(Failure) {
        let valueStart = out.valueCount
        let locationStart = out.locationCount
        let labelStart = out.labelCount
        // Location fields seen, the stack their first field's bytes are cached as (skipped, not written), and
        // the cache entry to fill when the whole stack came from that one field.
        var locationFields = 0
        var cachedStack: Int32? = nil
        var stackEntry = -1
        // The same for labels, by the bytes of the run of canonically tagged label fields that starts the
        // sample's labels: an entry stands for a whole label set only when no other label field follows.
        var labelFields = 0
        var cachedLabels: Int32? = nil
        var labelEntry = -1
        var labelRunFields = 0
        var i = 0
        while i < m.count {
            let fieldStart = i
            let (field, wire) = try tag(m, &i)
            switch field {
            case 1:  // location_id: packed or not, possibly split over several fields
                locationFields += 1
                // A stack continued by another field: write out the cached part before adding to it.
                if let stack = cachedStack {
                    out.rewrite(stack: stack)
                    cachedStack = nil
                }
                switch wire {
                case 2:
                    let count = try length(m, &i)
                    let end = i + count
                    if locationFields == 1 && count > 0 {
                        switch out.stackBytes.look(up: m.baseAddress! + i, count: count) {
                        case .known(let stack):
                            cachedStack = stack
                            i = end
                            continue
                        case .unrecorded(let entry): stackEntry = entry
                        }
                    }
                    while i < end { out.location(try varint(m, &i)) }
                    if i != end { throw Failure(reason: "sample[\(out.sampleIndex)].location_id: packed field overruns") }
                case 0: out.location(try varint(m, &i))
                default: throw wrongWireType(wire, field: "location_id", sample: out.sampleIndex)
                }
            case 2:  // value: packed or not
                switch wire {
                case 2:
                    let count = try length(m, &i)
                    let end = i + count
                    while i < end { out.value(try varint(m, &i)) }
                    if i != end { throw Failure(reason: "sample[\(out.sampleIndex)].value: packed field overruns") }
                case 0: out.value(try varint(m, &i))
                default: throw wrongWireType(wire, field: "value", sample: out.sampleIndex)
                }
            case 3:  // label: one message per field
                guard wire == 2 else { throw wrongWireType(wire, field: "label", sample: out.sampleIndex) }
                // A label after a cached run: write the cached set out before adding to it.
                if let set = cachedLabels {
                    out.rewrite(labelSet: set)
                    cachedLabels = nil
                }
                if labelFields == 0 && i == fieldStart + 1 {
                    // The sample's first label field, canonically tagged: look up the run of canonical label
                    // fields it starts by its bytes.
                    var end = fieldStart
                    var runFields = 0
                    while end < m.count && m[end] == 0x1A {
                        var j = end + 1
                        let n = try length(m, &j)
                        end = j + n
                        runFields += 1
                    }
                    switch out.labelBytes.look(up: m.baseAddress! + fieldStart, count: end - fieldStart) {
                    case .known(let set):
                        cachedLabels = set
                        labelFields = runFields
                        i = end
                        continue
                    case .unrecorded(let entry):
                        labelEntry = entry
                        labelRunFields = runFields
                    }
                }
                labelFields += 1
                let count = try length(m, &i)
                out.labels[out.labelCount] = try label(UnsafeBufferPointer(rebasing: m[i ..< i + count]))
                out.labelCount += 1
                i += count
            default:
                try skip(m, &i, wire: wire)
            }
        }
        if let stack = cachedStack {
            out.sampleStacks.append(stack)
        } else {
            let stack = out.internStack(from: locationStart)
            // The byte entry stands for the whole stack only when the stack came in that one field.
            if stackEntry >= 0 && locationFields == 1 { out.stackBytes.ids[stackEntry] = stack }
            out.sampleStacks.append(stack)
        }
        if let set = cachedLabels {
            out.sampleLabelSets.append(set)
        } else {
            let set = out.internLabelSet(from: labelStart)
            // The byte entry stands for the whole set only when every label field of the sample was in the run.
            if labelEntry >= 0 && labelFields == labelRunFields { out.labelBytes.ids[labelEntry] = set }
            out.sampleLabelSets.append(set)
        }
        out.valueCounts.append(Int32(truncatingIfNeeded: out.valueCount - valueStart))
    }

    private static func wrongWireType(_ wire: Int, field: String, sample: Int) -> Failure {
        Failure(reason: "sample[\(sample)].\(field): wire type \(wire) does not fit the field")
    }

    /// Ids by the raw bytes they were decoded from, pointing into the input (alive while decoding).
    struct ByteCache {
        enum Lookup {
            /// These bytes were decoded before, to this id.
            case known(Int32)
            /// New, or seen only in samples that continued with more fields: the caller records the id at
            /// this entry when the bytes turn out to stand for the whole stack or label set.
            case unrecorded(Int)
        }

        private var table: SequenceTable
        private var starts: [UnsafePointer<UInt8>] = []
        private var lengths: [Int] = []
        var ids: [Int32] = []

        init(expected: Int) { table = SequenceTable(expected: expected) }

        /// The arrays are read through buffer pointers, so the appends below never copy them.
        mutating func look(up p: UnsafePointer<UInt8>, count n: Int) -> Lookup {
            let (entry, isNew) = starts.withUnsafeBufferPointer { s in
                lengths.withUnsafeBufferPointer { l in
                    table.intern(hash: hashBytes(p, n)) { candidate in l[Int(candidate)] == n && memcmp(s[Int(candidate)], p, n) == 0 }
                }
            }
            if isNew {
                starts.append(p)
                lengths.append(n)
                ids.append(-1)
                return .unrecorded(ids.count - 1)
            }
            let id = ids[Int(entry)]
            return id >= 0 ? .known(id) : .unrecorded(Int(entry))
        }
    }

    /// A fast hash of raw bytes, eight at a time.
    @inline(__always)
    static func hashBytes(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        let raw = UnsafeRawPointer(p)
        var h = UInt64(n) &* 0x9E37_79B9_7F4A_7C15
        var k = 0
        while k + 8 <= n {
            h = SequenceTable.mix(h, raw.loadUnaligned(fromByteOffset: k, as: UInt64.self))
            k += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while k < n {
            tail |= UInt64(p[k]) << shift
            shift += 8
            k += 1
        }
        return SequenceTable.mix(h, tail)
    }

    private static func label(_ m: UnsafeBufferPointer<UInt8>) throws(Failure) -> Label {
        var l = Label(key: 0, str: 0, num: 0, numUnit: 0)
        var i = 0
        func index(_ v: UInt64) -> Int32 {
            let signed = Int64(bitPattern: v)
            return signed >= 0 && signed <= Int64(Int32.max) ? Int32(signed) : -1
        }
        while i < m.count {
            let (field, wire) = try tag(m, &i)
            guard (1 ... 4).contains(field) else {
                try skip(m, &i, wire: wire)
                continue
            }
            guard wire == 0 else { throw Failure(reason: "label field \(field): wire type \(wire) does not fit the field") }
            let v = try varint(m, &i)
            switch field {
            case 1: l.key = index(v)
            case 2: l.str = index(v)
            case 3: l.num = Int64(bitPattern: v)
            case 4: l.numUnit = index(v)
            default: break
            }
        }
        return l
    }

    @inline(__always)
    static func varint(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while i < b.count {
            let byte = b[i]
            i += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift >= 64 { throw Failure(reason: "varint longer than 10 bytes at byte \(i)") }
        }
        throw Failure(reason: "truncated varint at byte \(i)")
    }

    /// A field's tag, read as protobuf-c reads it so that both decoders accept the same bytes: at most five
    /// bytes, and a one-byte tag must not name field 0 (a longer one may: protobuf-c keeps it as unknown).
    @inline(__always)
    static func tag(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws(Failure) -> (field: UInt64, wire: Int) {
        let start = i
        if b[i] & 0xF8 == 0 { throw Failure(reason: "field number 0 at byte \(start)") }
        let t = try varint(b, &i)
        if i - start > 5 { throw Failure(reason: "tag longer than 5 bytes at byte \(start)") }
        return (t >> 3, Int(t & 7))
    }

    /// A length prefix, as protobuf-c reads it: at most five bytes, below 2^31, within the message.
    @inline(__always)
    static func length(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws(Failure) -> Int {
        let start = i
        let n = try varint(b, &i)
        if i - start > 5 { throw Failure(reason: "length prefix longer than 5 bytes at byte \(start)") }
        guard n <= UInt64(Int32.max), n <= UInt64(b.count - i) else {
            throw Failure(reason: "length \(n) at byte \(i) runs past the end")
        }
        return Int(n)
    }

    static func skip(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, wire: Int) throws(Failure) {
        switch wire {
        case 0: _ = try varint(b, &i)
        case 1:
            guard i + 8 <= b.count else { throw Failure(reason: "truncated fixed64 at byte \(i)") }
            i += 8
        case 2:
            let n = try length(b, &i)
            i += n
        case 5:
            guard i + 4 <= b.count else { throw Failure(reason: "truncated fixed32 at byte \(i)") }
            i += 4
        default: throw Failure(reason: "unsupported wire type \(wire) at byte \(i)")
        }
    }
}
