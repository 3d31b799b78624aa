import FlameDiff
import ProtoPprof
import TestSupport
import Testing

/// Values near 2^63 and inputs shaped to be slow: typed errors and linear time, never a trap.
@Suite struct OverflowAndScaleTests {
    func profile(_ values: [Int64]) throws -> Profile {
        var b = PprofBuilder()
        b.samples = values.map { .init(locationIDs: [2, 1], values: [$0]) }
        return try Profile.decode(b.encode())
    }

    /// Two sides whose values together pass 2^63: the diff refuses them with a typed error.
    @Test func aDiffWhoseSidesOverflowIsRefused() throws {
        let big = try profile([1 << 62])
        let bigger = try profile([(1 << 62) + 5])
        #expect(throws: FlameDiffError.self) { try DiffTree(baseline: [big], comparison: [bigger]) }
        #expect(throws: FlameDiffError.self) { try DiffTree(baseline: [big, big], comparison: [big]) }
        // Just under the bound still works.
        let half = try profile([1 << 60])
        let diff = try DiffTree(baseline: [half], comparison: [half])
        #expect(diff.leftTotal[0] == 1 << 60)
    }

    /// A levels input whose nodes claim more than their total (self plus children) is refused, so no sum
    /// over it can pass the root's total.
    @Test func levelsWhoseSelfAndChildrenExceedTheTotalAreRefused() {
        let max = Int64.max
        // Root total max, self max, and a child of total max: self + children overflows.
        #expect(throws: FlameDiffError.self) {
            try CallTree(levels: [[0, max, max, 0], [0, max, max, 1]], names: ["total", "a"])
        }
        #expect(throws: FlameDiffError.self) {
            try CallTree(levels: [[0, 10, 0, 0], [0, 10, 4, 1], [0, 7, 7, 2]], names: ["total", "a", "b"])
        }
        #expect((try? CallTree(levels: [[0, 10, 0, 0], [0, 10, 3, 1], [0, 7, 7, 2]], names: ["total", "a", "b"])) != nil)
    }

    /// The top table of a flame graph given as levels is linear in its depth: a chain of 200,000 frames
    /// (alternating two names, so recursion is everywhere) took quadratic time before.
    @Test func aDeepChainGivesItsTopTableInLinearTime() throws {
        let depth = 200_000
        var levels: [[Int64]] = [[0, 100, 0, 0]]
        for d in 1 ... depth { levels.append([0, 100, d == depth ? 100 : 0, Int64(1 + d % 2)]) }
        let tree = try CallTree(levels: levels, names: ["total", "even", "odd"])
        let started = ContinuousClock.now
        let top = TopTable(tree: tree)
        #expect(ContinuousClock.now - started < .seconds(2))
        let byName = Dictionary(uniqueKeysWithValues: top.rows.map { ($0.name, $0) })
        #expect(byName["even"]?.cum == 100)
        #expect(byName["odd"]?.cum == 100)
        #expect(byName["even"]?.flat == 100)  // depth is even: the leaf is "even"
        #expect(top.total == 100)
    }
}
