import ProtoPprof

/// A diff tree cut to at most `maxNodes` nodes, ready to draw.
///
/// Pyroscope keeps a node when either side's total reaches the threshold, so a path that is new or grew
/// strongly disappears when it is small on both sides. Here nodes rank by a score that counts change as well
/// as size: the largest of the left share, the right share and four times the change in share, raised to the
/// largest score below it so that a kept node's ancestors are kept too. A path that grew from 0.1% to 0.6% of
/// its side scores 2%, like a 2% node. `maxNodes` is a hard bound that counts the `other` nodes.
///
/// Nodes are stored in depth-first pre-order, children left to right, `other` last; node 0 is the root.
public struct DiffFlameGraph: Sendable {
    public let names: [String]
    public let nodeName: [Int32]
    public let level: [Int32]
    public let parent: [Int32]
    public let leftTotal: [Int64]
    public let leftSelf: [Int64]
    public let rightTotal: [Int64]
    public let rightSelf: [Int64]
    public let leftX: [Int64]
    public let rightX: [Int64]
    let childOffsets: [Int32]
    let childList: [Int32]
    public let sampleType: ValueType
    public let normalization: DiffNormalization
    public let sourceNodes: Int

    public var nodeCount: Int { nodeName.count }
    public var leftTicks: Int64 { leftTotal.first ?? 0 }
    public var rightTicks: Int64 { rightTotal.first ?? 0 }

    public func children(of node: Int) -> ArraySlice<Int32> {
        childList[Int(childOffsets[node]) ..< Int(childOffsets[node + 1])]
    }

    public func name(of node: Int) -> String { names[Int(nodeName[node])] }

    public init(diff source: DiffTree, maxNodes: Int = FlameGraph.defaultMaxNodes, normalization: DiffNormalization = .share) {
        let diff = source.normalized(normalization)
        let shape = diff.shape
        let n = diff.nodeCount
        var names = shape.names
        let otherID = Int32(names.count)
        names.append(FlameGraph.otherName)
        names.append(FlameGraph.rootName)
        let rootID = Int32(names.count - 1)
        let realOther = shape.names.firstIndex(of: FlameGraph.otherName).map(Int32.init) ?? -1

        var kept = [Bool](repeating: true, count: n)
        if maxNodes > 0 && n - 1 > maxNodes {
            kept = selectKept(shape, score: Self.scores(diff), budget: maxNodes)
        }
        for i in 1 ..< max(n, 1) where shape.nodeName[i] == realOther || !kept[Int(shape.parent[i])] { kept[i] = false }

        var outName: [Int32] = [], outLevel: [Int32] = [], outParent: [Int32] = []
        var lt: [Int64] = [], ls: [Int64] = [], rt: [Int64] = [], rs: [Int64] = [], lx: [Int64] = [], rx: [Int64] = []
        var leftCursor: [Int64] = [0], rightCursor: [Int64] = [0]
        func emit(_ name: Int32, _ level: Int32, _ parent: Int32, _ values: (Int64, Int64, Int64, Int64)) -> Int32 {
            let l = Int(level)
            let xl = l == 0 ? 0 : leftCursor[l]
            let xr = l == 0 ? 0 : rightCursor[l]
            if l > 0 {
                leftCursor[l] += values.0
                rightCursor[l] += values.2
            }
            if leftCursor.count <= l + 1 {
                leftCursor.append(0)
                rightCursor.append(0)
            }
            leftCursor[l + 1] = xl + values.1
            rightCursor[l + 1] = xr + values.3
            outName.append(name)
            outLevel.append(level)
            outParent.append(parent)
            lt.append(values.0)
            ls.append(values.1)
            rt.append(values.2)
            rs.append(values.3)
            lx.append(xl)
            rx.append(xr)
            return Int32(outName.count - 1)
        }
        var stack: [(node: Int32, parent: Int32, level: Int32)] = n > 0 ? [(0, -1, 0)] : []
        while let (node, outParentID, lvl) = stack.popLast() {
            if node < 0 {
                let sourceParent = Int(-node - 1)
                var l: Int64 = 0, r: Int64 = 0
                for c in shape.children(of: sourceParent) where !kept[Int(c)] {
                    l &+= diff.leftTotal[Int(c)]
                    r &+= diff.rightTotal[Int(c)]
                }
                _ = emit(otherID, lvl, outParentID, (l, l, r, r))
                continue
            }
            let i = Int(node)
            let id = emit(
                node == 0 ? rootID : shape.nodeName[i], lvl, outParentID,
                (diff.leftTotal[i], diff.leftSelf[i], diff.rightTotal[i], diff.rightSelf[i]))
            let children = shape.children(of: i)
            if children.contains(where: { !kept[Int($0)] }) { stack.append((-(node + 1), id, lvl + 1)) }
            for c in children.reversed() where kept[Int(c)] { stack.append((c, id, lvl + 1)) }
        }
        let (counts, list) = childIndex(parent: outParent)
        self.names = names
        self.nodeName = outName
        self.level = outLevel
        self.parent = outParent
        self.leftTotal = lt
        self.leftSelf = ls
        self.rightTotal = rt
        self.rightSelf = rs
        self.leftX = lx
        self.rightX = rx
        self.childOffsets = counts
        self.childList = list
        self.sampleType = diff.sampleType
        self.normalization = normalization
        self.sourceNodes = n - 1
    }

    /// Size-and-change scores in parts per 10^12 of a side's total, raised to the maximum over descendants.
    static func scores(_ diff: DiffTree) -> [Int64] {
        let l = Double(max(diff.leftTicks, 1))
        let r = Double(max(diff.rightTicks, 1))
        var score = (0 ..< diff.nodeCount).map { i -> Int64 in
            let a = Double(diff.leftTotal[i]) / l
            let b = Double(diff.rightTotal[i]) / r
            return Int64((max(a, b, 4 * abs(b - a)) * 1e12).rounded())
        }
        var i = score.count - 1
        while i > 0 {
            let p = Int(diff.shape.parent[i])
            if score[p] < score[i] { score[p] = score[i] }
            i -= 1
        }
        return score
    }
}
