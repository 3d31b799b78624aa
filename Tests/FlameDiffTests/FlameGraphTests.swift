import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

@Suite struct FlameGraphTests {
    @Test func pyroscopeGoldenCase() {
        // pkg/model/flamegraph.go: stacks a;b;e=1, a;c=2, a;c;d=1.
        let tree = CallTree(stacks: [(["a", "b", "e"], 1), (["a", "c"], 2), (["a", "c", "d"], 1)])
        let levels = FlameGraphLevels(FlameGraph(tree: tree))
        #expect(levels.names == ["total", "a", "c", "d", "b", "e"])
        #expect(levels.levels == [[0, 4, 0, 0], [0, 4, 0, 1], [0, 1, 0, 4, 0, 3, 2, 2], [0, 1, 1, 5, 2, 1, 1, 3]])
        #expect(levels.total == 4)
        #expect(levels.maxSelf == 2)
    }

    @Test func levelsJSONShape() throws {
        let tree = CallTree(stacks: [(["a", "b"], 1)])
        let json = try JSONSerialization.jsonObject(with: Data(FlameGraphLevels(FlameGraph(tree: tree)).json())) as! [String: Any]
        #expect(json["names"] as? [String] == ["total", "a", "b"])
        #expect((json["levels"] as? [[String: Any]])?.count == 3)
        #expect(json["total"] as? Int == 1)
        #expect(json["maxSelf"] as? Int == 1)
    }

    @Test func truncationMergesSmallChildrenIntoOther() {
        // Pyroscope keeps nodes whose total reaches the N-th largest; the rest of a parent's children become `other`.
        var stacks: [([String], Int64)] = [(["main", "big"], 100)]
        for i in 0 ..< 20 { stacks.append((["main", "small\(i)"], 1)) }
        let graph = FlameGraph(tree: CallTree(stacks: stacks), maxNodes: 8)
        let names = (0 ..< graph.nodeCount).map { graph.name(of: $0) }
        #expect(names.contains("big"))
        #expect(names.contains("other"))
        let other = names.firstIndex(of: "other")!
        // Ties at the cut are broken by position (leftmost first, children in bytewise name order) so that
        // the bound holds: small0, small1, small10, ... stay, the rest merge.
        let keptSmall = names.filter { $0.hasPrefix("small") }
        let leftmost = (0 ..< 20).map { "small\($0)" }.sorted().prefix(keptSmall.count)
        #expect(keptSmall == Array(leftmost))
        #expect(graph.total[other] == Int64(20 - keptSmall.count))
        #expect(graph.nodeCount - 1 == 8)
        // `other` comes last among its siblings.
        let main = names.firstIndex(of: "main")!
        #expect(graph.children(of: main).last.map { Int($0) } == other)
    }

    @Test func heavySelfSpreadThinStaysVisible() {
        // `hot` holds 40% of all self time, spread over 400 distinct small stacks; Pyroscope's cut hides it
        // entirely inside `other` nodes. Ours surfaces it.
        var stacks: [([String], Int64)] = []
        for i in 0 ..< 200 { stacks.append((["main", "big\(i % 10)", "leaf\(i)"], 3)) }
        for i in 0 ..< 400 { stacks.append((["main", "big\(i % 10)", "mid\(i)", "hot"], 1)) }
        let tree = CallTree(stacks: stacks)
        let graph = FlameGraph(tree: tree, maxNodes: 64)
        #expect(graph.nodeCount - 1 <= 64)
        var visibleHot: Int64 = 0
        for n in 0 ..< graph.nodeCount where graph.name(of: n) == "hot" { visibleHot += graph.selfValue[n] }
        #expect(visibleHot >= 300, "hot shows \(visibleHot) of 400")
        #expect(graph.surfacedNodes > 0)
        // Accounting still holds: self values add up to the total.
        #expect(graph.selfValue.reduce(0, +) == tree.totalValue)
    }

    @Test func noTruncationUnderTheLimit() {
        let tree = CallTree(stacks: [(["a", "b"], 1), (["a", "c"], 1)])
        let graph = FlameGraph(tree: tree, maxNodes: 8192)
        #expect(graph.nodeCount == tree.nodeCount)
        #expect(graph.minTotal == 0)
    }

    @Test func childrenSortedBytewise() {
        let tree = CallTree(stacks: [(["b"], 1), (["B"], 1), (["a"], 1), (["_"], 1)])
        let names = tree.children(of: 0).map { tree.names[Int(tree.nodeName[Int($0)])] }
        #expect(names == ["B", "_", "a", "b"])
    }

    @Test func dataFrameFieldsAndUnits() throws {
        let profile = try Profile.decode(Fixtures.bytes("go-cpu-fib.pb.gz"))
        let graph = FlameGraph(tree: try CallTree(profile: profile), maxNodes: 100)
        let frame = try JSONSerialization.jsonObject(with: Data(DataFrameExport.json(graph))) as! [String: Any]
        let schema = frame["schema"] as! [String: Any]
        #expect((schema["meta"] as! [String: Any])["preferredVisualisationType"] as? String == "flamegraph")
        let fields = schema["fields"] as! [[String: Any]]
        #expect(fields.map { $0["name"] as! String } == ["level", "value", "self", "label"])
        #expect((fields[1]["config"] as! [String: Any])["unit"] as? String == "ns")
        let labels = (((fields[3]["config"] as! [String: Any])["type"] as! [String: Any])["enum"] as! [String: Any])["text"] as! [String]
        #expect(labels.first == "total")
        #expect(labels.contains("math/big.addVV"))
        // Depth-first pre-order: the first row is the root at level 0, the second its first child at level 1.
        let values = (frame["data"] as! [String: Any])["values"] as! [[Int]]
        #expect(values[0].prefix(2) == [0, 1])
        #expect(values[1][0] == 29_740_000_000)
    }
}
