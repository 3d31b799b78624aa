/// Open-addressing table that interns sequences (stacks, label sets) stored elsewhere: it keeps each entry's
/// hash and id, and asks the caller whether a candidate equals the sequence being looked up.
struct SequenceTable {
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    private var mask: Int

    init(expected: Int) {
        var capacity = 64
        while capacity < expected * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
    }

    var count: Int { hashes.count }

    /// The id of an equal sequence, or a new id (`count` before the call) when there is none.
    @inline(__always)
    mutating func intern(hash h: UInt64, equals: (Int32) -> Bool) -> (id: Int32, isNew: Bool) {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = slots[i]
            if id < 0 { break }
            if hashes[Int(id)] == h && equals(id) { return (id, false) }
            i = (i + 1) & mask
        }
        let id = Int32(hashes.count)
        slots[i] = id
        hashes.append(h)
        if hashes.count * 2 > slots.count { grow() }
        return (id, true)
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(id)
        }
    }

    /// Hash of a stack of location ids or indexes.
    static func hash(_ p: UnsafePointer<Int32>, count n: Int) -> UInt64 {
        var h = UInt64(n) &+ 0x9E37_79B9_7F4A_7C15
        for k in 0 ..< n { h = mix(h, UInt64(UInt32(bitPattern: p[k]))) }
        return h
    }

    /// Hash of a label set.
    static func hash(_ p: UnsafePointer<Label>, count n: Int) -> UInt64 {
        var h = UInt64(n)
        for k in 0 ..< n {
            let l = p[k]
            h = mix(h, UInt64(UInt32(bitPattern: l.key)) << 32 | UInt64(UInt32(bitPattern: l.str)))
            h = mix(h, UInt64(bitPattern: l.num) ^ UInt64(UInt32(bitPattern: l.numUnit)))
        }
        return h
    }

    @inline(__always)
    static func mix(_ h: UInt64, _ x: UInt64) -> UInt64 {
        var v = (h ^ x) &* 0xBF58_476D_1CE4_E5B9
        v ^= v >> 29
        return v
    }
}
