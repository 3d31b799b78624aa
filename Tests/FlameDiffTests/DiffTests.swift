import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

@Suite struct DiffTests {
    static let pairs: [(String, String)] = [
        ("go-cpu-pyroscope.pb.gz", "go-cpu-span-labels.pb.gz"), ("go-heap-small.pb.gz", "go-heap.pb.gz"),
        ("java-cpu-jfr-kafka.pb.gz", "java-cpu-async-profiler.pb.gz"), ("python-cpu.pb.gz", "python-pyspy-not-gzipped.pb.gz"),
    ]

    @Test func pyroscopeGoldenCase() {
        // pkg/model/flamegraph_diff.go: a;b=1, a;c=2 vs a;b=4, a;c=8.
        let diff = DiffTree(left: [(["a", "b"], 1), (["a", "c"], 2)], right: [(["a", "b"], 4), (["a", "c"], 8)])
        let levels = FlameGraphDiffLevels(DiffFlameGraph(diff: diff))
        #expect(levels.names == ["total", "a", "c", "b"])
        #expect(levels.levels[2] == [0, 1, 1, 0, 4, 4, 3, 0, 2, 2, 0, 8, 8, 2])
        #expect(levels.total == 15)
        #expect(levels.maxSelf == 8)
        #expect(levels.leftTicks == 3)
        #expect(levels.rightTicks == 12)
    }

    @Test(arguments: ["go-cpu-large.pb.gz", "go-heap.pb.gz", "java-alloc-jfr-kafka.pb.gz", "dotnet-labels.pb"])
    func profileAgainstItselfChangesNothing(_ file: String) throws {
        let p = try Profile.decode(Fixtures.bytes(file))
        let diff = try DiffTree(baseline: [p], comparison: [p])
        #expect(diff.leftSelf == diff.rightSelf)
        for normalization in DiffNormalization.allCases {
            let table = ChangeTable(diff, normalization: normalization)
            #expect(table.rows.allSatisfy { $0.selfDelta == 0 && $0.totalDelta == 0 && $0.status == .unchanged })
        }
        #expect(FoldedExport.bytes(diff).split(separator: UInt8(ascii: "\n")).allSatisfy { line in
            let parts = line.split(separator: UInt8(ascii: " "))
            return parts[parts.count - 1] == parts[parts.count - 2]
        })
    }

    /// Multiplies the value of every sample whose leaf function is `name` by `factor`.
    static func scaled(_ p: Profile, leaf name: String, by factor: Int64) -> Profile {
        var q = p
        let n = p.sampleTypes.count
        for s in 0 ..< p.sampleCount {
            let leaf = p.locations[Int(p.locations(ofSample: s).first!)]
            let function = p.functions[Int(p.lines[Int(leaf.firstLine)].function)]
            if leaf.lineCount > 0 && p.strings[Int(function.name)] == name {
                for t in 0 ..< n { q.sampleValues[s * n + t] *= factor }
            }
        }
        return q
    }

    @Test func tripledFunctionRanksFirst() throws {
        let p = try Profile.decode(Fixtures.bytes("go-cpu-pyroscope.pb.gz"))
        let target = "compress/flate.(*compressor).deflate"
        let q = Self.scaled(p, leaf: target, by: 3)
        let diff = try DiffTree(baseline: [p], comparison: [q])
        for normalization in DiffNormalization.allCases {
            let table = ChangeTable(diff, normalization: normalization)
            #expect(table.rows.first?.name == target, "\(normalization)")
        }
        let raw = ChangeTable(diff, normalization: .raw).rows.first!
        #expect(abs(raw.selfFactor! - 3) < 1e-9)
        #expect(raw.rightSelf == 3 * raw.leftSelf)
    }

    @Test func newAndVanishedFunctionsAreMarked() throws {
        let p = try Profile.decode(Fixtures.bytes("go-cpu-pyroscope.pb.gz"))
        let gone = Self.scaled(p, leaf: "runtime.epollwait", by: 0)
        // Baseline without epollwait, comparison with it: new. The other way round: vanished.
        let forward = ChangeTable(try DiffTree(baseline: [gone], comparison: [p]))
        let backward = ChangeTable(try DiffTree(baseline: [p], comparison: [gone]))
        #expect(forward.rows.first { $0.name == "runtime.epollwait" }?.status == .new)
        #expect(backward.rows.first { $0.name == "runtime.epollwait" }?.status == .vanished)
        #expect(forward.rows.first { $0.name == "runtime.epollwait" }?.selfFactor == nil)
    }

    @Test(arguments: pairs)
    func sidesKeepTheirTotalsAndSelfSums(_ pair: (String, String)) throws {
        let base = try Profile.decode(Fixtures.bytes(pair.0))
        let cmp = try Profile.decode(Fixtures.bytes(pair.1))
        let diff = try DiffTree(baseline: [base], comparison: [cmp])
        let index = cmp.sampleTypes.firstIndex(of: diff.sampleType)!
        let baseIndex = base.sampleTypes.firstIndex(of: diff.sampleType) ?? base.sampleTypes.firstIndex { $0.type == diff.sampleType.type }!
        #expect(diff.leftTicks == base.total(ofType: baseIndex))
        #expect(diff.rightTicks == cmp.total(ofType: index))
        #expect(diff.leftSelf.reduce(0, +) == diff.leftTicks)
        #expect(diff.rightSelf.reduce(0, +) == diff.rightTicks)
        for maxNodes in [0, 50] {
            let graph = DiffFlameGraph(diff: diff, maxNodes: maxNodes)
            #expect(graph.leftSelf.reduce(0, +) == diff.leftTicks)
            #expect(graph.rightSelf.reduce(0, +) == diff.rightTicks)
            if maxNodes > 0 { #expect(graph.nodeCount - 1 <= maxNodes) }
            // The data frame and the levels describe the same tree.
            let frame = try JSONSerialization.jsonObject(with: Data(DataFrameExport.json(graph))) as! [String: Any]
            let values = (frame["data"] as! [String: Any])["values"] as! [[Int64]]
            let levels = FlameGraphDiffLevels(graph)
            #expect(values[0].count == levels.levels.reduce(0) { $0 + $1.count / 7 })
            #expect(values[3].reduce(0, +) == diff.leftTicks)
            #expect(values[5].reduce(0, +) == diff.rightTicks)
        }
    }

    @Test func normalizeScalesTheBaselineToTheComparison() throws {
        let base = try Profile.decode(Fixtures.bytes("go-cpu-pyroscope.pb.gz"))
        let cmp = try Profile.decode(Fixtures.bytes("go-cpu-span-labels.pb.gz"))
        let scaled = try DiffTree(baseline: [base], comparison: [cmp]).scaledBaseline()
        // Rounding each self value moves the total by less than one unit per node.
        #expect(abs(scaled.leftTicks - scaled.rightTicks) < Int64(scaled.nodeCount))
        #expect(scaled.leftSelf.reduce(0, +) == scaled.leftTicks)
    }

    @Test func severalProfilesPerSideMerge() throws {
        let p = try Profile.decode(Fixtures.bytes("go-cpu-fib.pb.gz"))
        let diff = try DiffTree(baseline: [p, p], comparison: [p])
        #expect(diff.leftTicks == 2 * diff.rightTicks)
        #expect(ChangeTable(diff).rows.allSatisfy { abs($0.selfDelta) < 1e-9 })
    }

    @Test func sampleTypeMissingOnOneSideNamesBoth() throws {
        let cpu = try Profile.decode(Fixtures.bytes("go-cpu-fib.pb.gz"))
        let heap = try Profile.decode(Fixtures.bytes("go-heap.pb.gz"))
        #expect(throws: FlameDiffError.self) { try DiffTree(baseline: [heap], comparison: [cpu]) }
        do {
            _ = try DiffTree(baseline: [heap], comparison: [cpu])
        } catch {
            #expect(error.description.contains("baseline has: alloc_objects/count"))
            #expect(error.description.contains("comparison has: cpu/nanoseconds, samples/count"))
        }
    }

    @Test func truncationKeepsASmallNewPath() {
        // 200 paths of similar size on both sides; one new path is smaller than all of them.
        var left: [([String], Int64)] = []
        var right: [([String], Int64)] = []
        for i in 0 ..< 200 {
            left.append((["main", "handler\(i)"], 100))
            right.append((["main", "handler\(i)"], 100))
        }
        right.append((["main", "newSlowPath"], 60))
        let diff = DiffTree(left: left, right: right)
        let graph = DiffFlameGraph(diff: diff, maxNodes: 20)
        let names = (0 ..< graph.nodeCount).map { graph.name(of: $0) }
        #expect(names.contains("newSlowPath"))
        #expect(graph.nodeCount - 1 <= 20)
    }

    @Test func levelsJSONCarriesTheNormalization() throws {
        let diff = DiffTree(left: [(["a"], 1)], right: [(["a"], 2)])
        let json = try JSONSerialization.jsonObject(with: Data(FlameGraphDiffLevels(DiffFlameGraph(diff: diff, normalization: .raw)).json())) as! [String: Any]
        #expect(json["normalization"] as? String == "raw")
        #expect(json["leftTicks"] as? Int == 1)
        #expect(json["rightTicks"] as? Int == 2)
    }
}
