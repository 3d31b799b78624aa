import ProtoPprof

/// How the two sides of a diff are compared.
public enum DiffNormalization: String, Sendable, CaseIterable {
    /// Each side as a share of its own total (the default): deltas are percentage points.
    case share
    /// Raw values: deltas in the sample type's unit, as `go tool pprof -diff_base` prints them.
    case raw
    /// pprof's `-normalize`: the baseline is scaled to the comparison's total, deltas in the unit.
    case normalize

    /// One sentence for output, so that a reader knows what the numbers mean.
    public var explanation: String {
        switch self {
        case .share: return "each side as a share of its own total; deltas in percentage points"
        case .raw: return "raw values; deltas in the sample type's unit"
        case .normalize: return "baseline scaled to the comparison's total (pprof -normalize); deltas in the unit"
        }
    }
}

/// A baseline (left) and a comparison (right) merged into one call tree whose nodes hold both sides' values.
/// Each side may be several profiles, merged as Pyroscope merges a time range.
public struct DiffTree: Sendable {
    public let shape: TreeShape
    public let leftSelf: [Int64]
    public let rightSelf: [Int64]
    public let leftTotal: [Int64]
    public let rightTotal: [Int64]
    public let sampleType: ValueType
    /// Per function (name id of `shape.names`): flat and cum values of each side, as a top table counts them.
    /// Empty when the tree was built without them (`functionTotals: false`).
    public let leftFlat: [Int64]
    public let rightFlat: [Int64]
    public let leftCum: [Int64]
    public let rightCum: [Int64]

    public var leftTicks: Int64 { leftTotal[0] }
    public var rightTicks: Int64 { rightTotal[0] }
    public var nodeCount: Int { shape.nodeCount }
    public var names: [String] { shape.names }

    /// Merges `baseline` and `comparison` for one sample type, chosen by name (or index into the first
    /// comparison profile, whose default it also takes, as pprof does); every profile must carry it.
    /// `functionTotals`: also sum flat and cum per function for a `ChangeTable`; a flame graph does not need them.
    public init(
        baseline: [Profile], comparison: [Profile], options: TreeOptions = TreeOptions(),
        construction: CallTree.Construction = .sorted, functionTotals: Bool = true
    ) throws(FlameDiffError) {
        try self.init(
            baseline: baseline, comparison: comparison, options: options, construction: construction,
            functionTotals: functionTotals, minimumStacksForTwoThreads: SortedTreeBuilder.minimumStacksForTwoThreads)
    }

    /// `minimumStacksForTwoThreads`: tests lower it so that small trees take the two-thread path too.
    init(
        baseline: [Profile], comparison: [Profile], options: TreeOptions, construction: CallTree.Construction,
        functionTotals: Bool, minimumStacksForTwoThreads: Int
    ) throws(FlameDiffError) {
        guard !baseline.isEmpty else { throw .noProfiles(side: "baseline") }
        guard let first = comparison.first else { throw .noProfiles(side: "comparison") }
        // As `go tool pprof -diff_base`: the comparison decides the default sample type and what an index means.
        let chosen = first.sampleTypes[try first.sampleTypeIndex(options.sampleType)]
        func index(in profile: Profile) throws(FlameDiffError) -> Int {
            if let i = profile.sampleTypes.firstIndex(of: chosen) { return i }
            if let i = profile.sampleTypes.firstIndex(where: { $0.type == chosen.type }) { return i }
            throw .sampleTypeMismatch(
                requested: chosen.description,
                baseline: Array(Set(baseline.flatMap { $0.sampleTypes.map(\.description) })).sorted(),
                comparison: Array(Set(comparison.flatMap { $0.sampleTypes.map(\.description) })).sorted())
        }
        // Every sum below (a side's profiles, and left + right in a diff flame graph) stays within 64 bits
        // when the magnitudes of all values together do.
        var magnitude: Int64 = 0
        for profile in baseline + comparison {
            let (sum, overflow) = magnitude.addingReportingOverflow(profile.magnitude(ofType: try index(in: profile)) ?? .max)
            guard !overflow, sum < Int64.max else {
                throw .valuesTooLarge("the sum of |value| of '\(chosen)' over both sides exceeds 2^63-1")
            }
            magnitude = sum
        }
        var interner = NameInterner()
        var sources: [StackSource] = []
        var flat: [[Int64]] = [[], []]
        var cum: [[Int64]] = [[], []]
        var stamp: [Int32] = []
        var stackCounter: Int32 = 0
        for (column, side) in [baseline, comparison].enumerated() {
            for profile in side {
                var sideOptions = options
                sideOptions.sampleType = .index(try index(in: profile))
                let stacks = try StackSet(profile: profile, options: sideOptions)
                let frames = FrameTable(profile: profile, key: options.frameKey)
                let nameMap = frames.names.map { interner.id($0) }
                sources.append(StackSource(stacks: stacks, frames: frames, nameMap: nameMap, column: column))
                let count = interner.names.count
                for c in 0 ..< 2 {
                    flat[c] += [Int64](repeating: 0, count: count - flat[c].count)
                    cum[c] += [Int64](repeating: 0, count: count - cum[c].count)
                }
                stamp += [Int32](repeating: -1, count: count - stamp.count)
                if !functionTotals { continue }
                accumulateFlatAndCum(
                    stacks: stacks, frames: frames, nameMap: nameMap, flat: &flat[column], cum: &cum[column],
                    stamp: &stamp, stackCounter: &stackCounter)
            }
        }
        var built = SortedTreeBuilder.build(
            sources: sources, names: interner.names, columns: 2, threads: options.threads,
            minimumStacksForTwoThreads: minimumStacksForTwoThreads)
        let stackCount = sources.reduce(0) { $0 + $1.stacks.count }
        if construction == .sorted && options.threads >= 2 && stackCount >= minimumStacksForTwoThreads {
            // The shape (depths, child lists) on one thread; each side's self values and totals on the other.
            let (names, tree) = (interner.names, built)
            let (shape, sides) = concurrently(
                { TreeShape(names: names, nodeName: tree.nodeName, parent: tree.parent, childrenSorted: true, rank: tree.rank) },
                { () -> (leftSelf: [Int64], rightSelf: [Int64], leftTotal: [Int64], rightTotal: [Int64]) in
                    let leftSelf = stride(from: 0, to: tree.selfValues.count, by: 2).map { tree.selfValues[$0] }
                    let rightSelf = stride(from: 1, to: tree.selfValues.count, by: 2).map { tree.selfValues[$0] }
                    return (
                        leftSelf, rightSelf, Self.totals(leftSelf, parent: tree.parent), Self.totals(rightSelf, parent: tree.parent)
                    )
                })
            self.init(
                shape: shape, leftSelf: sides.leftSelf, rightSelf: sides.rightSelf, leftTotal: sides.leftTotal,
                rightTotal: sides.rightTotal, sampleType: chosen, leftFlat: functionTotals ? flat[0] : [],
                rightFlat: functionTotals ? flat[1] : [], leftCum: functionTotals ? cum[0] : [], rightCum: functionTotals ? cum[1] : [])
            return
        }
        if construction == .hashed {
            var builder = TreeBuilder(columns: 2, expectedNodes: 1024)
            for source in sources {
                builder.insert(source.stacks, frames: source.frames, nameMap: source.nameMap, column: source.column)
            }
            built = SortedTreeBuilder.Result(
                nodeName: builder.nodeName, parent: builder.parent, selfValues: builder.selfValues, rank: built.rank)
        }
        self.init(
            shape: TreeShape(
                names: interner.names, nodeName: built.nodeName, parent: built.parent, childrenSorted: construction == .sorted,
                rank: built.rank),
            leftSelf: stride(from: 0, to: built.selfValues.count, by: 2).map { built.selfValues[$0] },
            rightSelf: stride(from: 1, to: built.selfValues.count, by: 2).map { built.selfValues[$0] },
            sampleType: chosen, leftFlat: functionTotals ? flat[0] : [], rightFlat: functionTotals ? flat[1] : [],
            leftCum: functionTotals ? cum[0] : [], rightCum: functionTotals ? cum[1] : [])
    }

    /// Whether flat and cum per function were summed (a `ChangeTable` needs them).
    public var hasFunctionTotals: Bool { leftFlat.count == names.count }

    /// A diff of two trees given as literal stacks (root first). For tests.
    public init(left: [([String], Int64)], right: [([String], Int64)]) {
        var interner = NameInterner()
        var builder = TreeBuilder(columns: 2, expectedNodes: 16)
        for (column, stacks) in [left, right].enumerated() {
            for (path, value) in stacks where value != 0 {
                var node: Int32 = 0
                for name in path { node = builder.child(of: node, name: interner.id(name)) }
                builder.addSelf(node, column: column, value)
            }
        }
        let shape = TreeShape(names: interner.names, nodeName: builder.nodeName, parent: builder.parent)
        let l = builder.selfColumn(0)
        let r = builder.selfColumn(1)
        // Functions: flat from leaf self, cum once per path.
        var flat: [[Int64]] = [[Int64](repeating: 0, count: shape.names.count), [Int64](repeating: 0, count: shape.names.count)]
        var cum = flat
        for (column, stacks) in [left, right].enumerated() {
            for (path, value) in stacks where value != 0 {
                if let leaf = path.last { flat[column][Int(interner.id(leaf))] += value }
                for name in Set(path) { cum[column][Int(interner.id(name))] += value }
            }
        }
        self.init(
            shape: shape, leftSelf: l, rightSelf: r, sampleType: ValueType(type: "samples", unit: "count"),
            leftFlat: flat[0], rightFlat: flat[1], leftCum: cum[0], rightCum: cum[1])
    }

    init(
        shape: TreeShape, leftSelf: [Int64], rightSelf: [Int64], sampleType: ValueType, leftFlat: [Int64],
        rightFlat: [Int64], leftCum: [Int64], rightCum: [Int64]
    ) {
        self.shape = shape
        self.leftSelf = leftSelf
        self.rightSelf = rightSelf
        self.leftTotal = Self.totals(leftSelf, parent: shape.parent)
        self.rightTotal = Self.totals(rightSelf, parent: shape.parent)
        self.sampleType = sampleType
        self.leftFlat = leftFlat
        self.rightFlat = rightFlat
        self.leftCum = leftCum
        self.rightCum = rightCum
    }

    /// `leftTotal`, `rightTotal`: `totals` of each side's self values, computed by the caller.
    init(
        shape: TreeShape, leftSelf: [Int64], rightSelf: [Int64], leftTotal: [Int64], rightTotal: [Int64], sampleType: ValueType,
        leftFlat: [Int64], rightFlat: [Int64], leftCum: [Int64], rightCum: [Int64]
    ) {
        self.shape = shape
        self.leftSelf = leftSelf
        self.rightSelf = rightSelf
        self.leftTotal = leftTotal
        self.rightTotal = rightTotal
        self.sampleType = sampleType
        self.leftFlat = leftFlat
        self.rightFlat = rightFlat
        self.leftCum = leftCum
        self.rightCum = rightCum
    }

    static func totals(_ selfValues: [Int64], parent: [Int32]) -> [Int64] {
        var total = selfValues
        var i = total.count - 1
        while i > 0 {
            total[Int(parent[i])] &+= total[i]
            i -= 1
        }
        return total
    }

    /// The same diff with the baseline scaled to the comparison's total (pprof's `-normalize`).
    /// Self values are scaled and rounded, totals recomputed, so every invariant still holds.
    public func scaledBaseline() -> DiffTree {
        guard leftTicks != 0 else { return self }
        // Only scale what exists: function totals may have been left out.
        let factor = Double(rightTicks) / Double(leftTicks)
        func scale(_ v: Int64) -> Int64 { Int64((Double(v) * factor).rounded()) }
        return DiffTree(
            shape: shape, leftSelf: leftSelf.map(scale), rightSelf: rightSelf, sampleType: sampleType,
            leftFlat: leftFlat.map(scale), rightFlat: rightFlat, leftCum: leftCum.map(scale), rightCum: rightCum)
    }

    /// The diff as it should be drawn under a normalization: only `normalize` changes the values.
    public func normalized(_ normalization: DiffNormalization) -> DiffTree {
        normalization == .normalize ? scaledBaseline() : self
    }
}

/// Adds flat (leaf function) and cum (once per stack) values of `stacks` into arrays indexed by `nameMap`'d ids.
func accumulateFlatAndCum(
    stacks: StackSet, frames: FrameTable, nameMap: [Int32]?, flat: inout [Int64], cum: inout [Int64],
    stamp: inout [Int32], stackCounter: inout Int32
) {
    for s in 0 ..< stacks.count {
        let v = stacks.values[s]
        let range = stacks.range(s)
        let (start, end) = (range.lowerBound, range.upperBound)
        if start == end { continue }
        stackCounter &+= 1
        // Leaf frame: the innermost line of the first location, stored last in the frame table.
        let leafLocation = Int(stacks.locations[start])
        let leafFrame = Int(frames.frameOffsets[leafLocation + 1]) - 1
        if leafFrame >= Int(frames.frameOffsets[leafLocation]) {
            let f = frames.functionOfFrame[leafFrame]
            flat[Int(nameMap?[Int(f)] ?? f)] &+= v
        }
        for i in start ..< end {
            let location = Int(stacks.locations[i])
            for frame in Int(frames.frameOffsets[location]) ..< Int(frames.frameOffsets[location + 1]) {
                let raw = frames.functionOfFrame[frame]
                let function = Int(nameMap?[Int(raw)] ?? raw)
                if stamp[function] != stackCounter {
                    stamp[function] = stackCounter
                    cum[function] &+= v
                }
            }
        }
    }
}
