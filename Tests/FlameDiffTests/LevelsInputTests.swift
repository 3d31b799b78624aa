import FlameDiff
import ProtoPprof
import TestSupport
import Testing

/// Flame graphs given as input, in Pyroscope's levels form.
@Suite struct LevelsInputTests {
    @Test(arguments: ["go-cpu-fib.pb.gz", "java-cpu-jfr-kafka.pb.gz", "python-cpu.pb.gz"])
    func levelsReadBackGiveTheProfilesTopTable(_ file: String) throws {
        let profile = try Profile.decode(Fixtures.bytes(file))
        let tree = try CallTree(profile: profile)
        let levels = FlameGraphLevels(FlameGraph(tree: tree, maxNodes: FlameGraph.maxMaxNodes))
        let back = try CallTree(levels: levels.levels, names: levels.names, sampleType: tree.sampleType)
        #expect(back.totalValue == tree.totalValue)
        let expected = try TopTable(profile: profile)
        let actual = TopTable(tree: back)
        #expect(actual.rows == expected.rows)
    }

    @Test func malformedLevelsAreRejectedWithWhereAndWhy() {
        func error(_ levels: [[Int64]], _ names: [String] = ["total", "a", "b"]) -> String? {
            do {
                _ = try CallTree(levels: levels, names: names)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(error([]) == "invalid flame graph: level 0 must hold exactly one node, the root")
        #expect(error([[0, 10, 0, 0], [0, 11, 11, 1]])?.contains("level 1, node 0: not within any node of level 0") == true)
        #expect(error([[0, 10, 0, 0], [0, 10, 10, 7]])?.contains("name index 7 outside names[3]") == true)
        #expect(error([[0, 10, 0, 0], [0, 5, 6, 1]])?.contains("self above total") == true)
        #expect(error([[0, 10, 0, 0], [0, 5, 5]])?.contains("not a multiple of 4") == true)
        #expect(error([[0, 10, 0, 0], [0, 5, 5, 1, Int64.max, 1, 1, 2]])?.contains("overflows") == true)
        #expect(error([[0, 10, 0, 0], [0, 5, 5, 1, 0, 5, 5, 2]]) == nil)
    }
}
