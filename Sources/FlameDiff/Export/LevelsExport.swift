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
        var names: [String] = []
        var nameIndex: [String: Int64] = [:]
        var levels: [[Int64]] = []
        var maxSelf: Int64 = 0
        var stack: [Int32] = graph.nodeCount > 0 ? [0] : []
        while let node = stack.popLast() {
            let n = Int(node)
            let name = n == 0 ? FlameGraph.rootName : graph.name(of: n)
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
            // Appended right to left; reversed below.
            levels[l].append(contentsOf: [index, graph.selfValue[n], graph.total[n], graph.x[n]])
            maxSelf = max(maxSelf, graph.selfValue[n])
            stack.append(contentsOf: graph.children(of: n))
        }
        reverseAndDeltaEncode(&levels, stride: 4, xColumns: [0])
        self.names = names
        self.levels = levels
        self.total = graph.totalValue
        self.maxSelf = maxSelf
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
