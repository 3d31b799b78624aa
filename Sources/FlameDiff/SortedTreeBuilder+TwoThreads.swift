#if canImport(Glibc)
import Glibc
#endif

/// `SortedTreeBuilder.build` on two threads: the same tree, array for array.
///
/// Every step of the one-thread build is split in two halves that run at once:
/// 1. the names' ranks | each stack's length, value and column (prefix sums give each stack's offset);
/// 2. each half of the stacks writes its sequences, then sorts its own keys;
/// 3. the two sorted halves are merged from both ends at once (the front takes the left key on a tie, the
///    back the right one, so together they make the stable merge), and each half of the positions computes
///    its prefix in common with the position before it;
/// 4. each half of the positions creates its nodes into arrays allocated once: the ids are prefix sums of
///    (length - common), and the second half's path at its first position is found by scanning back.
///
/// Equal sequences may meet in another order than on one thread; they create no nodes and only add to the
/// same leaf, so the tree is the same. A leaf that the other half created is added to after both halves are
/// done, so each half writes only its own nodes.
extension SortedTreeBuilder {
    /// Fewer stacks than this are built on one thread: starting the second costs more than it saves.
    static let minimumStacksForTwoThreads = 4096

    /// What the sort compares, without reading any other array.
    struct SortKey: Sendable {
        var start: Int32
        var length: Int32
        /// The stack's index over all sources.
        var index: Int32
    }

    @inline(__always)
    static func sequenceLess(_ a: SortKey, _ b: SortKey, _ base: UnsafePointer<UInt32>) -> Bool {
        let n = Int(min(a.length, b.length))
        if n > 0 {
            let r = memcmp(base + Int(a.start), base + Int(b.start), n * 4)
            if r != 0 { return r < 0 }
        }
        return a.length < b.length
    }

    /// Where every stack's sequence goes, and what its leaf adds: stacks of all sources, in order.
    struct SequenceLayout: Sendable {
        /// Per source, the index of its first stack.
        var firstStack: [Int]
        var start: [Int32]
        var length: [Int32]
        var column: [UInt8]
        var value: [Int64]
        /// All sequences' lengths together.
        var total: Int

        init(sources: [StackSource]) {
            let stackCount = sources.reduce(0) { $0 + $1.stacks.count }
            var firstStack: [Int] = []
            var start: [Int32] = []
            var length: [Int32] = []
            var column: [UInt8] = []
            var value: [Int64] = []
            start.reserveCapacity(stackCount)
            length.reserveCapacity(stackCount)
            column.reserveCapacity(stackCount)
            value.reserveCapacity(stackCount)
            var k = 0
            for source in sources {
                firstStack.append(start.count)
                source.stacks.locations.withUnsafeBufferPointer { locations in
                    source.frames.frameOffsets.withUnsafeBufferPointer { frameOffsets in
                        for s in 0 ..< source.stacks.count {
                            var n = 0
                            for i in source.stacks.range(s) {
                                let l = Int(locations[i])
                                n += Int(frameOffsets[l + 1] - frameOffsets[l])
                            }
                            start.append(Int32(k))
                            length.append(Int32(n))
                            k += n
                        }
                    }
                }
                column += repeatElement(UInt8(source.column), count: source.stacks.count)
                value += source.stacks.values
            }
            self.firstStack = firstStack
            self.start = start
            self.length = length
            self.column = column
            self.value = value
            total = k
        }
    }

    static func buildOnTwoThreads(sources: [StackSource], names: [String], columns: Int) -> Result {
        let (rank, layout) = concurrently({ TreeShape.rankNames(names) }, { SequenceLayout(sources: sources) })
        let nameOfRank = [Int32](unsafeUninitializedCapacity: names.count) { out, count in
            for (id, r) in rank.enumerated() { out[Int(r)] = Int32(id) }
            count = names.count
        }
        let stackCount = layout.start.count
        // Per source, per frame: its big-endian rank.
        let frameRanks = sources.map { source in
            source.frames.frames.map { UInt32(rank[Int(source.nameMap[Int($0)])]).bigEndian }
        }

        // 2. Sequences and sorted keys, per half of the stacks (split at half the frames).
        let half = layout.start.partitioningIndex { Int($0) >= layout.total / 2 }
        var sortedHalves: ([SortKey], [SortKey]) = ([], [])
        let sequences = [UInt32](unsafeUninitializedCapacity: max(layout.total, 1)) { out, written in
            let out = DisjointWrites(out)
            @Sendable func writeAndSort(_ stacks: Range<Int>) -> [SortKey] {
                writeSequences(of: stacks, sources: sources, layout: layout, frameRanks: frameRanks, into: out)
                var keys = stacks.map { SortKey(start: layout.start[$0], length: layout.length[$0], index: Int32($0)) }
                let base = UnsafePointer(out.base)
                keys.sort { sequenceLess($0, $1, base) }
                return keys
            }
            sortedHalves = concurrently({ writeAndSort(0 ..< half) }, { writeAndSort(half ..< stackCount) })
            written = layout.total
        }

        // 3. The merged order and each position's prefix in common with the one before.
        let (left, right) = sortedHalves
        sortedHalves = ([], [])
        let middle = stackCount / 2
        var keys: [SortKey] = []
        let common = [Int32](unsafeUninitializedCapacity: stackCount) { commonOut, commonCount in
            let commonOut = DisjointWrites(commonOut)
            keys = [SortKey](unsafeUninitializedCapacity: stackCount) { keysOut, keysCount in
                let keysOut = DisjointWrites(keysOut)
                _ = concurrently(
                    {
                        mergeFront(left, right, count: middle, sequences: sequences, into: keysOut)
                        commonPrefixes(of: 0 ..< middle, keys: keysOut, sequences: sequences, into: commonOut)
                    },
                    {
                        mergeBack(left, right, from: middle, sequences: sequences, into: keysOut)
                        commonPrefixes(of: min(middle + 1, stackCount) ..< stackCount, keys: keysOut, sequences: sequences, into: commonOut)
                    })
                if middle < stackCount {
                    commonPrefixes(of: middle ..< middle + 1, keys: keysOut, sequences: sequences, into: commonOut)
                }
                keysCount = stackCount
            }
            commonCount = stackCount
        }

        // 4. Node ids: the first node each position creates; then the nodes, per half of them.
        var firstNode = [Int32](repeating: 0, count: stackCount + 1)
        firstNode[0] = 1
        for p in 0 ..< stackCount { firstNode[p + 1] = firstNode[p] + keys[p].length - common[p] }
        let nodeCount = Int(firstNode[stackCount])
        let split = firstNode.prefix(stackCount).partitioningIndex { Int($0) >= (nodeCount + 1) / 2 }
        let firstNodeIDs = firstNode
        let sortedKeys = keys
        var parent: [Int32] = []
        var selfValues: [Int64] = []
        var deferred: ([LeafValue], [LeafValue]) = ([], [])
        let nodeName = [Int32](unsafeUninitializedCapacity: nodeCount) { nameBuffer, nameCount in
            parent = [Int32](unsafeUninitializedCapacity: nodeCount) { parentBuffer, parentCount in
                selfValues = [Int64](unsafeUninitializedCapacity: nodeCount * columns) { selfBuffer, selfCount in
                    let out = NodeWrites(
                        nodeName: DisjointWrites(nameBuffer), parent: DisjointWrites(parentBuffer), selfValues: DisjointWrites(selfBuffer),
                        columns: columns)
                    out.nodeName.set(0, -1)
                    out.parent.set(0, -1)
                    for c in 0 ..< columns { out.selfValues.set(c, 0) }
                    @Sendable func create(_ positions: Range<Int>) -> [LeafValue] {
                        createNodes(
                            positions: positions, keys: sortedKeys, common: common, firstNode: firstNodeIDs, sequences: sequences,
                            nameOfRank: nameOfRank, layout: layout, into: out)
                    }
                    deferred = concurrently({ create(0 ..< split) }, { create(split ..< stackCount) })
                    selfCount = nodeCount * columns
                }
                parentCount = nodeCount
            }
            nameCount = nodeCount
        }
        for leaf in deferred.0 + deferred.1 {
            selfValues[Int(leaf.node) * columns + Int(leaf.column)] &+= leaf.value
        }
        return Result(nodeName: nodeName, parent: parent, selfValues: selfValues, rank: rank)
    }

    /// Writes the sequences of `stacks` (indices over all sources) at their layout offsets.
    private static func writeSequences(
        of stacks: Range<Int>, sources: [StackSource], layout: SequenceLayout, frameRanks: [[UInt32]],
        into out: DisjointWrites<UInt32>
    ) {
        for (sourceIndex, source) in sources.enumerated() {
            let first = layout.firstStack[sourceIndex]
            let mine = stacks.clamped(to: first ..< first + source.stacks.count)
            if mine.isEmpty { continue }
            frameRanks[sourceIndex].withUnsafeBufferPointer { frameRanks in
                source.stacks.locations.withUnsafeBufferPointer { locations in
                    source.frames.frameOffsets.withUnsafeBufferPointer { frameOffsets in
                        for g in mine {
                            var k = Int(layout.start[g])
                            let range = source.stacks.range(g - first)
                            let start = range.lowerBound
                            var i = range.upperBound - 1
                            while i >= start {
                                let l = Int(locations[i])
                                for f in Int(frameOffsets[l]) ..< Int(frameOffsets[l + 1]) {
                                    out.set(k, frameRanks[f])
                                    k += 1
                                }
                                i -= 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// The first `count` keys of the stable merge of `left` and `right`: a tie takes the left key.
    private static func mergeFront(
        _ left: [SortKey], _ right: [SortKey], count: Int, sequences: [UInt32], into out: DisjointWrites<SortKey>
    ) {
        sequences.withUnsafeBufferPointer { seq in
            let base = seq.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<UInt32>.alignment)!  // memcmp reads nothing then
            var i = 0
            var j = 0
            for p in 0 ..< count {
                if j == right.count || (i < left.count && !sequenceLess(right[j], left[i], base)) {
                    out.set(p, left[i])
                    i += 1
                } else {
                    out.set(p, right[j])
                    j += 1
                }
            }
        }
    }

    /// The keys of the stable merge of `left` and `right` from position `from` on, merged from the end: a
    /// tie takes the right key (it comes after the left one).
    private static func mergeBack(
        _ left: [SortKey], _ right: [SortKey], from: Int, sequences: [UInt32], into out: DisjointWrites<SortKey>
    ) {
        sequences.withUnsafeBufferPointer { seq in
            let base = seq.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<UInt32>.alignment)!  // memcmp reads nothing then
            var i = left.count - 1
            var j = right.count - 1
            var p = left.count + right.count - 1
            while p >= from {
                if j < 0 || (i >= 0 && sequenceLess(right[j], left[i], base)) {
                    out.set(p, left[i])
                    i -= 1
                } else {
                    out.set(p, right[j])
                    j -= 1
                }
                p -= 1
            }
        }
    }

    /// Each position's prefix in common with the position before it (0 for the first). Reads the keys at
    /// `positions` and the one before them.
    private static func commonPrefixes(
        of positions: Range<Int>, keys: DisjointWrites<SortKey>, sequences: [UInt32], into out: DisjointWrites<Int32>
    ) {
        sequences.withUnsafeBufferPointer { seq in
            for p in positions {
                let key = keys[p]
                guard p > 0 else {
                    out.set(p, 0)
                    continue
                }
                let previous = keys[p - 1]
                let start = Int(key.start)
                let previousStart = Int(previous.start)
                var c = 0
                let limit = Int(min(key.length, previous.length))
                while c < limit && seq[start + c] == seq[previousStart + c] { c += 1 }
                out.set(p, Int32(c))
            }
        }
    }

    /// A value for a leaf that another half created (or the root): added after both halves are done.
    struct LeafValue: Sendable {
        var node: Int32
        var column: UInt8
        var value: Int64
    }

    /// The node arrays, filled by two halves at disjoint node ids.
    struct NodeWrites: Sendable {
        var nodeName: DisjointWrites<Int32>
        var parent: DisjointWrites<Int32>
        var selfValues: DisjointWrites<Int64>
        var columns: Int
    }

    /// Creates the nodes of `positions` (ids `firstNode[positions.lowerBound] ..< firstNode[positions.upperBound]`)
    /// and adds each stack's value to its leaf when the leaf is one of them.
    private static func createNodes(
        positions: Range<Int>, keys: [SortKey], common: [Int32], firstNode: [Int32], sequences: [UInt32], nameOfRank: [Int32],
        layout: SequenceLayout, into out: NodeWrites
    ) -> [LeafValue] {
        guard let first = positions.first else { return [] }
        let columns = out.columns
        let ownFirst = firstNode[first]
        // The path at `first`: the node at depth d < common[first] was created at the last q < first with
        // common[q] <= d, as that position's node number d - common[q].
        var path = [Int32](repeating: 0, count: Int(common[first]))
        var need = Int(common[first])
        var q = first - 1
        while need > 0 {
            let c = Int(common[q])
            if c < need {
                for d in c ..< need { path[d] = firstNode[q] + Int32(d - c) }
                need = c
            }
            q -= 1
        }
        var deferred: [LeafValue] = []
        var id = Int(ownFirst)
        sequences.withUnsafeBufferPointer { seq in
            for p in positions {
                let key = keys[p]
                let start = Int(key.start)
                let length = Int(key.length)
                let common = Int(common[p])
                path.removeSubrange(common...)
                for d in common ..< length {
                    out.nodeName.set(id, nameOfRank[Int(UInt32(bigEndian: seq[start + d]))])
                    out.parent.set(id, d == 0 ? 0 : path[d - 1])
                    for c in 0 ..< columns { out.selfValues.set(id * columns + c, 0) }
                    path.append(Int32(id))
                    id += 1
                }
                let leaf = length == 0 ? 0 : path[length - 1]
                let s = Int(key.index)
                if leaf < ownFirst {
                    deferred.append(LeafValue(node: leaf, column: layout.column[s], value: layout.value[s]))
                } else {
                    out.selfValues[Int(leaf) * columns + Int(layout.column[s])] &+= layout.value[s]
                }
            }
        }
        return deferred
    }
}

extension Collection {
    /// The index of the first element for which `belongs` holds, when it holds for a suffix (binary search).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Index {
        var low = startIndex
        var count = self.count
        while count > 0 {
            let step = count / 2
            let middle = index(low, offsetBy: step)
            if belongs(self[middle]) {
                count = step
            } else {
                low = index(after: middle)
                count -= step + 1
            }
        }
        return low
    }
}
