import JSONCore
/// Pyroscope's flame graph levels (api/querier/v1 `FlameGraph`).
///
/// `names` starts with the virtual root `total` and is interned in Pyroscope's order (depth first,
/// right-most child first); each level holds 4-tuples `[x, total, self, nameIndex]`, left to right,
/// with x delta-encoded per level: `x - (previous x + previous total)`.
public struct FlameGraphLevels: Sendable, Equatable {
    public var names: [String]
    public var levels: [[Int64]]
    public var total: Int64
    public var maxSelf: Int64

    public init(_ graph: FlameGraph) {
        (names, levels) = collectLevels(
            nodeCount: graph.nodeCount, stride: 4, xColumns: [0], name: { $0 == 0 ? FlameGraph.rootName : graph.name(of: $0) },
            level: { Int(graph.level[$0]) }, children: { graph.children(of: $0) },
            tuple: { n, index in [graph.x[n], graph.total[n], graph.selfValue[n], index] })
        total = graph.totalValue
        maxSelf = graph.selfValue.max() ?? 0
    }

    /// `{"names":[…],"levels":[{"values":[…]}],"total":N,"maxSelf":N}` (numbers as JSON numbers).
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        writeNamesAndLevels(names, levels, to: &w)
        w.key("total")
        w.int(total)
        w.key("maxSelf")
        w.int(maxSelf)
        w.endObject()
    }

    public func json() -> [UInt8] {
        var w = JSONWriter()
        writeJSON(to: &w)
        return w.bytes
    }
}

/// Pyroscope's levels from a drawn tree: names interned in Pyroscope's order (depth first, right-most child
/// first), each level's tuples left to right, x columns delta-encoded. Shared by the flame graph and the diff.
func collectLevels(
    nodeCount: Int, stride: Int, xColumns: [Int], name: (Int) -> String, level: (Int) -> Int,
    children: (Int) -> ArraySlice<Int32>, tuple: (Int, Int64) -> [Int64]
) -> (names: [String], levels: [[Int64]]) {
    var names: [String] = []
    var nameIndex: [String: Int64] = [:]
    var levels: [[Int64]] = []
    var stack: [Int32] = nodeCount > 0 ? [0] : []
    while let node = stack.popLast() {
        let n = Int(node)
        let text = name(n)
        let index: Int64
        if let existing = nameIndex[text] {
            index = existing
        } else {
            index = Int64(names.count)
            nameIndex[text] = index
            names.append(text)
        }
        let l = level(n)
        if levels.count == l { levels.append([]) }
        // Appended right to left with each tuple reversed; reverseAndDeltaEncode turns them around.
        levels[l].append(contentsOf: tuple(n, index).reversed())
        stack.append(contentsOf: children(n))
    }
    reverseAndDeltaEncode(&levels, stride: stride, xColumns: xColumns)
    return (names, levels)
}

/// Levels are collected right to left with each tuple reversed; this puts them left to right and
/// delta-encodes each x column: `x - (previous x + previous total)`, the total being the next column.
func reverseAndDeltaEncode(_ levels: inout [[Int64]], stride: Int, xColumns: [Int]) {
    for l in levels.indices {
        levels[l].reverse()
        for column in xColumns {
            var previousEnd: Int64 = 0
            var i = column
            while i < levels[l].count {
                let x = levels[l][i]
                levels[l][i] = x - previousEnd
                previousEnd = x + levels[l][i + 1]
                i += stride
            }
        }
    }
}

/// `"names":[…],"levels":[{"values":[…]},…]`, shared by the flame graph and the diff.
func writeNamesAndLevels(_ names: [String], _ levels: [[Int64]], to w: inout JSONWriter) {
    w.key("names")
    w.stringArray(names)
    w.key("levels")
    w.beginArray()
    for level in levels {
        w.beginObject()
        w.key("values")
        w.intArray(level)
        w.endObject()
    }
    w.endArray()
}
