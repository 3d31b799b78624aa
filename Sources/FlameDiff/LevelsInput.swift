import ProtoPprof

extension CallTree {
    /// Most nodes a flame graph given as input may have.
    public static let maxInputNodes = 1 << 20

    /// Reads a flame graph in Pyroscope's levels form (as `FlameGraphLevels` writes it): `names`, and per
    /// level 4-tuples `[x delta, total, self, name index]`, level 0 being the root. A child must lie within
    /// a node of the level above; every violation is an error naming the level and tuple.
    public init(levels: [[Int64]], names: [String], sampleType: ValueType = ValueType(type: "samples", unit: "count")) throws(FlameDiffError) {
        let count = levels.reduce(0) { $0 + $1.count / 4 }
        guard count <= Self.maxInputNodes else { throw .invalidFlameGraph("\(count) nodes; at most \(Self.maxInputNodes) are accepted") }
        guard let top = levels.first, top.count == 4 else { throw .invalidFlameGraph("level 0 must hold exactly one node, the root") }
        var nodeName: [Int32] = [-1]
        var parent: [Int32] = [-1]
        var selfValue: [Int64] = [top[2]]
        var totalValue: [Int64] = [top[1]]
        // Sum of the children's totals per node: with self, it must fit in the node's total, so that
        // every sum over the tree is bounded by the root's total (no overflow later).
        var childTotals: [Int64] = [0]
        // The level above: absolute x, end, and node index of each node.
        var above: [(x: Int64, end: Int64, node: Int32)] = [(0, top[1], 0)]
        guard top[1] >= 0, top[2] >= 0, top[2] <= top[1] else { throw .invalidFlameGraph("the root's values are inconsistent") }
        for (l, level) in levels.enumerated().dropFirst() {
            guard level.count % 4 == 0 else { throw .invalidFlameGraph("level \(l) has \(level.count) values, not a multiple of 4") }
            var current: [(x: Int64, end: Int64, node: Int32)] = []
            var previousEnd: Int64 = 0
            var p = 0
            for t in Swift.stride(from: 0, to: level.count, by: 4) {
                let (dx, total, own, name) = (level[t], level[t + 1], level[t + 2], level[t + 3])
                let where_ = "level \(l), node \(t / 4)"
                guard dx >= 0, total >= 0, own >= 0, own <= total else { throw .invalidFlameGraph("\(where_): negative values or self above total") }
                guard name >= 0, name < names.count else { throw .invalidFlameGraph("\(where_): name index \(name) outside names[\(names.count)]") }
                let (x, overflow) = previousEnd.addingReportingOverflow(dx)
                guard !overflow, x <= Int64.max - total else { throw .invalidFlameGraph("\(where_): x overflows") }
                previousEnd = x + total
                // A zero-width node at x belongs to the node starting at x if there is one, else to the node ending
                // at x: FlameGraphLevels writes children after their parent's self, so an empty last child sits at its
                // parent's end (found by FuzzLevels: such levels were written, then refused).
                while p < above.count && above[p].end <= x && !(total == 0 && above[p].x == x) {
                    if total == 0 && above[p].end == x && !(p + 1 < above.count && above[p + 1].x == x) { break }
                    p += 1
                }
                guard p < above.count, above[p].x <= x, x + total <= above[p].end else {
                    throw .invalidFlameGraph("\(where_): not within any node of level \(l - 1)")
                }
                nodeName.append(Int32(name))
                parent.append(above[p].node)
                selfValue.append(own)
                totalValue.append(total)
                childTotals.append(0)
                childTotals[Int(above[p].node)] += total  // children lie apart inside the parent: no overflow
                current.append((x, x + total, Int32(nodeName.count - 1)))
            }
            above = current
        }
        for i in 0 ..< nodeName.count {
            let (used, overflow) = selfValue[i].addingReportingOverflow(childTotals[i])
            guard !overflow, used <= totalValue[i] else {
                throw .invalidFlameGraph("node \(i): self \(selfValue[i]) plus its children's totals \(childTotals[i]) exceed its total \(totalValue[i])")
            }
        }
        self.init(shape: TreeShape(names: names, nodeName: nodeName, parent: parent), selfValue: selfValue, sampleType: sampleType)
    }
}

extension TopTable {
    /// A top table from a call tree (a flame graph given as input): flat sums self values per name; cum
    /// counts a node's total once per stack, skipping nodes with an ancestor of the same name (recursion).
    /// Linear in the node count.
    public init(tree: CallTree) {
        let shape = tree.shape
        var flat = [Int64](repeating: 0, count: tree.names.count)
        var cum = [Int64](repeating: 0, count: tree.names.count)
        // One depth-first walk over the shape's child lists that keeps how many frames of each name are on
        // the current path: linear, whatever the depth (a 1M-deep chain included).
        var onPath = [Int32](repeating: 0, count: tree.names.count)
        if shape.preorder == nil {
            // Nodes are numbered in pre-order (the sorted builder): one sequential pass, the path kept by depth.
            shape.nodeName.withUnsafeBufferPointer { nodeName in
                shape.depth.withUnsafeBufferPointer { depth in
                    tree.selfValue.withUnsafeBufferPointer { selfValue in
                        tree.total.withUnsafeBufferPointer { total in
                            var path: [Int32] = []  // names of the current node's ancestors below the root
                            for i in 1 ..< max(tree.nodeCount, 1) {
                                let d = Int(depth[i])
                                while path.count >= d { onPath[Int(path.removeLast())] -= 1 }
                                let name = Int(nodeName[i])
                                flat[name] &+= selfValue[i]
                                if onPath[name] == 0 { cum[name] &+= total[i] }
                                onPath[name] += 1
                                path.append(Int32(name))
                            }
                        }
                    }
                }
            }
        } else {
            shape.childOffsets.withUnsafeBufferPointer { childStart in
            shape.childList.withUnsafeBufferPointer { children in
                shape.nodeName.withUnsafeBufferPointer { nodeName in
                    tree.selfValue.withUnsafeBufferPointer { selfValue in
                        tree.total.withUnsafeBufferPointer { total in
                            guard tree.nodeCount > 0 else { return }
                            // (node, next child offset); a node is entered when pushed and left when its children are done.
                            var stack: [(node: Int32, next: Int32)] = [(0, childStart[0])]
                            while let top = stack.last {
                                let node = Int(top.node)
                                if top.next < childStart[node + 1] {
                                    stack[stack.count - 1].next += 1
                                    let child = Int(children[Int(top.next)])
                                    let name = Int(nodeName[child])
                                    flat[name] &+= selfValue[child]
                                    if onPath[name] == 0 { cum[name] &+= total[child] }
                                    onPath[name] += 1
                                    stack.append((Int32(child), childStart[child]))
                                } else {
                                    stack.removeLast()
                                    if node != 0 { onPath[Int(nodeName[node])] -= 1 }
                                }
                            }
                        }
                    }
                }
            }
        }
        }
        // Flat descending, then bytewise by name: the shape's name ranks are that order.
        var ids = tree.names.indices.filter { flat[$0] != 0 || cum[$0] != 0 }
        let rank = shape.nameRank
        ids.sort { a, b in flat[a] != flat[b] ? flat[a] > flat[b] : rank[a] < rank[b] }
        let rows = ids.map { TopRow(name: tree.names[$0], flat: flat[$0], cum: cum[$0]) }
        self.init(rows: rows, total: tree.totalValue, sampleType: tree.sampleType)
    }
}
