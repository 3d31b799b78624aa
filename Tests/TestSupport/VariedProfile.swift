/// Choices read from bytes: a fuzzer's input or a PRNG's output. Past the end every choice is 0, so any bytes
/// make a profile, and zeros make the plainest one.
public struct ChoiceReader {
    private let bytes: [UInt8]
    private var index = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    /// A number in `0 ..< n` (n at most 256).
    public mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(byte()) % n }

    /// A LEB128 number of up to ten bytes.
    public mutating func varint() -> UInt64 {
        var v: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            let b = byte()
            v |= UInt64(b & 0x7F) << UInt64(shift)
            if b < 0x80 { break }
        }
        return v
    }
}

/// Writes the bytes a `ChoiceReader` reads back as the same choices.
public struct ChoiceWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func byte(_ b: UInt8) { bytes.append(b) }
    public mutating func choose(_ k: Int) { bytes.append(UInt8(k)) }
    public mutating func varint(_ value: UInt64) { bytes += VariedProfile.canonicalVarint(value) }
}

/// Profiles generated from choices, with the samples written in the many ways protobuf allows: tags and
/// varints longer than needed, packed and unpacked ids and values, fields split, shuffled and interleaved,
/// empty packed fields, unknown fields, and earlier samples' field bytes repeated (alone, as a prefix, or
/// continued) so that the decoder's byte caches hit. Some profiles may break rules (missing location ids,
/// wrong value counts, string indexes out of range, value sums beyond Int64), and a few have bytes corrupted.
///
/// The profile itself is small and fixed in shape: 1-3 sample types, up to 64 locations (one function each),
/// label keys `k0`...`k3`, strings `s0`...`s7`, units `unit0`, `unit1`. Used by the parity tests and the
/// `FuzzSampleDecoder` fuzz target; `choices(for:)` turns samples taken from a real profile into choices.
public enum VariedProfile {
    public static let maxLocations = 64
    public static let maxStack = 16
    public static let maxSamples = 128
    public static let maxLabels = 4

    /// A label by index: key 0...3 (4: a string index out of range), str 0 (none), 1...8, or 9 (out of
    /// range), num, unit 0 (none), 1...2.
    public struct Label: Equatable, Sendable {
        public var key: Int
        public var str: Int
        public var num: Int64
        public var unit: Int
        public init(key: Int, str: Int, num: Int64 = 0, unit: Int = 0) {
            self.key = key
            self.str = str
            self.num = num
            self.unit = unit
        }
    }

    /// A sample by index: locations `0 ..< locationCount` (`locationCount` itself: an id that does not exist).
    public struct Sample: Equatable, Sendable {
        public var locations: [Int]
        public var values: [Int64]
        public var labels: [Label]
        public init(locations: [Int], values: [Int64], labels: [Label] = []) {
            self.locations = locations
            self.values = values
            self.labels = labels
        }
    }

    // String table layout.
    static let strings: [String] =
        ["", "t0", "u0", "t1", "u1", "t2", "u2", "k0", "k1", "k2", "k3"] + (0 ..< 8).map { "s\($0)" }
        + ["unit0", "unit1", "x.go"] + (0 ..< maxLocations).map { "f\($0)" }
    static let keyBase: UInt64 = 7
    static let strBase: UInt64 = 11
    static let unitBase: UInt64 = 19
    static let fileIndex: UInt64 = 21
    static let functionBase: UInt64 = 22
    static let outOfRange: UInt64 = 999

    /// Generates an encoded profile from choices.
    public static func generate(_ choices: [UInt8]) -> [UInt8] {
        var g = Generator(ChoiceReader(choices))
        return g.run()
    }

    /// Choices that `generate` turns into a profile holding these samples, canonically encoded; samples
    /// must fit the shape (indexes in range, at most `maxStack` locations, `maxLabels` labels).
    public static func choices(typeCount: Int, locationCount: Int, samples: [Sample]) -> [UInt8] {
        var w = ChoiceWriter()
        let large = samples.contains { s in (s.values + s.labels.map(\.num)).contains { !(-1023 ..< (1 << 40)).contains($0) } }
        w.byte(large ? 0x20 : 0)  // top-level encoding: canonical; values beyond 2^40 need `mayBreak`
        w.choose(typeCount - 1)
        w.choose(locationCount - 1)
        w.choose(0)  // sequential location ids
        w.varint(UInt64(samples.count))
        for s in samples {
            w.byte(0)  // new stack and labels, canonical encoding
            w.choose(s.locations.count)
            for l in s.locations { w.choose(l) }
            for v in s.values { writeValue(v, &w) }
            w.choose(s.labels.count)
            for l in s.labels {
                w.choose(l.key)
                w.choose(l.str)
                writeValue(l.num, &w)
                w.choose(l.unit)
            }
        }
        w.choose(0)  // no corruption
        return w.bytes
    }

    private static func writeValue(_ v: Int64, _ w: inout ChoiceWriter) {
        if (0 ..< 1024).contains(v) {
            w.choose(0)
            w.varint(UInt64(v))
        } else if (-1023 ..< 0).contains(v) {
            w.choose(10)
            w.varint(UInt64(-v))
        } else if (0 ..< (1 << 40)).contains(v) {
            w.choose(13)
            w.varint(UInt64(v))
        } else {
            w.choose(15)
            w.varint(UInt64(bitPattern: v))
        }
    }

    /// A varint in as few bytes as it takes.
    public static func canonicalVarint(_ value: UInt64) -> [UInt8] { paddedVarint(value, extra: 0) }

    /// A varint `extra` bytes longer than needed (protobuf allows up to ten in all).
    public static func paddedVarint(_ value: UInt64, extra: Int) -> [UInt8] {
        var out: [UInt8] = []
        appendVarint(value, extra: extra, to: &out)
        return out
    }

    static func appendVarint(_ value: UInt64, extra: Int, to out: inout [UInt8]) {
        var v = value
        var n = 1
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
            n += 1
        }
        let pad = min(extra, 10 - n)
        guard pad > 0 else {
            out.append(UInt8(v))
            return
        }
        out.append(UInt8(v) | 0x80)
        for _ in 1 ..< pad { out.append(0x80) }
        out.append(0)
    }

    /// Encoded fields back to back, and where each ends.
    struct Fields {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var count: Int { ends.count }
        func range(_ k: Int) -> Range<Int> { (k == 0 ? 0 : ends[k - 1]) ..< ends[k] }
        /// Marks the bytes written since the last field as one field.
        mutating func close() { ends.append(bytes.count) }
        func prefix(_ k: Int) -> Fields { k == 0 ? Fields() : Fields(bytes: Array(bytes[..<ends[k - 1]]), ends: Array(ends[..<k])) }
    }

    private struct Generator {
        var r: ChoiceReader
        var typeCount = 1
        var locationCount = 1
        var ids: [UInt64] = []
        /// Whether samples may be invalid (missing ids, wrong value counts, values that overflow a sum);
        /// otherwise the profile is valid unless corrupted at the end.
        var mayBreak = false
        /// Each sample's location fields and label fields as written, for later samples to repeat.
        var locationParts: [Fields] = []
        var labelParts: [Fields] = []
        /// Reused buffers for payloads whose length goes before them.
        var packedPayload: [UInt8] = []
        var labelPayload: [UInt8] = []
        var samplePayload: [UInt8] = []

        init(_ r: ChoiceReader) { self.r = r }

        /// A reused buffer, emptied, moved out of `self` so that it can be written while `self` changes.
        static func take(_ buffer: inout [UInt8]) -> [UInt8] {
            var b: [UInt8] = []
            swap(&b, &buffer)
            b.removeAll(keepingCapacity: true)
            return b
        }

        /// How this sample's fields are written; all false is canonical.
        struct Encoding {
            var splitLocations = false, splitValues = false, longTags = false, longVarints = false
            var longLengths = false, emptyPacked = false, unknownFields = false, shuffled = false
            init() {}
            init(_ b: UInt8) {
                splitLocations = b & 1 != 0
                splitValues = b & 2 != 0
                longTags = b & 4 != 0
                longVarints = b & 8 != 0
                longLengths = b & 16 != 0
                emptyPacked = b & 32 != 0
                unknownFields = b & 64 != 0
                shuffled = b & 128 != 0
            }
        }

        mutating func run() -> [UInt8] {
            let top = r.byte()
            mayBreak = top & 0x20 != 0
            typeCount = 1 + r.below(3)
            locationCount = 1 + r.below(VariedProfile.maxLocations)
            let idStyle = r.below(16)
            let sampleCount = Int(r.varint() % UInt64(VariedProfile.maxSamples + 1))
            ids = (0 ..< locationCount).map { i in
                switch idStyle {
                case 12, 13: return UInt64(i) * 7919 + 11
                case 14: return UInt64(locationCount - i)
                case 15: return (1 << 32) + UInt64(i) + 1  // beyond 32 bits: the hand decoder falls back
                default: return UInt64(i) + 1
                }
            }
            let topEncoding = Encoding(top & 0x1C)  // long tags, varints, lengths for the sample fields
            var samples = Fields()
            for _ in 0 ..< sampleCount {
                var payload = Self.take(&samplePayload)
                sample(into: &payload)
                writeField(2, payload, topEncoding, into: &samples.bytes)
                samples.close()
                samplePayload = payload
            }

            var head: [UInt8] = []
            for t in 0 ..< typeCount {
                writeField(1, [0x08, UInt8(1 + 2 * t), 0x10, UInt8(2 + 2 * t)], Encoding(), into: &head)
            }
            var tail: [UInt8] = []
            var message: [UInt8] = []
            for (i, id) in ids.enumerated() {
                var line: [UInt8] = [0x08]
                appendVarint(UInt64(i) + 1, extra: 0, to: &line)
                line.append(0x10)
                appendVarint(UInt64(i) + 1, extra: 0, to: &line)
                message = [0x08]
                appendVarint(id, extra: 0, to: &message)
                writeField(4, line, Encoding(), into: &message)
                writeField(4, message, Encoding(), into: &tail)
                message = [0x08]
                appendVarint(UInt64(i) + 1, extra: 0, to: &message)
                message.append(0x10)
                appendVarint(VariedProfile.functionBase + UInt64(i), extra: 0, to: &message)
                message.append(0x20)
                appendVarint(VariedProfile.fileIndex, extra: 0, to: &message)
                writeField(5, message, Encoding(), into: &tail)
            }
            for s in VariedProfile.strings { writeField(6, Array(s.utf8), Encoding(), into: &tail) }

            // Samples first (as pprof writes them), or after everything else, or split around it.
            let cut = samples.count == 0 ? 0 : samples.range(samples.count / 2).lowerBound
            var out = head
            switch top & 3 {
            case 1: out += tail + samples.bytes
            case 2: out += samples.bytes[..<cut] + tail + samples.bytes[cut...]
            default: out += samples.bytes + tail
            }
            // Rarely, a few corrupted bytes: both decoders must then fail alike.
            if r.below(8) == 7 {
                for _ in 0 ..< 1 + r.below(4) where !out.isEmpty {
                    let at = Int(r.varint() % UInt64(out.count))
                    switch r.below(3) {
                    case 0: out[at] = r.byte()
                    case 1: out.insert(r.byte(), at: at)
                    default: out.remove(at: at)
                    }
                }
            }
            return out
        }

        mutating func value() -> Int64 {
            switch r.below(16) {
            case 0 ..< 10: return Int64(r.varint() % 1024)
            case 10 ..< 13: return -Int64(r.varint() % 1024)
            case 14 where mayBreak: return (1 << 62) + Int64(r.varint() % 4)  // two of these overflow a sum
            case 15 where mayBreak: return Int64(bitPattern: r.varint())
            default: return Int64(r.varint() % (1 << 40))
            }
        }

        mutating func newLabel(broken: Bool) -> Label {
            Label(key: r.below(broken ? 5 : 4), str: r.below(broken ? 10 : 9), num: value(), unit: r.below(3))
        }

        mutating func sample(into out: inout [UInt8]) {
            let op = r.byte()
            let broken = mayBreak && op & 0x40 != 0 && r.below(4) == 0
            let enc = op & 0x80 != 0 ? Encoding(r.byte()) : Encoding()

            // Locations: new, or an earlier sample's fields (all or a prefix), maybe continued.
            var locs = Fields()
            let stackSource = Int(op & 3)
            if (stackSource == 1 || stackSource == 2) && !locationParts.isEmpty {
                let earlier = locationParts[r.below(locationParts.count)]
                locs = stackSource == 1 ? earlier : earlier.prefix(r.below(earlier.count + 1))
                if op & 0x10 != 0 { locationFields(newStack(broken: broken), enc, into: &locs) }
            } else {
                locationFields(newStack(broken: broken), enc, into: &locs)
            }
            let valueCount = broken ? max(0, typeCount + r.below(3) - 1) : typeCount
            var vals: [Int64] = []
            for _ in 0 ..< valueCount { vals.append(value()) }

            // Labels likewise.
            var labs = Fields()
            let labelSource = Int(op >> 2 & 3)
            if (labelSource == 1 || labelSource == 2) && !labelParts.isEmpty {
                let earlier = labelParts[r.below(labelParts.count)]
                labs = labelSource == 1 ? earlier : earlier.prefix(r.below(earlier.count + 1))
                if op & 0x20 != 0 { labelFields(newLabels(broken: broken), enc, into: &labs) }
            } else {
                labelFields(newLabels(broken: broken), enc, into: &labs)
            }
            locationParts.append(locs)
            labelParts.append(labs)

            var valueFields = Fields()
            numberFields(2, vals.map { UInt64(bitPattern: $0) }, split: enc.splitValues, enc, into: &valueFields)
            var other = Fields()
            if enc.unknownFields {
                for _ in 0 ..< 1 + r.below(3) {
                    unknownField(enc, into: &other.bytes)
                    other.close()
                }
            }
            // Field order: pprof's (locations, values, labels), or interleaved, each list kept in order.
            let lists = [locs, valueFields, labs, other]
            guard enc.shuffled else {
                for list in lists { out += list.bytes }
                return
            }
            var next = [0, 0, 0, 0]
            while true {
                let open = lists.indices.filter { next[$0] < lists[$0].count }
                if open.isEmpty { break }
                let k = open[r.below(open.count)]
                out += lists[k].bytes[lists[k].range(next[k])]
                next[k] += 1
            }
        }

        mutating func newStack(broken: Bool) -> [Int] {
            (0 ..< r.below(VariedProfile.maxStack + 1)).map { _ in r.below(broken ? locationCount + 1 : locationCount) }
        }

        mutating func newLabels(broken: Bool) -> [Label] {
            (0 ..< r.below(VariedProfile.maxLabels + 1)).map { _ in newLabel(broken: broken) }
        }

        /// Location ids as one packed field, or split into packed chunks and unpacked fields. Index
        /// `locationCount` is an id that does not exist (below 2^32, so the hand decoder does not fall back).
        mutating func locationFields(_ stack: [Int], _ enc: Encoding, into fields: inout Fields) {
            numberFields(1, stack.map { $0 < ids.count ? ids[$0] : 3_000_000_000 }, split: enc.splitLocations, enc, into: &fields)
        }

        /// Numbers of a repeated varint field: one packed field (none when there are no numbers), or chunks
        /// packed and unpacked; empty packed fields may come anywhere.
        mutating func numberFields(_ field: Int, _ numbers: [UInt64], split: Bool, _ enc: Encoding, into fields: inout Fields) {
            var chunk = 0 ..< 0
            for (k, n) in numbers.enumerated() {
                if enc.emptyPacked && r.below(4) == 0 {
                    packed(field, numbers[chunk], enc, into: &fields)
                    emptyPacked(field, enc, into: &fields)
                    chunk = k ..< k
                }
                switch split ? r.below(3) : 0 {
                case 0: chunk = chunk.lowerBound ..< k + 1
                case 1:
                    packed(field, numbers[chunk], enc, into: &fields)
                    chunk = k ..< k + 1
                default:
                    packed(field, numbers[chunk], enc, into: &fields)
                    writeTag(field, 0, enc, into: &fields.bytes)
                    writeVarint(n, enc, into: &fields.bytes)
                    fields.close()
                    chunk = k + 1 ..< k + 1
                }
            }
            packed(field, numbers[chunk], enc, into: &fields)
            if enc.emptyPacked && r.below(4) == 0 { emptyPacked(field, enc, into: &fields) }
        }

        /// A packed field, none for no numbers.
        mutating func packed(_ field: Int, _ numbers: ArraySlice<UInt64>, _ enc: Encoding, into fields: inout Fields) {
            guard !numbers.isEmpty else { return }
            var payload = Self.take(&packedPayload)
            for n in numbers { writeVarint(n, enc, into: &payload) }
            writeField(field, payload, enc, into: &fields.bytes)
            fields.close()
            packedPayload = payload
        }

        mutating func emptyPacked(_ field: Int, _ enc: Encoding, into fields: inout Fields) {
            writeField(field, [], enc, into: &fields.bytes)
            fields.close()
        }

        mutating func labelFields(_ labels: [Label], _ enc: Encoding, into fields: inout Fields) {
            for l in labels {
                var payload = Self.take(&labelPayload)
                labelMessage(l, enc, into: &payload)
                writeField(3, payload, enc, into: &fields.bytes)
                fields.close()
                labelPayload = payload
            }
        }

        /// A label's fields: zero ones left out or written, maybe in another order, maybe written twice
        /// (the last one counts).
        mutating func labelMessage(_ l: Label, _ enc: Encoding, into out: inout [UInt8]) {
            let key = l.key < 4 ? VariedProfile.keyBase + UInt64(l.key) : VariedProfile.outOfRange
            let str = l.str == 0 ? 0 : l.str <= 8 ? VariedProfile.strBase + UInt64(l.str - 1) : VariedProfile.outOfRange
            let unit = l.unit == 0 ? 0 : VariedProfile.unitBase + UInt64(l.unit - 1)
            var fields: [(Int, UInt64)] = [(1, key), (2, str), (3, UInt64(bitPattern: l.num)), (4, unit)]
            if enc.shuffled {
                if r.below(2) == 1 { fields.reverse() }
                if r.below(4) == 0 { fields.insert((fields[0].0, UInt64(r.below(3))), at: 0) }  // overwritten later
            }
            for (f, v) in fields where v != 0 || (enc.shuffled && r.below(2) == 1) {
                writeTag(f, 0, enc, into: &out)
                writeVarint(v, enc, into: &out)
            }
            if enc.unknownFields && r.below(2) == 1 { unknownField(enc, into: &out) }
        }

        mutating func unknownField(_ enc: Encoding, into out: inout [UInt8]) {
            let field = 5 + r.below(20)
            switch r.below(4) {
            case 0:
                writeTag(field, 0, enc, into: &out)
                writeVarint(r.varint(), enc, into: &out)
            case 1:
                writeTag(field, 1, enc, into: &out)
                for _ in 0 ..< 8 { out.append(r.byte()) }
            case 2:
                writeTag(field, 5, enc, into: &out)
                for _ in 0 ..< 4 { out.append(r.byte()) }
            default:
                let n = r.below(6)
                writeTag(field, 2, enc, into: &out)
                writeLength(n, enc, into: &out)
                for _ in 0 ..< n { out.append(r.byte()) }
            }
        }

        mutating func writeField(_ number: Int, _ payload: [UInt8], _ enc: Encoding, into out: inout [UInt8]) {
            writeTag(number, 2, enc, into: &out)
            writeLength(payload.count, enc, into: &out)
            out += payload
        }

        /// At most five bytes, as protobuf-c reads tags.
        mutating func writeTag(_ field: Int, _ wire: Int, _ enc: Encoding, into out: inout [UInt8]) {
            let v = UInt64(field << 3 | wire)
            appendVarint(v, extra: enc.longTags ? r.below(6 - (v < 0x80 ? 1 : 2)) : 0, to: &out)
        }

        /// At most five bytes, as protobuf-c reads length prefixes.
        mutating func writeLength(_ n: Int, _ enc: Encoding, into out: inout [UInt8]) {
            let size = n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x20_0000 ? 3 : 4
            appendVarint(UInt64(n), extra: enc.longLengths ? r.below(6 - size) : 0, to: &out)
        }

        mutating func writeVarint(_ v: UInt64, _ enc: Encoding, into out: inout [UInt8]) {
            appendVarint(v, extra: enc.longVarints ? r.below(4) : 0, to: &out)
        }
    }
}
