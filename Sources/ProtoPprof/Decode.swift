import CPprofShim

#if canImport(Glibc)
import Glibc
#endif

extension Profile {
    /// Decodes a pprof profile: gzip (detected by its magic number) or raw protobuf, then validates it
    /// the way pprof's `CheckValid` does and resolves ids to dense indexes.
    public static func decode(_ bytes: [UInt8], limits: DecodeLimits = DecodeLimits()) throws(PprofError) -> Profile {
        let result: Result<Profile, PprofError> = bytes.withUnsafeBytes { raw in
            Result { () throws(PprofError) -> Profile in try decode(raw, limits: limits) }
        }
        return try result.get()
    }

    /// Decodes a pprof profile from raw memory. See `decode(_:limits:)`.
    public static func decode(_ raw: UnsafeRawBufferPointer, limits: DecodeLimits = DecodeLimits()) throws(PprofError)
        -> Profile
    {
        guard raw.count > 0 else { throw .empty }
        if Gunzip.isGzip(raw) {
            var inflated = try Gunzip.inflate(raw, limit: limits.maxInflatedBytes)
            return try decodeProtobuf(releasing: &inflated, limits: limits)
        }
        if raw.count > limits.maxInflatedBytes { throw .inflatedSizeLimit(limit: limits.maxInflatedBytes) }
        return try decodeProtobuf(raw, limits: limits)
    }

    /// Decodes bytes the caller gives up (e.g. just inflated): `buffer` is emptied as soon as the samples are
    /// decoded, so the inflated bytes are not held while the rest of the profile is. Same result as `decode`.
    public static func decode(releasing buffer: inout [UInt8], limits: DecodeLimits = DecodeLimits()) throws(PprofError) -> Profile {
        let nested = buffer.withUnsafeBytes { Gunzip.isGzip($0) }
        if buffer.isEmpty || nested { return try decode(buffer, limits: limits) }
        if buffer.count > limits.maxInflatedBytes { throw .inflatedSizeLimit(limit: limits.maxInflatedBytes) }
        return try decodeProtobuf(releasing: &buffer, limits: limits)
    }

    /// Decodes inflated bytes that the caller gives up: once the samples are decoded (everything else is
    /// copied out for protobuf-c), `buffer` is emptied, so its memory is not held while the rest is decoded.
    /// The same profile as `decodeProtobuf(_:limits:)`.
    static func decodeProtobuf(releasing buffer: inout [UInt8], limits: DecodeLimits) throws(PprofError) -> Profile {
        guard !buffer.isEmpty else { throw .empty }
        if limits.sampleDecoding == .handWritten {
            let decoded: Result<SampleDecoder, PprofError> = buffer.withUnsafeBytes { raw in
                Result { () throws(PprofError) -> SampleDecoder in try decodeSamples(raw, limits: limits) }
            }
            var samples = try decoded.get()
            if !samples.needsFallback {
                let size = buffer.count
                buffer = []
                return try decodeRest(&samples, reportedSize: size, limits: limits)
            }
        }
        let result: Result<Profile, PprofError> = buffer.withUnsafeBytes { raw in
            Result { () throws(PprofError) -> Profile in
                try withProtobufC(raw, reportedSize: raw.count, limits: limits) { message throws(PprofError) in
                    var converter = Converter(message)
                    return try converter.convert(handDecoded: nil)
                }
            }
        }
        return try result.get()
    }

    private static func decodeSamples(_ raw: UnsafeRawBufferPointer, limits: DecodeLimits) throws(PprofError) -> SampleDecoder {
        do {
            return try SampleDecoder(
                raw, maxMemory: limits.maxDecodeMemoryBytes, threads: limits.threads, twoThreadMinimum: limits.twoThreadMinimum)
        } catch {
            if error.memoryLimit { throw .decodeMemoryLimit(limit: limits.maxDecodeMemoryBytes) }
            throw .malformedProtobuf("\(raw.count) bytes do not parse as a perftools.profiles.Profile message: \(error.reason)")
        }
    }

    /// protobuf-c on what the sample decoder left (`samples.rest`), then the conversion.
    private static func decodeRest(_ samples: inout SampleDecoder, reportedSize: Int, limits: DecodeLimits) throws(PprofError) -> Profile {
        // protobuf-c gets what the samples left of the budget.
        let arenaBytes = max(0, limits.maxDecodeMemoryBytes - samples.heldBytes)
        let rest = samples.rest
        samples.rest = []
        let result: Result<Profile, PprofError> = rest.withUnsafeBytes { restBytes in
            Result { () throws(PprofError) -> Profile in
                try withProtobufC(restBytes, reportedSize: reportedSize, limits: limits, arenaBytes: arenaBytes) { message throws(PprofError) in
                    var converter = Converter(message)
                    return try converter.convert(handDecoded: &samples)
                }
            }
        }
        return try result.get()
    }

    static func decodeProtobuf(_ raw: UnsafeRawBufferPointer, limits: DecodeLimits) throws(PprofError) -> Profile {
        guard raw.count > 0 else { throw .empty }
        if limits.sampleDecoding == .handWritten {
            var samples = try decodeSamples(raw, limits: limits)
            if !samples.needsFallback { return try decodeRest(&samples, reportedSize: raw.count, limits: limits) }
        }
        return try withProtobufC(raw, reportedSize: raw.count, limits: limits) { message throws(PprofError) in
            var converter = Converter(message)
            return try converter.convert(handDecoded: nil)
        }
    }

    /// Runs protobuf-c on `raw` and hands the decoded message to `body`; the arena lives until it returns.
    /// The arena may take `arenaBytes` (by default the whole decode-memory limit).
    private static func withProtobufC(
        _ raw: UnsafeRawBufferPointer, reportedSize: Int, limits: DecodeLimits, arenaBytes: Int? = nil,
        _ body: (Perftools__Profiles__Profile) throws(PprofError) -> Profile
    ) throws(PprofError) -> Profile {
        var empty: UInt8 = 0
        let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafeMutablePointer(to: &empty) { UnsafePointer($0) }
        var decoded = CPprofShim_decode(base, raw.count, max(0, arenaBytes ?? limits.maxDecodeMemoryBytes))
        defer { CPprofShim_free(&decoded) }
        guard let message = decoded.profile else {
            if decoded.limitExceeded != 0 { throw .decodeMemoryLimit(limit: limits.maxDecodeMemoryBytes) }
            throw .malformedProtobuf(
                "\(reportedSize) bytes do not parse as a perftools.profiles.Profile message (truncated, corrupt, or another format)")
        }
        return try body(message.pointee)
    }
}

/// Turns protobuf-c's message tree into the compact model, checking every reference on the way.
private struct Converter {
    let m: Perftools__Profiles__Profile
    var stringRemap: [Int32] = []
    var strings: [String] = []

    init(_ m: Perftools__Profiles__Profile) { self.m = m }

    mutating func convert(handDecoded: UnsafeMutablePointer<SampleDecoder>?) throws(PprofError) -> Profile {
        try internStrings()
        var profile = Profile()
        profile.strings = strings

        // Sample types and period type.
        var sampleTypes: [ValueType] = []
        sampleTypes.reserveCapacity(m.n_sample_type)
        for i in 0 ..< m.n_sample_type {
            guard let vt = m.sample_type[i] else { throw .invalid(field: "sample_type[\(i)]", reason: "missing") }
            sampleTypes.append(
                ValueType(
                    type: try string(vt.pointee.type, "sample_type[\(i)].type"),
                    unit: try string(vt.pointee.unit, "sample_type[\(i)].unit")))
        }
        profile.sampleTypes = sampleTypes
        if let pt = m.period_type {
            profile.periodType = ValueType(
                type: try string(pt.pointee.type, "period_type.type"), unit: try string(pt.pointee.unit, "period_type.unit"))
        }
        profile.period = m.period
        profile.timeNanos = m.time_nanos
        profile.durationNanos = m.duration_nanos
        profile.dropFrames = try string(m.drop_frames, "drop_frames")
        profile.keepFrames = try string(m.keep_frames, "keep_frames")
        profile.defaultSampleType = try string(m.default_sample_type, "default_sample_type")
        profile.docURL = try string(m.doc_url, "doc_url")
        var comments: [String] = []
        for i in 0 ..< m.n_comment { comments.append(try string(m.comment[i], "comment[\(i)]")) }
        profile.comments = comments

        // Mappings.
        var mappings: [Mapping] = []
        mappings.reserveCapacity(m.n_mapping)
        for i in 0 ..< m.n_mapping {
            guard let mp = m.mapping[i]?.pointee else { throw .invalid(field: "mapping[\(i)]", reason: "missing") }
            mappings.append(
                Mapping(
                    id: mp.id, memoryStart: mp.memory_start, memoryLimit: mp.memory_limit, fileOffset: mp.file_offset,
                    filename: try index(mp.filename, "mapping[\(i)].filename"),
                    buildID: try index(mp.build_id, "mapping[\(i)].build_id"),
                    hasFunctions: mp.has_functions != 0, hasFilenames: mp.has_filenames != 0,
                    hasLineNumbers: mp.has_line_numbers != 0, hasInlineFrames: mp.has_inline_frames != 0))
        }
        let mappingIDs = try DenseIDMap(ids: mappings.map(\.id), field: "mapping")
        profile.mappings = mappings

        // Functions.
        var functions: [Function] = []
        functions.reserveCapacity(m.n_function)
        for i in 0 ..< m.n_function {
            guard let f = m.function[i]?.pointee else { throw .invalid(field: "function[\(i)]", reason: "missing") }
            functions.append(
                Function(
                    id: f.id, name: try index(f.name, "function[\(i)].name"),
                    systemName: try index(f.system_name, "function[\(i)].system_name"),
                    filename: try index(f.filename, "function[\(i)].filename"), startLine: f.start_line))
        }
        let functionIDs = try DenseIDMap(ids: functions.map(\.id), field: "function")
        profile.functions = functions

        // Locations and their lines.
        var locations: [Location] = []
        locations.reserveCapacity(m.n_location)
        var lines: [Line] = []
        lines.reserveCapacity(m.n_location + m.n_location / 4)
        for i in 0 ..< m.n_location {
            guard let l = m.location[i]?.pointee else { throw .invalid(field: "location[\(i)]", reason: "missing") }
            var mappingIndex: Int32 = -1
            if l.mapping_id != 0 {
                mappingIndex = mappingIDs.index(of: l.mapping_id)
                if mappingIndex < 0 {
                    throw .invalid(field: "location[\(i)].mapping_id", reason: "mapping id \(l.mapping_id) does not exist")
                }
            }
            let first = Int32(lines.count)
            for j in 0 ..< l.n_line {
                guard let ln = l.line[j]?.pointee else { throw .invalid(field: "location[\(i)].line[\(j)]", reason: "missing") }
                if ln.function_id == 0 {
                    throw .invalid(field: "location[\(i)].line[\(j)].function_id", reason: "line has no function (id 0)")
                }
                let f = functionIDs.index(of: ln.function_id)
                if f < 0 {
                    throw .invalid(
                        field: "location[\(i)].line[\(j)].function_id", reason: "function id \(ln.function_id) does not exist")
                }
                lines.append(Line(function: f, line: ln.line, column: ln.column))
            }
            locations.append(
                Location(
                    id: l.id, mapping: mappingIndex, address: l.address, firstLine: first, lineCount: Int32(l.n_line),
                    isFolded: l.is_folded != 0))
        }
        let locationIDs = try DenseIDMap(ids: locations.map(\.id), field: "location")
        profile.locations = locations
        profile.lines = lines

        if let handDecoded {
            try resolveSamples(&handDecoded.pointee, into: &profile, locationIDs: locationIDs)
        } else {
            try convertSamples(into: &profile, locationIDs: locationIDs)
        }
        try Self.checkValueSums(profile)
        return profile
    }

    /// Refuses a profile whose values of one sample type add up to more than Int64 holds, in magnitude:
    /// then no total, subtree or filtered sum over them can overflow later.
    private static func checkValueSums(_ profile: Profile) throws(PprofError) {
        let n = profile.sampleTypes.count
        guard n > 0 else { return }
        // Magnitudes add up in UInt64, saturating: past Int64.max is past it for good.
        var sums = [UInt64](repeating: 0, count: n)
        profile.sampleValues.withUnsafeBufferPointer { values in
            sums.withUnsafeMutableBufferPointer { sums in
                var t = 0
                for v in values {
                    let (sum, overflow) = sums[t].addingReportingOverflow(v.magnitude)
                    sums[t] = overflow ? .max : sum
                    t = t + 1 == n ? 0 : t + 1
                }
            }
        }
        if let t = sums.firstIndex(where: { $0 > UInt64(Int64.max) }) {
            throw .valueSumOverflow(sampleType: profile.sampleTypes[t].description)
        }
    }

    /// Checks and resolves hand-decoded samples: value counts, location ids to dense indexes, label strings.
    private func resolveSamples(_ s: inout SampleDecoder, into profile: inout Profile, locationIDs: DenseIDMap) throws(PprofError) {
        let typeCount = profile.sampleTypes.count
        if typeCount == 0 && s.sampleCount > 0 {
            throw .invalid(field: "sample_type", reason: "missing sample type information for \(s.sampleCount) samples")
        }
        // Errors are reported as the protobuf-c path finds them: the first sample with a wrong value count or
        // a missing location, the value count first within one sample.
        let badValues = s.valueCounts.firstIndex { Int($0) != typeCount }
        func valueCountError(_ i: Int) -> PprofError {
            .invalid(field: "sample[\(i)].value", reason: "sample has \(s.valueCounts[i]) values but the profile has \(typeCount) sample types")
        }
        let locationCount = UInt32(profile.locations.count)
        let sequential = locationIDs.isSequential
        var failure: (position: Int, id: UInt32)?
        s.stackLocations.withUnsafeMutableBufferPointer { locations in
            for i in 0 ..< locations.count {
                let id = UInt32(bitPattern: locations[i])
                let index: Int32
                if sequential {
                    index = id >= 1 && id <= locationCount ? Int32(id - 1) : -1
                } else {
                    index = locationIDs.index(of: UInt64(id))
                }
                if index < 0 {
                    failure = (i, id)
                    return
                }
                locations[i] = index
            }
        }
        if let failure {
            // Stacks are numbered by first use, so the first bad one is first used before any other.
            let (sample, j) = Self.firstSample(using: failure.position, offsets: s.stackOffsets, sets: s.sampleStacks)
            if let badValues, badValues <= sample { throw valueCountError(badValues) }
            throw .invalid(field: "sample[\(sample)].location_id[\(j)]", reason: "location id \(failure.id) does not exist")
        }
        if let badValues { throw valueCountError(badValues) }
        try remapLabels(&s.labels, setOffsets: s.labelSetOffsets, sampleSets: s.sampleLabelSets)
        profile.sampleStacks = s.sampleStacks
        profile.sampleLabelSets = s.sampleLabelSets
        profile.sampleValues = s.values
        profile.stackOffsets = s.stackOffsets
        profile.stackLocations = s.stackLocations
        profile.labelSetOffsets = s.labelSetOffsets
        profile.labels = s.labels
        s = SampleDecoder.empty
    }

    /// Checks every label's raw string indexes and maps them to interned ones.
    private func remapLabels(_ labels: inout [Label], setOffsets: [Int32], sampleSets: [Int32]) throws(PprofError) {
        let stringCount = Int32(stringRemap.count)
        for k in labels.indices {
            var l = labels[k]
            for (name, value) in [("key", l.key), ("str", l.str), ("num_unit", l.numUnit)] where value < 0 || value >= stringCount {
                let (sample, j) = Self.firstSample(using: k, offsets: setOffsets, sets: sampleSets)
                throw .invalid(
                    field: "sample[\(sample)].label[\(j)].\(name)",
                    reason: "string index \(value < 0 ? "beyond 2^31" : String(value)) out of range (string table has \(stringCount) entries)")
            }
            l.key = stringRemap[Int(l.key)]
            l.str = stringRemap[Int(l.str)]
            l.numUnit = stringRemap[Int(l.numUnit)]
            labels[k] = l
        }
    }

    /// For element `position` of an interned flat array: the first sample using its set, and the position
    /// within the set.
    private static func firstSample(using position: Int, offsets: [Int32], sets: [Int32]) -> (Int, Int) {
        let set = owner(of: position, offsets: offsets)
        let sample = sets.firstIndex(of: Int32(set)) ?? 0
        return (sample, position - Int(offsets[set]))
    }

    /// The sample that owns element `i` of a flat array split by `offsets`.
    private static func owner(of i: Int, offsets: [Int32]) -> Int {
        var lo = 0
        var hi = offsets.count - 1
        while lo + 1 < hi {
            let mid = (lo + hi) / 2
            if Int(offsets[mid]) <= i { lo = mid } else { hi = mid }
        }
        return lo
    }

    /// The straightforward path: samples as protobuf-c decoded them, interned the same way as the hand decoder.
    private mutating func convertSamples(into profile: inout Profile, locationIDs: DenseIDMap) throws(PprofError) {
        let typeCount = profile.sampleTypes.count
        let sampleCount = m.n_sample
        if typeCount == 0 && sampleCount > 0 {
            throw .invalid(field: "sample_type", reason: "missing sample type information for \(sampleCount) samples")
        }
        var sampleStacks: [Int32] = []
        var sampleLabelSets: [Int32] = []
        var values: [Int64] = []
        var stackOffsets: [Int32] = [0]
        var stackLocations: [Int32] = []
        var labelSetOffsets: [Int32] = [0, 0]
        var labels: [Label] = []
        var stackTable = SequenceTable(expected: max(64, sampleCount / 8))
        var labelSetTable = SequenceTable(expected: 64)
        func raw(_ v: Int64) -> Int32 { v >= 0 && v <= Int64(Int32.max) ? Int32(v) : -1 }
        for i in 0 ..< sampleCount {
            guard let s = m.sample[i]?.pointee else { throw .invalid(field: "sample[\(i)]", reason: "missing") }
            if s.n_value != typeCount {
                throw .invalid(
                    field: "sample[\(i)].value",
                    reason: "sample has \(s.n_value) values but the profile has \(typeCount) sample types")
            }
            for t in 0 ..< typeCount { values.append(s.value[t]) }
            let start = stackLocations.count
            for j in 0 ..< s.n_location_id {
                let index = locationIDs.index(of: s.location_id[j])
                if index < 0 {
                    throw .invalid(field: "sample[\(i)].location_id[\(j)]", reason: "location id \(s.location_id[j]) does not exist")
                }
                stackLocations.append(index)
            }
            let n = stackLocations.count - start
            let stack = stackLocations.withUnsafeBufferPointer { locs in
                stackTable.intern(hash: SequenceTable.hash(locs.baseAddress! + start, count: n)) { candidate in
                    let a = Int(stackOffsets[Int(candidate)])
                    return Int(stackOffsets[Int(candidate) + 1]) - a == n && locs[a ..< a + n].elementsEqual(locs[start ..< start + n])
                }
            }
            if stack.isNew { stackOffsets.append(Int32(stackLocations.count)) } else { stackLocations.removeSubrange(start...) }
            sampleStacks.append(stack.id)

            let labelStart = labels.count
            for j in 0 ..< s.n_label {
                guard let l = s.label[j]?.pointee else { throw .invalid(field: "sample[\(i)].label[\(j)]", reason: "missing") }
                labels.append(Label(key: raw(l.key), str: raw(l.str), num: l.num, numUnit: raw(l.num_unit)))
            }
            let labelCount = labels.count - labelStart
            if labelCount == 0 {
                sampleLabelSets.append(0)
                continue
            }
            let set = labels.withUnsafeBufferPointer { labs in
                labelSetTable.intern(hash: SequenceTable.hash(labs.baseAddress! + labelStart, count: labelCount)) { candidate in
                    let a = Int(labelSetOffsets[Int(candidate) + 1])
                    return Int(labelSetOffsets[Int(candidate) + 2]) - a == labelCount
                        && labs[a ..< a + labelCount].elementsEqual(labs[labelStart ..< labelStart + labelCount])
                }
            }
            if set.isNew { labelSetOffsets.append(Int32(labels.count)) } else { labels.removeSubrange(labelStart...) }
            sampleLabelSets.append(set.id + 1)
        }
        try remapLabels(&labels, setOffsets: labelSetOffsets, sampleSets: sampleLabelSets)
        profile.sampleStacks = sampleStacks
        profile.sampleLabelSets = sampleLabelSets
        profile.sampleValues = values
        profile.stackOffsets = stackOffsets
        profile.stackLocations = stackLocations
        profile.labelSetOffsets = labelSetOffsets
        profile.labels = labels
    }

    /// Reads the string table, interning equal strings to one index.
    private mutating func internStrings() throws(PprofError) {
        let n = m.n_string_table
        guard n > 0 else { throw .invalid(field: "string_table", reason: "empty; string_table[0] must be \"\"") }
        guard m.string_table[0].len == 0 else {
            throw .invalid(field: "string_table[0]", reason: "must be the empty string")
        }
        if internASCIIStrings(n) { return }
        stringRemap = [Int32](repeating: 0, count: n)
        strings = [""]
        var seen: [String: Int32] = ["": 0]
        seen.reserveCapacity(n)
        for i in 1 ..< n {
            let entry = m.string_table[i]
            let s = String(decoding: UnsafeRawBufferPointer(start: entry.data, count: entry.len), as: UTF8.self)
            if let existing = seen[s] {
                stringRemap[i] = existing
            } else {
                let id = Int32(strings.count)
                seen[s] = id
                strings.append(s)
                stringRemap[i] = id
            }
        }
    }

    /// `internStrings` for a table of ASCII strings (most profiles'), without a Swift dictionary: a flat table
    /// of ids probed by a seeded hash of the raw bytes, compared with memcmp. For ASCII, equal bytes and equal
    /// Swift strings are the same thing (not so beyond: "\u{212A}" == "K"), so the ids are `internStrings`'s.
    /// Returns false, having set nothing, when a string is not ASCII or a probe runs long (a table crafted to
    /// collide): the dictionary does the work then.
    private mutating func internASCIIStrings(_ n: Int) -> Bool {
        guard let table = m.string_table else { return false }
        for i in 1 ..< n where !isASCII(table[i].data, table[i].len) { return false }
        var capacity = 16
        while capacity < 2 * n { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)  // string id, -1: empty
        var firstEntry: [Int] = [0]  // per string id, the table entry it was first read from
        var remap = [Int32](repeating: 0, count: n)
        var unique: [String] = [""]
        firstEntry.reserveCapacity(n)
        unique.reserveCapacity(n)
        let seed = stringHashSeed
        for i in 1 ..< n {
            let entry = table[i]
            if entry.len == 0 { continue }  // "" is id 0
            var slot = Int(truncatingIfNeeded: hashBytes(entry.data, entry.len, seed: seed)) & mask
            var probes = 0
            var id: Int32 = -1
            while slots[slot] >= 0 {
                let candidate = table[firstEntry[Int(slots[slot])]]
                if candidate.len == entry.len && memcmp(candidate.data, entry.data, entry.len) == 0 {
                    id = slots[slot]
                    break
                }
                probes += 1
                if probes > 64 { return false }
                slot = (slot + 1) & mask
            }
            if id < 0 {
                id = Int32(unique.count)
                slots[slot] = id
                firstEntry.append(i)
                unique.append(String(decoding: UnsafeRawBufferPointer(start: entry.data, count: entry.len), as: UTF8.self))
            }
            remap[i] = id
        }
        stringRemap = remap
        strings = unique
        return true
    }

    private func index(_ raw: Int64, _ field: @autoclosure () -> String) throws(PprofError) -> Int32 {
        guard raw >= 0, raw < Int64(stringRemap.count) else {
            throw .invalid(
                field: field(), reason: "string index \(raw) out of range (string table has \(stringRemap.count) entries)")
        }
        return stringRemap[Int(raw)]
    }

    private func string(_ raw: Int64, _ field: @autoclosure () -> String) throws(PprofError) -> String {
        strings[Int(try index(raw, field()))]
    }
}

/// Per-process seed of `hashBytes`, so that which strings collide cannot be known in advance.
private let stringHashSeed = UInt64.random(in: .min ... .max)

/// Whether `count` bytes are all ASCII (below 0x80), read 8 at a time.
private func isASCII(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Bool {
    guard count > 0, let bytes else { return true }
    let raw = UnsafeRawPointer(bytes)
    var high: UInt64 = 0
    var i = 0
    while i + 8 <= count {
        high |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        i += 8
    }
    while i < count {
        high |= UInt64(bytes[i])
        i += 1
    }
    return high & 0x8080_8080_8080_8080 == 0
}

/// A seeded 64-bit hash of raw bytes, for the string table's interning: each 8-byte word is folded in with a
/// full-width multiply (high ^ low, so every bit of the word reaches the low bits), then a murmur3 finalizer.
@inline(__always)
private func hashBytes(_ bytes: UnsafePointer<UInt8>?, _ count: Int, seed: UInt64) -> UInt64 {
    @inline(__always) func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let p = a.multipliedFullWidth(by: b)
        return p.high ^ p.low
    }
    var h = (seed ^ UInt64(count)) &* 0x9E37_79B9_7F4A_7C15
    if count > 0, let bytes {
        let raw = UnsafeRawPointer(bytes)
        var i = 0
        while i + 8 <= count {
            h = fold(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self), 0xBF58_476D_1CE4_E5B9)
            i += 8
        }
        if i < count {
            var tail: UInt64 = 0
            for k in i ..< count { tail |= UInt64(bytes[k]) << UInt64(8 * (k - i)) }
            h = fold(h ^ tail, 0x94D0_49BB_1331_11EB)
        }
    }
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    return h ^ (h >> 33)
}
