import ProtoPprof

/// A call tree cut to at most `maxNodes` nodes, ready to draw.
///
/// Truncation follows Pyroscope: a node stays when its total reaches the N-th largest total, and each
/// parent's remaining children merge into one `other` child. Pyroscope's cut hides a function whose large
/// self value is spread thin over many small stacks (pyroscope#2729); here one eighth of the node budget is
/// reserved for such functions: inside each `other`, the heaviest hidden self functions of the merged
/// subtrees get a child of their own, so the flame graph (and any table computed from it) still shows them.
///
/// Nodes are stored in depth-first pre-order, children left to right (sorted bytewise by name, `other` last);
/// node 0 is the root, named `total`.
public struct FlameGraph: Sendable {
    public static let defaultMaxNodes = 8192
    public static let maxMaxNodes = 1 << 20
    public static let otherName = "other"
    public static let rootName = "total"

    public let names: [String]
    public let nodeName: [Int32]
    public let total: [Int64]
    public let selfValue: [Int64]
    public let level: [Int32]
    /// Horizontal position of each node: its parent's x, plus the parent's self, plus earlier siblings' totals.
    public let x: [Int64]
    public let parent: [Int32]
    let childOffsets: [Int32]
    let childList: [Int32]
    public let sampleType: ValueType
    /// The smallest total a node of the source tree needed to stay (0: nothing was cut).
    public let minTotal: Int64
    /// Nodes of the source tree, and how many nodes were added to keep hidden self functions visible.
    public let sourceNodes: Int
    public let surfacedNodes: Int

    public var nodeCount: Int { nodeName.count }
    public var totalValue: Int64 { total.first ?? 0 }
    public var maxSelf: Int64 { selfValue.max() ?? 0 }

    public func children(of node: Int) -> ArraySlice<Int32> {
        childList[Int(childOffsets[node]) ..< Int(childOffsets[node + 1])]
    }

    public init(tree: CallTree, maxNodes: Int = FlameGraph.defaultMaxNodes) {
        let n = tree.nodeCount
        let otherID = Int32(tree.names.count)
        var names = tree.names
        names.append(Self.otherName)
        // Real frames named "other" are merged into the synthetic one, as Pyroscope does.
        let realOther = tree.names.firstIndex(of: Self.otherName).map(Int32.init) ?? -1

        var reserve = 0
        var minTotal: Int64 = 0
        if maxNodes > 0 && n - 1 > maxNodes {
            reserve = maxNodes / 8
            minTotal = Self.kthLargestTotal(tree, k: maxNodes - reserve)
        }
        var kept = [Bool](repeating: false, count: n)
        kept[0] = true
        for i in 1 ..< max(n, 1) {
            kept[i] = kept[Int(tree.parent[i])] && tree.total[i] >= minTotal && tree.nodeName[i] != realOther
        }

        // Hidden self functions, surfaced inside the `other` of the parent they were cut from.
        var surfaced: [Int32: [(name: Int32, value: Int64)]] = [:]
        var surfacedCount = 0
        if reserve > 0 {
            let global = tree.selfByName()
            var visible = [Int64](repeating: 0, count: tree.names.count)
            for i in 1 ..< n where kept[i] { visible[Int(tree.nodeName[i])] &+= tree.selfValue[i] }
            let threshold = max(1, tree.totalValue / 200)
            let hot = tree.names.indices
                .filter { global[$0] - visible[$0] >= threshold }
                .sorted { global[$0] - visible[$0] > global[$1] - visible[$1] }
                .prefix(32)
            if !hot.isEmpty {
                var isHot = [Bool](repeating: false, count: tree.names.count)
                for h in hot { isHot[h] = true }
                var group = [Int32](repeating: -1, count: n)
                var sums: [UInt64: Int64] = [:]
                for i in 1 ..< n where !kept[i] {
                    let p = Int(tree.parent[i])
                    group[i] = kept[p] ? Int32(p) : group[p]
                    let name = tree.nodeName[i]
                    if tree.selfValue[i] > 0 && isHot[Int(name)] {
                        sums[UInt64(UInt32(group[i])) << 32 | UInt64(UInt32(name)), default: 0] += tree.selfValue[i]
                    }
                }
                let best = sums.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(reserve)
                for (key, value) in best {
                    surfaced[Int32(truncatingIfNeeded: key >> 32), default: []].append((Int32(truncatingIfNeeded: key & 0xffff_ffff), value))
                }
                surfacedCount = best.count
            }
        }

        // Emit in pre-order, children left to right.
        var outName: [Int32] = []
        var outTotal: [Int64] = []
        var outSelf: [Int64] = []
        var outLevel: [Int32] = []
        var outParent: [Int32] = []
        var outX: [Int64] = []
        var cursor: [Int64] = [0]
        func emit(name: Int32, total: Int64, self value: Int64, level: Int32, parent: Int32) -> Int32 {
            let l = Int(level)
            let x = l == 0 ? 0 : cursor[l]
            if l > 0 { cursor[l] += total }
            if cursor.count <= l + 1 { cursor.append(0) }
            cursor[l + 1] = x + value
            outName.append(name)
            outTotal.append(total)
            outSelf.append(value)
            outLevel.append(level)
            outParent.append(parent)
            outX.append(x)
            return Int32(outName.count - 1)
        }
        // Explicit stack of (tree node, output parent) to avoid recursion on deep trees.
        var stack: [(node: Int32, parent: Int32, level: Int32)] = [(0, -1, 0)]
        while let (node, outParentID, lvl) = stack.popLast() {
            if node < 0 {
                // An `other` placeholder: -(source parent + 1).
                let sourceParent = Int(-node - 1)
                var otherTotal: Int64 = 0
                for c in tree.children(of: sourceParent) where !kept[Int(c)] { otherTotal &+= tree.total[Int(c)] }
                var extras = surfaced[Int32(sourceParent)] ?? []
                extras.sort { tree.nameRank[Int($0.name)] < tree.nameRank[Int($1.name)] }
                let extrasTotal = extras.reduce(Int64(0)) { $0 + $1.value }
                let other = emit(name: otherID, total: otherTotal, self: otherTotal - extrasTotal, level: lvl, parent: outParentID)
                for e in extras { _ = emit(name: e.name, total: e.value, self: e.value, level: lvl + 1, parent: other) }
                continue
            }
            let id = emit(
                name: node == 0 ? otherID : tree.nodeName[Int(node)], total: tree.total[Int(node)],
                self: tree.selfValue[Int(node)], level: lvl, parent: outParentID)
            let children = tree.children(of: Int(node))
            var hasDropped = false
            for c in children where !kept[Int(c)] {
                hasDropped = true
                break
            }
            if hasDropped { stack.append((-(node + 1), id, lvl + 1)) }
            for c in children.reversed() where kept[Int(c)] { stack.append((c, id, lvl + 1)) }
        }
        // The root gets its own name.
        names.append(Self.rootName)
        if !outName.isEmpty { outName[0] = Int32(names.count - 1) }

        var counts = [Int32](repeating: 0, count: outName.count + 1)
        for i in 1 ..< max(outName.count, 1) { counts[Int(outParent[i]) + 1] += 1 }
        for i in 0 ..< outName.count { counts[i + 1] += counts[i] }
        var fill = counts
        var list = [Int32](repeating: 0, count: max(0, outName.count - 1))
        for i in 1 ..< max(outName.count, 1) {
            let p = Int(outParent[i])
            list[Int(fill[p])] = Int32(i)
            fill[p] += 1
        }
        self.names = names
        self.nodeName = outName
        self.total = outTotal
        self.selfValue = outSelf
        self.level = outLevel
        self.x = outX
        self.parent = outParent
        self.childOffsets = counts
        self.childList = list
        self.sampleType = tree.sampleType
        self.minTotal = minTotal
        self.sourceNodes = n - 1
        self.surfacedNodes = surfacedCount
    }

    /// The k-th largest total among non-root nodes (Pyroscope's minValue): a min-heap of size k over a
    /// depth-first walk that skips subtrees which cannot enter the heap (a child's total never exceeds its parent's).
    static func kthLargestTotal(_ tree: CallTree, k: Int) -> Int64 {
        guard k > 0 else { return Int64.max }
        var heap = MinHeap(capacity: k)
        var stack: [Int32] = Array(tree.children(of: 0))
        while let node = stack.popLast() {
            let t = tree.total[Int(node)]
            if heap.count >= k {
                if t <= heap.min { continue }
                heap.replaceMin(t)
            } else {
                heap.push(t)
            }
            stack.append(contentsOf: tree.children(of: Int(node)))
        }
        return heap.count < k ? 0 : heap.min
    }

    /// The name of a node as drawn.
    public func name(of node: Int) -> String { names[Int(nodeName[node])] }
}

struct MinHeap {
    private var items: [Int64] = []

    init(capacity: Int) { items.reserveCapacity(capacity) }

    var count: Int { items.count }
    var min: Int64 { items[0] }

    mutating func push(_ value: Int64) {
        items.append(value)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p] <= items[i] { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func replaceMin(_ value: Int64) {
        items[0] = value
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var smallest = i
            if l < n && items[l] < items[smallest] { smallest = l }
            if r < n && items[r] < items[smallest] { smallest = r }
            if smallest == i { break }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}
