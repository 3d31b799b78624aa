import ProtoPprof

/// The samples of one sample type after filtering, with equal stacks merged.
///
/// Stack `i` has locations `locations[offsets[i] ..< offsets[i+1]]` (leaf first) and value `values[i]`.
/// Samples whose value is 0 add nothing and are skipped, as in pprof.
public struct StackSet: Sendable {
    public let sampleType: ValueType
    public let sampleTypeIndex: Int
    public internal(set) var offsets: [Int32] = [0]
    public internal(set) var locations: [Int32] = []
    public internal(set) var values: [Int64] = []
    /// Sum of the kept samples' values.
    public internal(set) var total: Int64 = 0
    /// Samples in the profile, and samples kept by the filters with a nonzero value.
    public let sampleCount: Int
    public internal(set) var keptSamples = 0

    public var count: Int { values.count }

    /// Selects, filters and merges the samples of `profile`.
    public init(profile p: Profile, options: TreeOptions = TreeOptions()) throws(FlameDiffError) {
        let typeIndex = try p.sampleTypeIndex(options.sampleType)
        sampleTypeIndex = typeIndex
        sampleType = p.sampleTypes[typeIndex]
        sampleCount = p.sampleCount
        let filter = try SampleFilter(profile: p, options: options)

        var table = StackHashTable(expected: p.sampleCount)
        offsets.reserveCapacity(p.sampleCount / 2 + 1)
        locations.reserveCapacity(p.sampleLocations.count / 2)
        values.reserveCapacity(p.sampleCount / 2)
        let typeCount = p.sampleTypes.count
        p.sampleLocations.withUnsafeBufferPointer { all in
            p.sampleValues.withUnsafeBufferPointer { sampleValues in
                p.sampleLocationOffsets.withUnsafeBufferPointer { sampleOffsets in
                    for s in 0 ..< p.sampleCount {
                        let v = sampleValues[s * typeCount + typeIndex]
                        if v == 0 { continue }
                        let stack = UnsafeBufferPointer(rebasing: all[Int(sampleOffsets[s]) ..< Int(sampleOffsets[s + 1])])
                        if filter.isActive && !filter.keeps(sample: s, stack: stack) { continue }
                        keptSamples += 1
                        total &+= v
                        let id = table.findOrInsert(stack, in: &self)
                        values[Int(id)] &+= v
                    }
                }
            }
        }
    }

    /// Appends a new stack with value 0 and returns its index (used by the hash table).
    mutating func appendStack(_ stack: UnsafeBufferPointer<Int32>) -> Int32 {
        let id = Int32(values.count)
        locations.append(contentsOf: stack)
        offsets.append(Int32(locations.count))
        values.append(0)
        return id
    }
}

/// Open-addressing table from a stack's location sequence to its index in a `StackSet`.
struct StackHashTable {
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    private var mask: Int
    private var used = 0

    init(expected: Int) {
        var capacity = 16
        while capacity < expected * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
    }

    @inline(__always)
    static func hash(_ stack: UnsafeBufferPointer<Int32>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(stack.count)
        for x in stack {
            h = (h ^ UInt64(UInt32(bitPattern: x))) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
        }
        return h
    }

    mutating func findOrInsert(_ stack: UnsafeBufferPointer<Int32>, in set: inout StackSet) -> Int32 {
        let h = Self.hash(stack)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = slots[i]
            if id < 0 { break }
            if hashes[Int(id)] == h {
                let start = Int(set.offsets[Int(id)])
                let end = Int(set.offsets[Int(id) + 1])
                if end - start == stack.count {
                    let equal = set.locations.withUnsafeBufferPointer { locs in
                        memcmpEqual(UnsafeBufferPointer(rebasing: locs[start ..< end]), stack)
                    }
                    if equal { return id }
                }
            }
            i = (i + 1) & mask
        }
        let id = set.appendStack(stack)
        slots[i] = id
        hashes.append(h)
        used += 1
        if used * 2 > slots.count { grow(set) }
        return id
    }

    private mutating func grow(_ set: StackSet) {
        var capacity = slots.count * 2
        if capacity < 16 { capacity = 16 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(id)
        }
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeBufferPointer<Int32>, _ b: UnsafeBufferPointer<Int32>) -> Bool {
    if a.count != b.count { return false }
    for i in 0 ..< a.count where a[i] != b[i] { return false }
    return true
}
