@testable import FlameDiff
import ProtoPprof
import TestSupport
import Testing

/// The call tree built on two threads equals the one built on one, array for array: names, parents, self and
/// total values in node order. The threshold is lowered to 0 so that every tree, however small, is split.
@Suite struct TwoThreadTreeTests {
    static let files: [String] = (try? Fixtures.decodableProfiles()) ?? []

    static func expectSameTree(_ a: CallTree, _ b: CallTree, _ what: String) {
        #expect(a.names == b.names, "names, \(what)")
        #expect(a.nodeName == b.nodeName, "nodeName, \(what)")
        #expect(a.parent == b.parent, "parent, \(what)")
        #expect(a.depth == b.depth, "depth, \(what)")
        #expect(a.selfValue == b.selfValue, "self, \(what)")
        #expect(a.total == b.total, "total, \(what)")
        #expect(a.shape.childList == b.shape.childList && a.shape.childOffsets == b.shape.childOffsets, "children, \(what)")
        #expect(a.nameRank == b.nameRank, "ranks, \(what)")
    }

    static func trees(_ stacks: StackSet, _ frames: FrameTable) -> (one: CallTree, two: CallTree) {
        let one = CallTree(stacks: stacks, frames: frames, construction: .sorted, threads: 1, minimumStacksForTwoThreads: 0)
        let two = CallTree(stacks: stacks, frames: frames, construction: .sorted, threads: 2, minimumStacksForTwoThreads: 0)
        return (one, two)
    }

    @Test(arguments: files)
    func fixturesGiveTheSameTree(_ file: String) throws {
        let profile = try Profile.decode(Fixtures.bytes(file))
        for key in FrameKey.allCases {
            let stacks = try StackSet(profile: profile, options: TreeOptions(frameKey: key))
            let frames = FrameTable(profile: profile, key: key)
            let (one, two) = Self.trees(stacks, frames)
            Self.expectSameTree(one, two, "\(file), key \(key)")
            // And the same as the straightforward hash-table walk, up to numbering (as the folded output shows).
            let hashed = CallTree(stacks: stacks, frames: frames, construction: .hashed)
            #expect(FoldedExport.bytes(two) == FoldedExport.bytes(hashed), "\(file), key \(key)")
        }
    }

    @Test(arguments: [
        ("go-cpu-pyroscope.pb.gz", "go-cpu-span-labels.pb.gz"), ("go-heap-small.pb.gz", "go-heap.pb.gz"),
        ("go-cpu-large.pb.gz", "go-cpu-pyroscope.pb.gz"),
    ])
    func diffTreesAreTheSame(_ pair: (String, String)) throws {
        let base = try Profile.decode(Fixtures.bytes(pair.0))
        let cmp = try Profile.decode(Fixtures.bytes(pair.1))
        func diff(_ threads: Int, _ baseline: [Profile], _ comparison: [Profile]) throws -> DiffTree {
            try DiffTree(
                baseline: baseline, comparison: comparison, options: TreeOptions(threads: threads), construction: .sorted,
                functionTotals: true, minimumStacksForTwoThreads: 0)
        }
        // Several profiles per side: several sources, split anywhere among them.
        for (baseline, comparison) in [([base], [cmp]), ([base, cmp], [cmp]), ([base], [cmp, base, cmp])] {
            let one = try diff(1, baseline, comparison)
            let two = try diff(2, baseline, comparison)
            #expect(one.names == two.names)
            #expect(one.shape.nodeName == two.shape.nodeName)
            #expect(one.shape.parent == two.shape.parent)
            #expect(one.shape.depth == two.shape.depth)
            #expect(one.shape.childList == two.shape.childList && one.shape.childOffsets == two.shape.childOffsets)
            #expect(one.leftSelf == two.leftSelf && one.rightSelf == two.rightSelf)
            #expect(one.leftTotal == two.leftTotal && one.rightTotal == two.rightTotal)
            #expect(one.leftFlat == two.leftFlat && one.rightCum == two.rightCum)
        }
    }

    /// A profile of `stacks`, each a list of frames root first; a frame is a function name, and `variant`
    /// picks one of several locations of that function, so that different stacks can name the same path.
    static func profile(_ stacks: [[(name: String, variant: Int)]], values: [Int64]? = nil) throws -> Profile {
        var b = PprofBuilder()
        b.strings = ["", "samples", "count"]
        b.functions = []
        b.locations = []
        b.samples = []
        var functionOfName: [String: UInt64] = [:]
        var locationOf: [String: UInt64] = [:]
        for (index, stack) in stacks.enumerated() {
            var ids: [UInt64] = []
            for frame in stack.reversed() {  // pprof stores the leaf first
                let function = functionOfName[frame.name] ?? {
                    b.strings.append(frame.name)
                    let id = UInt64(b.functions.count + 1)
                    b.functions.append((id, Int64(b.strings.count - 1), 0))
                    functionOfName[frame.name] = id
                    return id
                }()
                let key = "\(frame.name)#\(frame.variant)"
                let location = locationOf[key] ?? {
                    let id = UInt64(b.locations.count + 1)
                    b.locations.append(PprofBuilder.Location(id: id, lines: [(function, Int64(frame.variant))]))
                    locationOf[key] = id
                    return id
                }()
                ids.append(location)
            }
            b.samples.append(PprofBuilder.Sample(locationIDs: ids, values: [values?[index] ?? Int64(index % 7 + 1)]))
        }
        return try Profile.decode(b.encode())
    }

    static func plain(_ names: [String], variant: Int = 0) -> [(name: String, variant: Int)] {
        names.map { ($0, variant) }
    }

    /// Named stack sets that put the split points where they are hardest.
    static let shapes: [(String, [[(name: String, variant: Int)]])] = [
        // Every stack shares a deep prefix: every split point lies inside it.
        ("shared prefix", (0 ..< 64).map { plain(["root", "a", "b", "c", "d", "leaf\($0 % 50)"]) }),
        // The same path through different locations: one run of equal sequences across every split point.
        ("equal sequences", (0 ..< 41).map { plain(["root", "a", "b"], variant: $0) }),
        ("equal sequences then more", (0 ..< 40).map { plain(["root", "a", "b"], variant: $0) } + [plain(["root", "a", "b", "c"])]),
        // Equal sequences whose leaf is an inner node of a later stack, and empty stacks (the root's self).
        ("empty stacks", (0 ..< 30).map { $0 % 3 == 0 ? [] : plain(["root", "x\($0 % 4)"], variant: $0) }),
        ("only empty stacks", (0 ..< 9).map { _ in [] }),
        ("depth 1", (0 ..< 50).map { plain(["f\($0 % 17)"], variant: $0) }),
        ("one stack", [plain(["root", "a"])]),
        ("no stacks", []),
        ("two stacks", [plain(["root", "a"]), plain(["root", "a", "b"])]),
        // Recursion and inlined-looking repeats: a name at several depths.
        ("recursion", (0 ..< 60).map { plain(["r"] + Array(repeating: "r", count: $0 % 9) + ["x\($0 % 5)"], variant: $0 % 2) }),
    ]

    @Test(arguments: shapes.indices)
    func syntheticShapesGiveTheSameTree(_ index: Int) throws {
        let (what, stacks) = Self.shapes[index]
        let profile = try Self.profile(stacks)
        let stackSet = try StackSet(profile: profile)
        let frames = FrameTable(profile: profile, key: .function)
        let (one, two) = Self.trees(stackSet, frames)
        Self.expectSameTree(one, two, what)
        #expect(two.totalValue == stackSet.total, "\(what)")
        let hashed = CallTree(stacks: stackSet, frames: frames, construction: .hashed)
        #expect(FoldedExport.bytes(two) == FoldedExport.bytes(hashed), "\(what)")
    }

    /// Random stacks over a small alphabet (many shared prefixes and equal paths), every count from 0 to 80:
    /// the split points fall on every kind of boundary.
    @Test func randomStackSetsGiveTheSameTree() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        for count in 0 ... 80 {
            let stacks: [[(name: String, variant: Int)]] = (0 ..< count).map { _ in
                let depth = next(6)
                return (0 ..< depth).map { d in (d == 0 ? "main" : "f\(next(3))", next(2)) }
            }
            let values = (0 ..< count).map { _ in Int64(next(5)) - 1 }  // zero values are skipped, negatives kept
            let profile = try Self.profile(stacks, values: values)
            let stackSet = try StackSet(profile: profile)
            let frames = FrameTable(profile: profile, key: .function)
            let (one, two) = Self.trees(stackSet, frames)
            Self.expectSameTree(one, two, "random \(count)")
        }
    }

    /// A profile large enough for the default threshold: `TreeOptions.threads` alone picks the path.
    @Test func defaultThresholdSplitsALargeProfile() throws {
        let stacks = (0 ..< SortedTreeBuilder.minimumStacksForTwoThreads + 100).map { i in
            Self.plain(["main", "g\(i % 13)", "h\(i % 101)", "leaf\(i)"], variant: i % 3)
        }
        let profile = try Self.profile(stacks)
        let one = try CallTree(profile: profile, options: TreeOptions(threads: 1))
        let two = try CallTree(profile: profile, options: TreeOptions(threads: 2))
        Self.expectSameTree(one, two, "large")
        #expect(TreeOptions(threads: 1) == TreeOptions(threads: 2))
    }
}
