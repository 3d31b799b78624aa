import ProtoPprof

#if canImport(Glibc)
import Glibc
#endif

/// Bytewise (Go's `<` on strings) comparison through memcmp on the contiguous UTF-8 storage.
@inline(__always)
func bytewiseLess(_ a: String, _ b: String) -> Bool {
    var a = a
    var b = b
    return a.withUTF8 { pa in
        b.withUTF8 { pb in
            let n = min(pa.count, pb.count)
            let r = n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n)
            return r != 0 ? r < 0 : pa.count < pb.count
        }
    }
}

/// Children of every node as one flat list: node `p`'s children are `list[offsets[p] ..< offsets[p+1]]`,
/// in index order. `parent[0]` is the root's (ignored); every other parent index is smaller than its child's.
func childIndex(parent: [Int32]) -> (offsets: [Int32], list: [Int32]) {
    let n = parent.count
    var offsets = [Int32](repeating: 0, count: n + 1)
    for i in 1 ..< max(n, 1) { offsets[Int(parent[i]) + 1] += 1 }
    for i in 0 ..< n { offsets[i + 1] += offsets[i] }
    var fill = offsets
    var list = [Int32](repeating: 0, count: max(0, n - 1))
    for i in 1 ..< max(n, 1) {
        let p = Int(parent[i])
        list[Int(fill[p])] = Int32(i)
        fill[p] += 1
    }
    return (offsets, list)
}

/// The shape of a tree: names, parents, depths and children sorted bytewise by name.
/// Node 0 is the virtual root; a parent always has a smaller index than its children.
public struct TreeShape: Sendable {
    /// Frame names; `nodeName` indexes this array.
    public let names: [String]
    public let nodeName: [Int32]
    public let parent: [Int32]
    public let depth: [Int32]
    let childOffsets: [Int32]
    let childList: [Int32]
    /// Position of each name in bytewise order.
    let nameRank: [Int32]
    /// Each node's position in a depth-first pre-order walk with children in name order; nil when that is
    /// the node's index already (trees from the sorted builder). A canonical order, whatever the construction.
    let preorder: [Int32]?

    public var nodeCount: Int { nodeName.count }

    @inline(__always)
    func preorderPosition(_ node: Int) -> Int32 { preorder?[node] ?? Int32(node) }

    /// Children of `node`, sorted bytewise by name.
    public func children(of node: Int) -> ArraySlice<Int32> {
        childList[Int(childOffsets[node]) ..< Int(childOffsets[node + 1])]
    }

    /// The names from the root's child down to `node`.
    public func path(of node: Int) -> [String] {
        var parts: [String] = []
        var n = node
        while n > 0 {
            parts.append(names[Int(nodeName[n])])
            n = Int(parent[n])
        }
        return parts.reversed()
    }

    /// `childrenSorted`: nodes were created in bytewise name order under each parent (the sorted builder).
    /// `rank`: the names' bytewise ranks when the caller has them (`rankNames(names)`), else computed here.
    init(names: [String], nodeName: [Int32], parent: [Int32], childrenSorted: Bool = false, rank: [Int32]? = nil) {
        self.names = names
        self.nodeName = nodeName
        self.parent = parent
        let rank = rank ?? Self.rankNames(names)
        self.nameRank = rank
        let n = nodeName.count
        var depth = [Int32](repeating: 0, count: n)
        for i in 1 ..< max(n, 1) { depth[i] = depth[Int(parent[i])] + 1 }
        var (counts, list) = childIndex(parent: parent)
        for p in 0 ..< n where !childrenSorted && counts[p + 1] - counts[p] > 1 {
            list[Int(counts[p]) ..< Int(counts[p + 1])].sort { rank[Int(nodeName[Int($0)])] < rank[Int(nodeName[Int($1)])] }
        }
        self.depth = depth
        self.childOffsets = counts
        self.childList = list
        if childrenSorted {
            self.preorder = nil
        } else {
            var order = [Int32](repeating: 0, count: n)
            var stack: [Int32] = n > 0 ? [0] : []
            var position: Int32 = 0
            while let node = stack.popLast() {
                order[Int(node)] = position
                position += 1
                stack.append(contentsOf: list[Int(counts[Int(node)]) ..< Int(counts[Int(node) + 1])].reversed())
            }
            self.preorder = order
        }
    }

    /// Each name's position in bytewise order (equal names in index order).
    ///
    /// An MSD sort by 8-byte chunks: names sort by their first 8 bytes (big-endian, zero-padded, with how many
    /// of them are real), and each run that ties on 8 real bytes sorts again by the 8 after the prefix all its
    /// names share. Names with long common prefixes (package paths) cost a few integer sorts, not a memcmp of
    /// the prefix per comparison.
    static func rankNames(_ names: [String]) -> [Int32] {
        // All names in one contiguous buffer with 8 bytes of padding, so an 8-byte load never reads past it.
        var bytes: [UInt8] = []
        var starts = [Int](repeating: 0, count: names.count + 1)
        for (i, name) in names.enumerated() {
            bytes.append(contentsOf: name.utf8)
            starts[i + 1] = bytes.count
        }
        bytes.append(contentsOf: repeatElement(0, count: 8))
        /// One name's chunk: its bytes at the current offset, how many of them are real (9: more follow), its id.
        struct ChunkKey: Comparable {
            var word: UInt64
            var real: Int32
            var id: Int32

            @inline(__always)
            static func < (a: ChunkKey, b: ChunkKey) -> Bool {
                if a.word != b.word { return a.word < b.word }
                if a.real != b.real { return a.real < b.real }
                return a.id < b.id
            }
        }
        var order = (0 ..< Int32(names.count)).map { $0 }
        var keys: [ChunkKey] = []
        // Ranges of `order` still to sort, with the byte offset their names tie up to.
        var pending: [(range: Range<Int>, offset: Int)] = names.count > 1 ? [(0 ..< names.count, 0)] : []
        bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            while let (range, tiedOffset) = pending.popLast() {
                // Skip the bytes every name of the range shares (package paths): one pass, not a sort per chunk.
                var offset = tiedOffset
                let first = Int(order[range.lowerBound])
                var common = starts[first + 1] - starts[first] - offset
                for id in order[range.dropFirst()] where common > 0 {
                    let a = starts[first] + offset
                    let b = starts[Int(id)] + offset
                    let limit = min(common, starts[Int(id) + 1] - b)
                    var k = 0
                    while k + 8 <= limit
                        && (base + a + k).loadUnaligned(as: UInt64.self) == (base + b + k).loadUnaligned(as: UInt64.self)
                    {
                        k += 8
                    }
                    while k < limit && buffer[a + k] == buffer[b + k] { k += 1 }
                    common = k
                }
                offset += max(common, 0)
                keys.removeAll(keepingCapacity: true)
                for id in order[range] {
                    let start = starts[Int(id)] + offset
                    let remaining = starts[Int(id) + 1] - start
                    var word = UInt64(bigEndian: (base + start).loadUnaligned(as: UInt64.self))
                    if remaining < 8 { word = remaining == 0 ? 0 : word & ~(UInt64.max >> (8 * remaining)) }
                    keys.append(ChunkKey(word: word, real: Int32(min(remaining, 9)), id: id))
                }
                keys.sort()
                var i = 0
                while i < keys.count {
                    order[range.lowerBound + i] = keys[i].id
                    var j = i + 1
                    if keys[i].real == 9 {
                        while j < keys.count && keys[j].word == keys[i].word { j += 1 }
                        if j - i > 1 { pending.append((range.lowerBound + i ..< range.lowerBound + j, offset + 8)) }
                    }
                    for k in i + 1 ..< max(j, i + 1) { order[range.lowerBound + k] = keys[k].id }
                    i = j
                }
            }
        }
        var rank = [Int32](repeating: 0, count: names.count)
        for (position, id) in order.enumerated() { rank[Int(id)] = Int32(position) }
        return rank
    }
}

/// A call tree for one sample type: root to leaf, one node per distinct path of frame names.
///
/// Node 0 is the virtual root. Arrays are indexed by node; a parent always has a smaller index
/// than its children. `children(of:)` lists children sorted bytewise by name, as Pyroscope does.
public struct CallTree: Sendable {
    public let shape: TreeShape
    public let total: [Int64]
    public let selfValue: [Int64]
    public let sampleType: ValueType

    public var names: [String] { shape.names }
    public var nodeName: [Int32] { shape.nodeName }
    public var parent: [Int32] { shape.parent }
    public var depth: [Int32] { shape.depth }
    var nameRank: [Int32] { shape.nameRank }
    public var nodeCount: Int { shape.nodeCount }
    /// The root's total: the sum of all values in the tree.
    public var totalValue: Int64 { total[0] }

    /// Children of `node`, sorted bytewise by name.
    public func children(of node: Int) -> ArraySlice<Int32> { shape.children(of: node) }

    /// The names from the root's child down to `node`.
    public func path(of node: Int) -> [String] { shape.path(of: node) }

    /// Builds the tree of a profile: selection, filters and frame naming from `options`.
    public init(profile: Profile, options: TreeOptions = TreeOptions(), construction: Construction = .sorted) throws(FlameDiffError) {
        let stacks = try StackSet(profile: profile, options: options)
        let frames = FrameTable(profile: profile, key: options.frameKey)
        self.init(stacks: stacks, frames: frames, construction: construction, threads: options.threads)
    }

    /// How a tree is built; both give the same tree up to node numbering, and the same output.
    public enum Construction: Sendable {
        /// Sort the stacks, then lay the tree out in one pass without lookups (the default).
        case sorted
        /// Walk every stack through a hash table of (parent, name) -> child: the straightforward reference.
        case hashed
    }

    /// Builds the tree from merged stacks and per-location frames. `threads`: 2 builds a large tree on two
    /// threads (the sorted construction), 1 on one; the tree is the same. By default the process's setting.
    public init(stacks: StackSet, frames: FrameTable, construction: Construction = .sorted, threads: Int = Parallelism.threads) {
        self.init(
            stacks: stacks, frames: frames, construction: construction, threads: threads,
            minimumStacksForTwoThreads: SortedTreeBuilder.minimumStacksForTwoThreads)
    }

    /// `minimumStacksForTwoThreads`: tests lower it so that small trees take the two-thread path too.
    init(stacks: StackSet, frames: FrameTable, construction: Construction, threads: Int, minimumStacksForTwoThreads: Int) {
        let identity = Array(0 ..< Int32(frames.names.count))
        switch construction {
        case .sorted:
            let built = SortedTreeBuilder.build(
                sources: [StackSource(stacks: stacks, frames: frames, nameMap: identity, column: 0)], names: frames.names,
                columns: 1, threads: threads, minimumStacksForTwoThreads: minimumStacksForTwoThreads)
            if threads >= 2 && stacks.count >= minimumStacksForTwoThreads {
                // The shape (depths, child lists) and the totals read only the built arrays: one thread each.
                let names = frames.names
                let (shape, total) = concurrently(
                    {
                        TreeShape(names: names, nodeName: built.nodeName, parent: built.parent, childrenSorted: true, rank: built.rank)
                    },
                    { DiffTree.totals(built.selfValues, parent: built.parent) })
                self.init(shape: shape, selfValue: built.selfValues, total: total, sampleType: stacks.sampleType)
                return
            }
            self.init(
                shape: TreeShape(
                    names: frames.names, nodeName: built.nodeName, parent: built.parent, childrenSorted: true, rank: built.rank),
                selfValue: built.selfValues, sampleType: stacks.sampleType)
        case .hashed:
            var builder = TreeBuilder(columns: 1, expectedNodes: max(16, stacks.locations.count / 4))
            builder.insert(stacks, frames: frames, nameMap: identity, column: 0)
            self.init(builder: builder, names: frames.names, sampleType: stacks.sampleType)
        }
    }

    /// Builds a tree from literal stacks (root first), e.g. `[(["a", "b"], 3)]`. For tests and folded input.
    public init(stacks: [([String], Int64)], sampleType: ValueType = ValueType(type: "samples", unit: "count")) {
        var interner = NameInterner()
        var builder = TreeBuilder(columns: 1, expectedNodes: 16)
        for (path, value) in stacks where value != 0 {
            var node: Int32 = 0
            for name in path { node = builder.child(of: node, name: interner.id(name)) }
            builder.addSelf(node, column: 0, value)
        }
        self.init(builder: builder, names: interner.names, sampleType: sampleType)
    }

    init(builder: TreeBuilder, names: [String], sampleType: ValueType) {
        self.init(
            shape: TreeShape(names: names, nodeName: builder.nodeName, parent: builder.parent),
            selfValue: builder.selfValues, sampleType: sampleType)
    }

    init(shape: TreeShape, selfValue: [Int64], sampleType: ValueType) {
        self.shape = shape
        self.selfValue = selfValue
        self.total = DiffTree.totals(selfValue, parent: shape.parent)
        self.sampleType = sampleType
    }

    /// `total`: `DiffTree.totals(selfValue, parent: shape.parent)`, computed by the caller.
    init(shape: TreeShape, selfValue: [Int64], total: [Int64], sampleType: ValueType) {
        self.shape = shape
        self.selfValue = selfValue
        self.total = total
        self.sampleType = sampleType
    }

    /// Self value per name id, summed over all nodes.
    public func selfByName() -> [Int64] {
        var sums = [Int64](repeating: 0, count: names.count)
        for i in 1 ..< nodeCount { sums[Int(nodeName[i])] &+= selfValue[i] }
        return sums
    }
}

/// Grows a call tree node by node; children are found through an integer hash table keyed by (parent, name).
/// Each node holds `columns` self values (one for a flame graph, two for a diff), stored interleaved.
struct TreeBuilder {
    let columns: Int
    var nodeName: [Int32] = [-1]
    var parent: [Int32] = [-1]
    var selfValues: [Int64]
    private var keys: [UInt64]
    private var slots: [Int32]
    private var mask: Int

    init(columns: Int, expectedNodes: Int) {
        self.columns = columns
        selfValues = [Int64](repeating: 0, count: columns)
        var capacity = 1024
        while capacity < expectedNodes * 2 { capacity <<= 1 }
        keys = [UInt64](repeating: 0, count: capacity)
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        nodeName.reserveCapacity(expectedNodes)
        parent.reserveCapacity(expectedNodes)
        selfValues.reserveCapacity(expectedNodes * columns)
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        return Int(truncatingIfNeeded: h) & mask
    }

    @inline(__always)
    mutating func child(of node: Int32, name: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: node)) << 32 | UInt64(UInt32(bitPattern: name))
        var i = Self.slot(key, mask)
        while true {
            let found = slots[i]
            if found < 0 { break }
            if keys[i] == key { return found }
            i = (i + 1) & mask
        }
        let id = Int32(nodeName.count)
        nodeName.append(name)
        parent.append(node)
        for _ in 0 ..< columns { selfValues.append(0) }
        keys[i] = key
        slots[i] = id
        if nodeName.count * 2 > slots.count { grow() }
        return id
    }

    @inline(__always)
    mutating func addSelf(_ node: Int32, column: Int, _ value: Int64) {
        selfValues[Int(node) * columns + column] &+= value
    }

    /// Walks every stack from the root (last location) to the leaf and adds its value to the leaf's node.
    /// `nameMap` translates the frame table's name ids into this tree's, when several profiles share a tree.
    mutating func insert(_ stacks: StackSet, frames: FrameTable, nameMap: [Int32], column: Int) {
        nameMap.withUnsafeBufferPointer { nameMap in
        stacks.locations.withUnsafeBufferPointer { locations in
            frames.frames.withUnsafeBufferPointer { frameNames in
                frames.frameOffsets.withUnsafeBufferPointer { frameOffsets in
                    for s in 0 ..< stacks.count {
                        var node: Int32 = 0
                        let range = stacks.range(s)
                        let start = range.lowerBound
                        var i = range.upperBound - 1
                        while i >= start {
                            let location = Int(locations[i])
                            for f in Int(frameOffsets[location]) ..< Int(frameOffsets[location + 1]) {
                                let name = frameNames[f]
                                node = child(of: node, name: nameMap[Int(name)])
                            }
                            i -= 1
                        }
                        addSelf(node, column: column, stacks.values[s])
                    }
                }
            }
        }
        }
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        var newKeys = [UInt64](repeating: 0, count: capacity)
        var newSlots = [Int32](repeating: -1, count: capacity)
        let newMask = capacity - 1
        for i in 0 ..< slots.count where slots[i] >= 0 {
            var j = Self.slot(keys[i], newMask)
            while newSlots[j] >= 0 { j = (j + 1) & newMask }
            newKeys[j] = keys[i]
            newSlots[j] = slots[i]
        }
        keys = newKeys
        slots = newSlots
        mask = newMask
    }

    /// Self values of one column.
    func selfColumn(_ column: Int) -> [Int64] {
        if columns == 1 { return selfValues }
        return (0 ..< nodeName.count).map { selfValues[$0 * columns + column] }
    }
}
