import JSONCore
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
        (names, levels) = collectLevels(
            nodeCount: graph.nodeCount, stride: 7, xColumns: [0, 3], name: { graph.name(of: $0) },
            level: { Int(graph.level[$0]) }, children: { graph.children(of: $0) },
            tuple: { n, index in
                [graph.leftX[n], graph.leftTotal[n], graph.leftSelf[n], graph.rightX[n], graph.rightTotal[n], graph.rightSelf[n], index]
            })
        leftTicks = graph.leftTicks
        rightTicks = graph.rightTicks
        total = graph.leftTicks + graph.rightTicks
        maxSelf = max(graph.leftSelf.max() ?? 0, graph.rightSelf.max() ?? 0)
        normalization = graph.normalization
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
