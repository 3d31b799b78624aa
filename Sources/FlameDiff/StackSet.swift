import ProtoPprof

/// The samples of one sample type after filtering, summed per distinct stack.
///
/// Stack `i` is the profile's stack `ids[i]`, with locations `locations[range(i)]` (leaf first) and
/// value `values[i]`. The profile's interned stacks are shared, not copied. Samples whose value is 0 add
/// nothing and are skipped, as in pprof.
public struct StackSet: Sendable {
    public let sampleType: ValueType
    public let sampleTypeIndex: Int
    /// The profile's stack locations (all stacks, selected or not).
    public let locations: [Int32]
    let stackOffsets: [Int32]
    public private(set) var ids: [Int32] = []
    public private(set) var values: [Int64] = []
    /// Sum of the kept samples' values.
    public private(set) var total: Int64 = 0
    /// Samples in the profile, and samples kept by the filters with a nonzero value.
    public let sampleCount: Int
    public private(set) var keptSamples = 0

    public var count: Int { ids.count }

    /// Where stack `i`'s locations are in `locations`.
    @inline(__always)
    public func range(_ i: Int) -> Range<Int> {
        let k = Int(ids[i])
        return Int(stackOffsets[k]) ..< Int(stackOffsets[k + 1])
    }

    /// Selects, filters and sums the samples of `profile`.
    public init(profile p: Profile, options: TreeOptions = TreeOptions()) throws(FlameDiffError) {
        let typeIndex = try p.sampleTypeIndex(options.sampleType)
        sampleTypeIndex = typeIndex
        sampleType = p.sampleTypes[typeIndex]
        sampleCount = p.sampleCount
        locations = p.stackLocations
        stackOffsets = p.stackOffsets
        let filter = try SampleFilter(profile: p, options: options)

        var sums = [Int64](repeating: 0, count: p.stackCount)
        var seen = [Bool](repeating: false, count: p.stackCount)
        let typeCount = p.sampleTypes.count
        var kept = 0
        var total: Int64 = 0
        p.sampleValues.withUnsafeBufferPointer { sampleValues in
            for s in 0 ..< p.sampleCount {
                let v = sampleValues[s * typeCount + typeIndex]
                if v == 0 { continue }
                let k = Int(p.sampleStacks[s])
                if filter.isActive && !filter.keeps(stack: k, labelSet: Int(p.sampleLabelSets[s])) { continue }
                kept += 1
                total &+= v
                sums[k] &+= v
                seen[k] = true
            }
        }
        keptSamples = kept
        self.total = total
        for k in 0 ..< p.stackCount where seen[k] {
            ids.append(Int32(k))
            values.append(sums[k])
        }
    }
}
