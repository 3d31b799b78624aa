#if canImport(Glibc)
import Glibc
#endif

/// Stacks of one profile to insert into a tree: its merged stacks, its frames, how its frame names map to
/// the tree's names, and which value column they add to.
struct StackSource {
    var stacks: StackSet
    var frames: FrameTable
    var nameMap: [Int32]
    var column: Int
}

/// Builds a call tree without a single hash lookup.
///
/// Every stack becomes the sequence of its frames' name ranks (bytewise name order), root first. Sorted,
/// neighbouring sequences share their longest prefixes: each stack reuses the previous stack's path up to
/// their common prefix, and every node below it is new (a node with that prefix, had one existed, would sort
/// between the two). Nodes come out in depth-first pre-order with children in bytewise name order, so the
/// tree needs no child sorting either. Ranks are stored big-endian so that memcmp orders them numerically.
enum SortedTreeBuilder {
    struct Result {
        var nodeName: [Int32]
        var parent: [Int32]
        /// `columns` values per node, interleaved.
        var selfValues: [Int64]
        /// The names' bytewise ranks (`TreeShape.rankNames`), for the shape.
        var rank: [Int32]
    }

    /// `threads`: 2 builds the same tree on two threads (`buildOnTwoThreads`) when there are at least
    /// `minimumStacksForTwoThreads` stacks; 1 (or fewer stacks) runs the one-thread build below.
    static func build(
        sources: [StackSource], names: [String], columns: Int, threads: Int = 1,
        minimumStacksForTwoThreads: Int = Self.minimumStacksForTwoThreads
    ) -> Result {
        if threads >= 2 && sources.reduce(0, { $0 + $1.stacks.count }) >= minimumStacksForTwoThreads {
            return buildOnTwoThreads(sources: sources, names: names, columns: columns)
        }
        let rank = TreeShape.rankNames(names)
        var nameOfRank = [Int32](repeating: 0, count: names.count)
        for (id, r) in rank.enumerated() { nameOfRank[Int(r)] = Int32(id) }

        // Sequences of big-endian ranks, one per stack of every source.
        var total = 0
        for source in sources {
            for s in 0 ..< source.stacks.count {
                for i in source.stacks.range(s) {
                    let l = Int(source.stacks.locations[i])
                    total += Int(source.frames.frameOffsets[l + 1] - source.frames.frameOffsets[l])
                }
            }
        }
        var sequenceStart: [Int32] = []
        var sequenceLength: [Int32] = []
        var sequenceColumn: [UInt8] = []
        var sequenceValue: [Int64] = []
        let stackCount = sources.reduce(0) { $0 + $1.stacks.count }
        sequenceStart.reserveCapacity(stackCount)
        sequenceLength.reserveCapacity(stackCount)
        sequenceColumn.reserveCapacity(stackCount)
        sequenceValue.reserveCapacity(stackCount)
        // Written once, never zero-filled first.
        let sequences = [UInt32](unsafeUninitializedCapacity: max(total, 1)) { out, written in
            var k = 0
            for source in sources {
                // Per location, its frames' big-endian ranks, outermost first.
                let frameRanks = source.frames.frames.map { UInt32(rank[Int(source.nameMap[Int($0)])]).bigEndian }
                source.stacks.locations.withUnsafeBufferPointer { locations in
                    source.frames.frameOffsets.withUnsafeBufferPointer { frameOffsets in
                        for s in 0 ..< source.stacks.count {
                            let begin = k
                            let range = source.stacks.range(s)
                            let start = range.lowerBound
                            var i = range.upperBound - 1
                            while i >= start {
                                let l = Int(locations[i])
                                for f in Int(frameOffsets[l]) ..< Int(frameOffsets[l + 1]) {
                                    out[k] = frameRanks[f]
                                    k += 1
                                }
                                i -= 1
                            }
                            sequenceStart.append(Int32(begin))
                            sequenceLength.append(Int32(k - begin))
                            sequenceColumn.append(UInt8(source.column))
                            sequenceValue.append(source.stacks.values[s])
                        }
                    }
                }
            }
            written = k
        }

        // Sort keys carry what the comparison needs, so it reads no other array.
        struct Key {
            var start: Int32
            var length: Int32
            var index: Int32
        }
        var keys = (0 ..< stackCount).map { Key(start: sequenceStart[$0], length: sequenceLength[$0], index: Int32($0)) }
        sequences.withUnsafeBufferPointer { seq in
            let base = seq.baseAddress!
            keys.sort { a, b in
                let n = Int(min(a.length, b.length))
                if n > 0 {
                    let r = memcmp(base + Int(a.start), base + Int(b.start), n * 4)
                    if r != 0 { return r < 0 }
                }
                return a.length < b.length
            }
        }
        let order = keys.map(\.index)
        keys = []

        // Each sequence's prefix in common with the one before it: the node count is then known, and the
        // node arrays are allocated once at their final size (no doubling, no copies, no slack).
        var common = [Int32](repeating: 0, count: stackCount)
        var nodeCount = 1
        sequences.withUnsafeBufferPointer { seq in
            var previousStart = 0
            var previousLength = 0
            for (position, index) in order.enumerated() {
                let start = Int(sequenceStart[Int(index)])
                let length = Int(sequenceLength[Int(index)])
                var c = 0
                let limit = min(length, previousLength)
                while c < limit && seq[start + c] == seq[previousStart + c] { c += 1 }
                common[position] = Int32(c)
                nodeCount += length - c
                previousStart = start
                previousLength = length
            }
        }

        var nodeName: [Int32] = [-1]
        var parent: [Int32] = [-1]
        var selfValues = [Int64](repeating: 0, count: columns)
        nodeName.reserveCapacity(nodeCount)
        parent.reserveCapacity(nodeCount)
        selfValues.reserveCapacity(nodeCount * columns)
        var path: [Int32] = []  // node at each depth of the previous sequence
        sequences.withUnsafeBufferPointer { seq in
            for (position, index) in order.enumerated() {
                let s = Int(index)
                let start = Int(sequenceStart[s])
                let length = Int(sequenceLength[s])
                let common = Int(common[position])
                path.removeSubrange(common...)
                for d in common ..< length {
                    let id = Int32(nodeName.count)
                    nodeName.append(nameOfRank[Int(UInt32(bigEndian: seq[start + d]))])
                    parent.append(d == 0 ? 0 : path[d - 1])
                    for _ in 0 ..< columns { selfValues.append(0) }
                    path.append(id)
                }
                let leaf = length == 0 ? 0 : Int(path[length - 1])
                selfValues[leaf * columns + Int(sequenceColumn[s])] &+= sequenceValue[s]
            }
        }
        return Result(nodeName: nodeName, parent: parent, selfValues: selfValues, rank: rank)
    }
}
