import ProtoPprof

/// One function's row in a top table.
public struct TopRow: Sendable, Equatable {
    public var name: String
    /// Value of samples whose leaf frame is this function.
    public var flat: Int64
    /// Value of samples with this function anywhere on the stack, counted once per sample even under recursion.
    public var cum: Int64
}

/// flat, flat%, cum, cum% per function, as `go tool pprof -top` defines them.
public struct TopTable: Sendable {
    /// Every function with a nonzero flat or cum value, by flat descending, then name ascending.
    public let rows: [TopRow]
    /// The 100% of the percentages: the sum of all sample values.
    public let total: Int64
    public let sampleType: ValueType

    public init(profile: Profile, options: TreeOptions = TreeOptions()) throws(FlameDiffError) {
        let stacks = try StackSet(profile: profile, options: options)
        self.init(stacks: stacks, frames: FrameTable(profile: profile, key: options.frameKey))
    }

    public init(stacks: StackSet, frames: FrameTable) {
        let functionCount = frames.names.count
        var flat = [Int64](repeating: 0, count: functionCount)
        var cum = [Int64](repeating: 0, count: functionCount)
        var stamp = [Int32](repeating: -1, count: functionCount)
        var counter: Int32 = 0
        accumulateFlatAndCum(
            stacks: stacks, frames: frames, nameMap: nil, flat: &flat, cum: &cum, stamp: &stamp, stackCounter: &counter)
        var rows: [TopRow] = []
        for id in 0 ..< functionCount where flat[id] != 0 || cum[id] != 0 {
            rows.append(TopRow(name: frames.names[id], flat: flat[id], cum: cum[id]))
        }
        rows.sort { a, b in
            if a.flat != b.flat { return a.flat > b.flat }
            return bytewiseLess(a.name, b.name)
        }
        self.rows = rows
        self.total = stacks.total
        self.sampleType = stacks.sampleType
    }

    init(rows: [TopRow], total: Int64, sampleType: ValueType) {
        self.rows = rows
        self.total = total
        self.sampleType = sampleType
    }

    /// A share of the total in percent (0 when the total is 0).
    public func percent(_ value: Int64) -> Double {
        total == 0 ? 0 : 100 * Double(value) / Double(total)
    }
}
