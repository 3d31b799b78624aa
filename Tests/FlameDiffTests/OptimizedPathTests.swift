import FlameDiff
import ProtoPprof
import TestSupport
import Testing

/// The fast path (hand-written sample decoder, sorted tree construction) against the straightforward one
/// (protobuf-c for everything, a hash-table walk per stack): byte-identical output on every fixture.
@Suite struct OptimizedPathTests {
    static let files: [String] = (try? Fixtures.decodableProfiles()) ?? []

    @Test(arguments: files)
    func sameBytesAsTheStraightforwardPath(_ file: String) throws {
        let bytes = try Fixtures.bytes(file)
        let fast = try Profile.decode(bytes)
        let reference = try Profile.decode(bytes, limits: DecodeLimits(sampleDecoding: .protobufC))
        for key in FrameKey.allCases {
            let options = TreeOptions(frameKey: key)
            let a = try CallTree(profile: fast, options: options, construction: .sorted)
            let b = try CallTree(profile: reference, options: options, construction: .hashed)
            #expect(a.nodeCount == b.nodeCount)
            let sameFolded = FoldedExport.bytes(a) == FoldedExport.bytes(b)
            #expect(sameFolded, "folded differs, key \(key)")
            for maxNodes in [0, 8192, 64] {
                let ga = FlameGraph(tree: a, maxNodes: maxNodes)
                let gb = FlameGraph(tree: b, maxNodes: maxNodes)
                let sameLevels = FlameGraphLevels(ga).json() == FlameGraphLevels(gb).json()
                let sameFrame = DataFrameExport.json(ga) == DataFrameExport.json(gb)
                #expect(sameLevels, "levels differ, key \(key), maxNodes \(maxNodes)")
                #expect(sameFrame, "data frame differs, key \(key), maxNodes \(maxNodes)")
            }
        }
    }

    /// The top table read off the tree (sorted: one pass in pre-order; hashed: a walk over child lists)
    /// equals the one summed over the stacks, whenever frames are named as their rows.
    @Test(arguments: files)
    func topTableFromTheTreeEqualsTheStackSum(_ file: String) throws {
        let profile = try Profile.decode(Fixtures.bytes(file))
        for key in FrameKey.allCases {
            let options = TreeOptions(frameKey: key)
            let stacks = try StackSet(profile: profile, options: options)
            let frames = FrameTable(profile: profile, key: key)
            guard frames.framesAreFunctions else { continue }
            let reference = TopTable(stacks: stacks, frames: frames)
            for construction in [CallTree.Construction.sorted, .hashed] {
                let fromTree = TopTable(tree: CallTree(stacks: stacks, frames: frames, construction: construction))
                #expect(fromTree.rows == reference.rows, "key \(key), \(construction)")
                #expect(fromTree.total == reference.total)
            }
        }
    }

    @Test(arguments: [("go-cpu-pyroscope.pb.gz", "go-cpu-span-labels.pb.gz"), ("go-heap-small.pb.gz", "go-heap.pb.gz")])
    func diffsAgreeToo(_ pair: (String, String)) throws {
        let base = try Profile.decode(Fixtures.bytes(pair.0))
        let cmp = try Profile.decode(Fixtures.bytes(pair.1))
        let a = try DiffTree(baseline: [base], comparison: [cmp], construction: .sorted)
        let b = try DiffTree(baseline: [base], comparison: [cmp], construction: .hashed)
        let sameFolded = FoldedExport.bytes(a) == FoldedExport.bytes(b)
        #expect(sameFolded, "folded diff differs")
        for maxNodes in [0, 100] {
            let same = FlameGraphDiffLevels(DiffFlameGraph(diff: a, maxNodes: maxNodes)).json()
                == FlameGraphDiffLevels(DiffFlameGraph(diff: b, maxNodes: maxNodes)).json()
            #expect(same, "diff levels differ, maxNodes \(maxNodes)")
        }
    }
}
