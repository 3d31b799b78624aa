import FlameDiff
import ProtoPprof
import TestSupport
import Testing

@Suite struct TreeTests {
    @Test func recursionCountsCumOncePerSample() throws {
        var b = PprofBuilder()
        // a -> b -> a -> b (leaf first: 2,1,2,1), value 5.
        b.samples = [.init(locationIDs: [2, 1, 2, 1], values: [5])]
        let top = try TopTable(profile: Profile.decode(b.encode()))
        let byName = Dictionary(uniqueKeysWithValues: top.rows.map { ($0.name, $0) })
        #expect(byName["main"]?.cum == 5)
        #expect(byName["work"]?.cum == 5)
        #expect(byName["work"]?.flat == 5)
        #expect(byName["main"]?.flat == 0)
    }

    @Test func inlinedFramesBecomeFramesOfTheirOwn() throws {
        var b = PprofBuilder()
        // One location with work inlined into main: line[0] is the inlined callee, line[last] the caller.
        b.locations = [.init(id: 1, lines: [(2, 20), (1, 10)])]
        b.samples = [.init(locationIDs: [1], values: [7])]
        let tree = try CallTree(profile: Profile.decode(b.encode()))
        #expect(tree.nodeCount == 3)
        #expect(tree.path(of: 2) == ["main", "work"])
        #expect(tree.selfValue[2] == 7)
    }

    @Test func equalStacksMerge() throws {
        var b = PprofBuilder()
        b.samples = [.init(locationIDs: [2, 1], values: [5]), .init(locationIDs: [2, 1], values: [6]), .init(locationIDs: [1], values: [1])]
        let stacks = try StackSet(profile: Profile.decode(b.encode()))
        #expect(stacks.count == 2)
        #expect(stacks.total == 12)
        #expect(stacks.keptSamples == 3)
    }

    @Test func zeroValuedSamplesAddNothing() throws {
        var b = PprofBuilder()
        b.samples = [.init(locationIDs: [2, 1], values: [0]), .init(locationIDs: [1], values: [3])]
        let tree = try CallTree(profile: Profile.decode(b.encode()))
        #expect(tree.nodeCount == 2)
    }

    @Test func unsymbolizedLocationsAreNamedByAddressAndMapping() throws {
        let profile = try Profile.decode(Fixtures.bytes("cpp-cpu-unsymbolized.pb.gz"))
        let tree = try CallTree(profile: profile)
        let names = Set((1 ..< tree.nodeCount).map { tree.names[Int(tree.nodeName[$0])] })
        #expect(names.allSatisfy { $0.hasPrefix("0x") && $0.hasSuffix("]") })
        #expect(names.contains { $0.hasSuffix(" [cppbench_server_main]") })
        // The top table groups them per binary, as `go tool pprof -top` does.
        let top = try TopTable(profile: profile)
        #expect(top.rows.first?.name == "[cppbench_server_main]")
    }

    @Test func locationsWithoutAddressOrLinesAreNotDropped() throws {
        let profile = try Profile.decode(Fixtures.bytes("edge-no-addr-no-line.pb.gz"))
        let tree = try CallTree(profile: profile)
        #expect(tree.names.contains("<unknown>"))
        #expect(tree.totalValue == 105_263_156)
    }

    @Test func frameKeysFunctionLineAndFile() throws {
        let profile = try Profile.decode(PprofBuilder().encode())
        let byLine = try CallTree(profile: profile, options: TreeOptions(frameKey: .functionAndLine))
        #expect(byLine.path(of: byLine.nodeCount - 1) == ["main main.go:10", "work main.go:20"])
        let byFile = try CallTree(profile: profile, options: TreeOptions(frameKey: .functionAndFile))
        #expect(byFile.path(of: byFile.nodeCount - 1) == ["main main.go", "work main.go"])
    }

    @Test func labelFilters() throws {
        let profile = try Profile.decode(Fixtures.bytes("go-cpu-labels.pb.gz"))
        let all = try StackSet(profile: profile)
        let keyValue = profile.labels.first { profile.strings[Int($0.key)] == "foo" }!
        let foo = LabelFilter(key: "foo", value: profile.strings[Int(keyValue.str)])
        let included = try StackSet(profile: profile, options: TreeOptions(includeLabels: [foo]))
        let excluded = try StackSet(profile: profile, options: TreeOptions(excludeLabels: [foo]))
        #expect(included.total > 0)
        #expect(included.total + excluded.total == all.total)
        let none = try StackSet(profile: profile, options: TreeOptions(includeLabels: [LabelFilter(key: "foo", value: "no-such-value")]))
        #expect(none.total == 0)
    }

    @Test func focusAndIgnore() throws {
        let profile = try Profile.decode(Fixtures.bytes("go-cpu-large.pb.gz"))
        let all = try TopTable(profile: profile)
        let focused = try TopTable(profile: profile, options: TreeOptions(focus: "^time\\.Now$"))
        let ignored = try TopTable(profile: profile, options: TreeOptions(ignore: "^time\\.Now$"))
        #expect(focused.total + ignored.total == all.total)
        #expect(focused.total == 205_170_000_000 + 0 || focused.rows.first?.name == "time.Now")
        #expect(!ignored.rows.contains { $0.name == "time.Now" })
    }

    @Test func invalidRegexIsATypedError() throws {
        let profile = try Profile.decode(PprofBuilder().encode())
        #expect(throws: FlameDiffError.self) { try StackSet(profile: profile, options: TreeOptions(focus: "(")) }
    }

    @Test func unknownSampleTypeNamesWhatExists() throws {
        let profile = try Profile.decode(PprofBuilder().encode())
        #expect(throws: FlameDiffError.unknownSampleType(requested: "alloc_space", available: ["0:cpu/nanoseconds"])) {
            try StackSet(profile: profile, options: TreeOptions(sampleType: .name("alloc_space")))
        }
        #expect(try StackSet(profile: profile, options: TreeOptions(sampleType: .name("cpu/nanoseconds"))).total == 5)
    }

    @Test func labelFilterParsing() throws {
        #expect(try LabelFilter(parsing: "span_kind=server") == LabelFilter(key: "span_kind", value: "server"))
        #expect(try LabelFilter(parsing: "a=b=c") == LabelFilter(key: "a", value: "b=c"))
        #expect(throws: FlameDiffError.invalidLabelFilter("nokey")) { try LabelFilter(parsing: "nokey") }
    }
}

@Suite struct SubtreeTests {
    let tree = CallTree(stacks: [(["main", "a", "b"], 3), (["main", "a"], 2), (["main", "c", "a", "b"], 5), (["other"], 1)])

    @Test func aPathFindsItsNodeAndItsSubtreeKeepsOnlyWhatIsBelow() throws {
        let node = try #require(tree.node(at: ["main", "a"]))
        #expect(tree.path(of: node) == ["main", "a"])
        let sub = tree.subtree(at: node)
        #expect(sub.totalValue == 5)
        #expect(Set(sub.names) == ["a", "b"])
        let b = try #require(sub.node(at: ["a", "b"]))
        #expect(sub.selfValue[b] == 3)
        #expect(sub.total[try #require(sub.node(at: ["a"]))] == 5)
    }

    @Test func unknownPathsAreNilAndTheRootIsTheWholeTree() {
        #expect(tree.node(at: ["a"]) == nil)
        #expect(tree.node(at: ["main", "c", "b"]) == nil)
        #expect(tree.node(at: []) == 0)
        #expect(tree.subtree(at: 0).totalValue == tree.totalValue)
    }
}
