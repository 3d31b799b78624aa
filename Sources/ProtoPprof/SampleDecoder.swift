/// A hand-written decoder for the one hot message of a pprof profile: `Sample`, usually most of its bytes.
///
/// One pass over the top-level fields decodes every sample straight into flat arrays (location ids, values,
/// labels) and copies all other fields into a separate buffer that protobuf-c then decodes. Ids and string
/// indexes are stored raw and resolved afterwards, once the locations and the string table are known.
struct SampleDecoder {
    /// The top-level fields other than samples, for protobuf-c.
    var rest: [UInt8] = []
    var sampleCount = 0
    var locationOffsets: [Int32] = [0]
    /// Raw location ids (below 2^32) until `resolveLocations` maps them to dense indexes.
    var locations: [Int32] = []
    var values: [Int64] = []
    var valueCounts: [Int32] = []
    var labelOffsets: [Int32] = [0]
    /// Raw string indexes (-1 when out of Int32 range) until the converter remaps them.
    var labels: [Label] = []
    /// A location id did not fit in 32 bits: the caller falls back to protobuf-c for the samples.
    var needsFallback = false

    /// A decoder holding nothing, to release the arrays of one that was consumed.
    static var empty: SampleDecoder { SampleDecoder() }

    private init() {}

    struct Failure: Error {
        var reason: String
        var memoryLimit = false
    }

    /// Decodes; fails with `memoryLimit` set when the arrays would need more than `maxMemory` bytes.
    init(_ raw: UnsafeRawBufferPointer, maxMemory: Int = Int.max) throws(Failure) {
        let bytes = raw.bindMemory(to: UInt8.self)
        // Pass 1: count samples and the bytes of everything else, so every array is allocated once.
        var samples = 0
        var sampleBytes = 0
        var restBytes = 0
        var i = 0
        while i < bytes.count {
            let fieldStart = i
            let tag = try Self.varint(bytes, &i)
            let (field, wire) = (tag >> 3, Int(tag & 7))
            try Self.skip(bytes, &i, wire: wire)
            if field == 2 && wire == 2 {
                samples += 1
                sampleBytes += i - fieldStart
            } else {
                restBytes += i - fieldStart
            }
        }
        // What the arrays below will hold at most: the decode-memory limit applies to them as to protobuf-c.
        let needed = restBytes + samples * 16 + sampleBytes * 4
        if needed > maxMemory { throw Failure(reason: "needs \(needed) bytes", memoryLimit: true) }
        rest.reserveCapacity(restBytes)
        locationOffsets.reserveCapacity(samples + 1)
        labelOffsets.reserveCapacity(samples + 1)
        valueCounts.reserveCapacity(samples)
        // Upper bounds: each id or value takes at least one byte, each label at least two.
        locations.reserveCapacity(sampleBytes)
        values.reserveCapacity(samples * 2)
        labels.reserveCapacity(sampleBytes / 8)

        // Pass 2: decode.
        i = 0
        while i < bytes.count {
            let fieldStart = i
            let tag = try Self.varint(bytes, &i)
            let (field, wire) = (tag >> 3, Int(tag & 7))
            if field == 2 && wire == 2 {
                let length = try Self.length(bytes, &i)
                try decodeSample(UnsafeBufferPointer(rebasing: bytes[i ..< i + length]))
                i += length
            } else {
                try Self.skip(bytes, &i, wire: wire)
                rest.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[fieldStart ..< i]))
            }
        }
    }

    private mutating func decodeSample(_ m: UnsafeBufferPointer<UInt8>) throws(Failure) {
        let valueStart = values.count
        var i = 0
        while i < m.count {
            let tag = try Self.varint(m, &i)
            let (field, wire) = (tag >> 3, Int(tag & 7))
            switch (field, wire) {
            case (1, 2):  // packed location ids
                let count = try Self.length(m, &i)
                let end = i + count
                while i < end { appendLocation(try Self.varint(m, &i)) }
                if i != end { throw Failure(reason: "sample[\(sampleCount)].location_id: packed field overruns") }
            case (1, 0):
                appendLocation(try Self.varint(m, &i))
            case (2, 2):  // packed values
                let count = try Self.length(m, &i)
                let end = i + count
                while i < end { values.append(Int64(bitPattern: try Self.varint(m, &i))) }
                if i != end { throw Failure(reason: "sample[\(sampleCount)].value: packed field overruns") }
            case (2, 0):
                values.append(Int64(bitPattern: try Self.varint(m, &i)))
            case (3, 2):
                let count = try Self.length(m, &i)
                let end = i + count
                labels.append(try Self.label(UnsafeBufferPointer(rebasing: m[i ..< end])))
                i = end
            default:
                try Self.skip(m, &i, wire: wire)
            }
        }
        sampleCount += 1
        locationOffsets.append(Int32(truncatingIfNeeded: locations.count))
        labelOffsets.append(Int32(truncatingIfNeeded: labels.count))
        valueCounts.append(Int32(truncatingIfNeeded: values.count - valueStart))
    }

    @inline(__always)
    private mutating func appendLocation(_ id: UInt64) {
        if id > UInt64(UInt32.max) { needsFallback = true }
        locations.append(Int32(bitPattern: UInt32(truncatingIfNeeded: id)))
    }

    private static func label(_ m: UnsafeBufferPointer<UInt8>) throws(Failure) -> Label {
        var l = Label(key: 0, str: 0, num: 0, numUnit: 0)
        var i = 0
        func index(_ v: UInt64) -> Int32 {
            let signed = Int64(bitPattern: v)
            return signed >= 0 && signed <= Int64(Int32.max) ? Int32(signed) : -1
        }
        while i < m.count {
            let tag = try varint(m, &i)
            let (field, wire) = (tag >> 3, Int(tag & 7))
            guard wire == 0 else {
                try skip(m, &i, wire: wire)
                continue
            }
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

    @inline(__always)
    static func length(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) throws(Failure) -> Int {
        let n = try varint(b, &i)
        guard n <= UInt64(b.count - i) else { throw Failure(reason: "length \(n) at byte \(i) runs past the end") }
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
