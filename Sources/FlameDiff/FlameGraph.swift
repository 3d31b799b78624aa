import ProtoPprof

/// A call tree cut to at most `maxNodes` nodes, ready to draw.
///
/// Truncation follows Pyroscope: the nodes with the largest totals stay, and each parent's remaining
/// children merge into one `other` child. Unlike Pyroscope, `maxNodes` is a hard bound: ties at the cut
/// and the `other` nodes count against it. Pyroscope's cut hides a function whose large self value is
/// spread thin over many small stacks (pyroscope#2729); here one eighth of the node budget is reserved for
/// such functions: inside each `other`, the heaviest hidden self functions of the merged subtrees get a
/// child of their own, so the flame graph (and any table computed from it) still shows them.
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

        let truncate = maxNodes > 0 && n - 1 > maxNodes
        let reserve = truncate ? maxNodes / 8 : 0
        func keptNodes(budget: Int) -> (kept: [Bool], minTotal: Int64) {
            var kept = truncate ? selectKept(tree.shape, score: tree.total, budget: budget) : [Bool](repeating: true, count: n)
            for i in 1 ..< max(n, 1) where tree.nodeName[i] == realOther || !kept[Int(tree.parent[i])] { kept[i] = false }
            guard kept.contains(false) else { return (kept, 0) }
            var minTotal = Int64.max
            for i in 1 ..< n where kept[i] { minTotal = min(minTotal, tree.total[i]) }
            return (kept, minTotal == Int64.max ? 0 : minTotal)
        }
        var (kept, minTotal) = keptNodes(budget: maxNodes - reserve)

        // Hidden self functions, surfaced inside the `other` of the parent they were cut from.
        var surfaced: [Int32: [(name: Int32, value: Int64)]] = [:]
        var surfacedCount = 0
        if reserve > 0 {
            let global = tree.selfByName()
            var visible = [Int64](repeating: 0, count: tree.names.count)
            for i in 1 ..< n where kept[i] { visible[Int(tree.nodeName[i])] &+= tree.selfValue[i] }
            // A function qualifies when the cut hides at least 1% of the total of its self value...
            let threshold = max(1, (tree.totalValue + 99) / 100)
            let hot = tree.names.indices
                .filter { global[$0] - visible[$0] >= threshold }
                .sorted { a, b in
                    let ha = global[a] - visible[a]
                    let hb = global[b] - visible[b]
                    return ha != hb ? ha > hb : tree.nameRank[a] < tree.nameRank[b]
                }
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
                // ...and a surfaced node must weigh at least as much as the smallest node that was kept.
                // Ties go to the leftmost group, then the first name: the same whatever the node numbering.
                let best = sums.filter { $0.value >= minTotal }
                    .map { (group: Int32(truncatingIfNeeded: $0.key >> 32), name: Int32(truncatingIfNeeded: $0.key & 0xffff_ffff), value: $0.value) }
                    .sorted { a, b in
                        if a.value != b.value { return a.value > b.value }
                        let pa = tree.shape.preorderPosition(Int(a.group))
                        let pb = tree.shape.preorderPosition(Int(b.group))
                        return pa != pb ? pa < pb : tree.nameRank[Int(a.name)] < tree.nameRank[Int(b.name)]
                    }
                    .prefix(reserve)
                for entry in best { surfaced[entry.group, default: []].append((entry.name, entry.value)) }
                surfacedCount = best.count
            }
            // Nothing worth surfacing: the reserve goes back to ordinary nodes.
            if surfacedCount == 0 { (kept, minTotal) = keptNodes(budget: maxNodes) }
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

        let (counts, list) = childIndex(parent: outParent)
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

    /// The name of a node as drawn.
    public func name(of node: Int) -> String { names[Int(nodeName[node])] }
}

/// The nodes to keep under a budget that counts the `other` nodes too.
///
/// Nodes rank by score (descending; the total for a flame graph), then depth, then pre-order position.
/// A parent's score is never below its child's (without negative values), so every prefix of the ranking is a connected tree.
/// The best `budget` nodes are taken best first from the root: the best node not yet taken is always a child
/// of a taken one, so a max-heap over the children of the taken nodes yields the ranking in order, and only
/// those children are ever looked at. (Scores that do not descend, from negative values, take the depth-first
/// walk that keeps the best `budget` seen so far in a min-heap.) Then the lowest-ranked nodes are dropped until the kept nodes plus one
/// `other` per parent with dropped children fit the budget.
func selectKept(_ tree: TreeShape, score: [Int64], budget: Int) -> [Bool] {
    let n = tree.nodeCount
    var kept = [Bool](repeating: false, count: n)
    kept[0] = true
    guard budget > 1 else { return kept }
    var selected = bestNodes(tree, score: score, count: budget)
    for r in selected { kept[Int(r.node)] = true }
    // Parents with dropped children each get an `other`.
    var keptChildren = [Int32](repeating: 0, count: n)
    for r in selected { keptChildren[Int(tree.parent[Int(r.node)])] += 1 }
    func childCount(_ node: Int) -> Int32 { Int32(tree.children(of: node).count) }
    var others = 0
    if keptChildren[0] < childCount(0) { others += 1 }
    for r in selected where keptChildren[Int(r.node)] < childCount(Int(r.node)) { others += 1 }
    while selected.count + others > budget, let last = selected.popLast() {
        // The lowest-ranked kept node has no kept children: drop it and its `other`.
        let node = Int(last.node)
        kept[node] = false
        if childCount(node) > 0 { others -= 1 }
        let p = Int(tree.parent[node])
        if keptChildren[p] == childCount(p) { others += 1 }
        keptChildren[p] -= 1
    }
    return kept
}

/// The best `count` nodes but the root, best first (`NodeRank` order). `bestFirst`: nil picks by the scores
/// (best first when they descend from parent to child, else the depth-first walk); tests force either.
func bestNodes(_ tree: TreeShape, score: [Int64], count budget: Int, bestFirst: Bool? = nil) -> [NodeRank] {
    let n = tree.nodeCount
    func rank(_ node: Int32) -> BestFirst {
        BestFirst(rank: NodeRank(total: score[Int(node)], depth: tree.depth[Int(node)], index: tree.preorderPosition(Int(node)), node: node))
    }
    if bestFirst ?? scoresDescend(tree, score) {
        var frontier = MinHeap<BestFirst>(capacity: min(n, 4 * budget))
        for c in tree.children(of: 0) { frontier.push(rank(c)) }
        var selected: [NodeRank] = []
        selected.reserveCapacity(min(n, budget))
        while selected.count < budget, let best = frontier.popMin() {
            selected.append(best.rank)
            for c in tree.children(of: Int(best.rank.node)) { frontier.push(rank(c)) }
        }
        return selected
    }
    // Negative values (a delta profile) can make a child outscore its parent: the ranking is then not
    // best-first from the root. The depth-first walk with a min-heap of the best `budget` so far, skipping
    // subtrees whose root cannot enter it, as it always did.
    var heap = MinHeap<NodeRank>(capacity: budget)
    var stack: [Int32] = Array(tree.children(of: 0))
    while let node = stack.popLast() {
        let r = rank(node).rank
        if heap.count >= budget {
            if !(heap.min < r) { continue }
            heap.replaceMin(r)
        } else {
            heap.push(r)
        }
        stack.append(contentsOf: tree.children(of: Int(node)))
    }
    return heap.items.sorted { $1 < $0 }
}

/// Whether no node's score exceeds its parent's (always so without negative values).
func scoresDescend(_ tree: TreeShape, _ score: [Int64]) -> Bool {
    score.withUnsafeBufferPointer { score in
        tree.parent.withUnsafeBufferPointer { parent in
            var ok = true
            for i in 1 ..< max(score.count, 1) { ok = ok && score[i] <= score[Int(parent[i])] }
            return ok
        }
    }
}

/// How a node ranks for truncation: larger score first, then shallower, then earlier in pre-order
/// (leftmost in the drawing).
struct NodeRank: Comparable {
    var total: Int64
    var depth: Int32
    /// Pre-order position: the tie-break.
    var index: Int32
    var node: Int32

    static func < (a: NodeRank, b: NodeRank) -> Bool {
        if a.total != b.total { return a.total < b.total }
        if a.depth != b.depth { return a.depth > b.depth }
        return a.index > b.index
    }
}

/// A node rank ordered best first, for a min-heap that pops the best node.
struct BestFirst: Comparable {
    var rank: NodeRank
    static func < (a: BestFirst, b: BestFirst) -> Bool { b.rank < a.rank }
}

struct MinHeap<Element: Comparable> {
    private(set) var items: [Element] = []

    init(capacity: Int) { items.reserveCapacity(capacity) }

    var count: Int { items.count }
    var min: Element { items[0] }

    mutating func push(_ value: Element) {
        items.append(value)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if !(items[i] < items[p]) { break }
            items.swapAt(p, i)
            i = p
        }
    }

    /// Removes and returns the smallest element, nil when empty.
    mutating func popMin() -> Element? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let smallest = items[0]
        replaceMin(last)
        return smallest
    }

    mutating func replaceMin(_ value: Element) {
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
