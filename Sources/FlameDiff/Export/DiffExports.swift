/// Pyroscope's `FlameGraphDiff`: 7-tuples `[leftX, leftTotal, leftSelf, rightX, rightTotal, rightSelf, nameIndex]`
/// per node, both x columns delta-encoded per level, `total` = left + right, `maxSelf` over both sides,
/// `leftTicks`, `rightTicks`. Names are interned in Pyroscope's order (depth first, right-most child first).
public struct FlameGraphDiffLevels: Sendable, Equatable {
    public var names: [String]
    public var levels: [[Int64]]
    public var total: Int64
    public var maxSelf: Int64
    public var leftTicks: Int64
    public var rightTicks: Int64
    public var normalization: DiffNormalization

    public init(_ graph: DiffFlameGraph) {
        var names: [String] = []
        var nameIndex: [String: Int64] = [:]
        var levels: [[Int64]] = []
        var maxSelf: Int64 = 0
        var stack: [Int32] = graph.nodeCount > 0 ? [0] : []
        while let node = stack.popLast() {
            let n = Int(node)
            let name = graph.name(of: n)
            let index: Int64
            if let existing = nameIndex[name] {
                index = existing
            } else {
                index = Int64(names.count)
                nameIndex[name] = index
                names.append(name)
            }
            let l = Int(graph.level[n])
            if levels.count == l { levels.append([]) }
            // Appended right to left, each tuple reversed; the level is reversed below.
            levels[l].append(contentsOf: [
                index, graph.rightSelf[n], graph.rightTotal[n], graph.rightX[n], graph.leftSelf[n], graph.leftTotal[n],
                graph.leftX[n],
            ])
            maxSelf = max(maxSelf, graph.leftSelf[n], graph.rightSelf[n])
            stack.append(contentsOf: graph.children(of: n))
        }
        reverseAndDeltaEncode(&levels, stride: 7, xColumns: [0, 3])
        self.names = names
        self.levels = levels
        self.leftTicks = graph.leftTicks
        self.rightTicks = graph.rightTicks
        self.total = graph.leftTicks + graph.rightTicks
        self.maxSelf = maxSelf
        self.normalization = graph.normalization
    }

    /// Pyroscope's fields plus `normalization`, which says how the two sides compare.
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        writeNamesAndLevels(names, levels, to: &w)
        w.key("total")
        w.int(total)
        w.key("maxSelf")
        w.int(maxSelf)
        w.key("leftTicks")
        w.int(leftTicks)
        w.key("rightTicks")
        w.int(rightTicks)
        w.key("normalization")
        w.string(normalization.rawValue)
        w.endObject()
    }

    public func json() -> [UInt8] {
        var w = JSONWriter()
        writeJSON(to: &w)
        return w.bytes
    }
}

extension DataFrameExport {
    /// The data frame of Grafana's diff flame graph: `level`, `label`, `value`, `self` (baseline),
    /// `valueRight`, `selfRight` (comparison), depth-first pre-order.
    public static func writeJSON(_ graph: DiffFlameGraph, to w: inout JSONWriter) {
        let (labelTexts, labels) = enumerate(graph.nodeCount) { graph.name(of: $0) }
        let unit = grafanaUnit(graph.sampleType.unit)
        writeFrame(
            [
                .number("level", unit: nil, graph.level.map { Int64($0) }), .enumeration("label", texts: labelTexts, labels),
                .number("value", unit: unit, graph.leftTotal), .number("self", unit: unit, graph.leftSelf),
                .number("valueRight", unit: unit, graph.rightTotal), .number("selfRight", unit: unit, graph.rightSelf),
            ], custom: ["normalization": graph.normalization.rawValue], to: &w)
    }

    public static func json(_ graph: DiffFlameGraph) -> [UInt8] {
        var w = JSONWriter(reservingCapacity: graph.nodeCount * 40)
        writeJSON(graph, to: &w)
        return w.bytes
    }
}

extension FoldedExport {
    /// Folded diff lines `stack left right`, as FlameGraph's difffolded.pl writes them: one line per call path
    /// with a self value on either side.
    public static func bytes(_ diff: DiffTree) -> [UInt8] {
        var out: [UInt8] = []
        walkPaths(diff.shape) { node, path in
            let l = diff.leftSelf[node]
            let r = diff.rightSelf[node]
            if l == 0 && r == 0 { return }
            out.append(contentsOf: path)
            out.append(UInt8(ascii: " "))
            JSONWriter.appendInt(l, to: &out)
            out.append(UInt8(ascii: " "))
            JSONWriter.appendInt(r, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }
}
