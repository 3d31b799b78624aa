import FlameDiff
import ProfileFormats
import ProtoPprof
import TestSupport
import Testing

/// Folded stacks and speedscope: py-spy's two outputs of one program, independent parses, FoldedExport round trips.
@Suite struct FoldedAndSpeedscopeTests {
    static let programs = ["regex", "json", "quadratic"]
    /// The bottleneck's flat leader in both recordings of each program.
    static let expectedTop = [
        "regex": "re._parser._parse", "json": "json.encoder._make_iterencode.<locals>._iterencode_dict",
        "quadratic": "bottlenecks.dedupe_quadratic",
    ]

    @Test(arguments: programs)
    func pySpyRawAndSpeedscopeAgree(_ program: String) throws {
        let raw = try FormatFixtures.decode("pyspy-\(program).folded")
        let speedscope = try FormatFixtures.decode("pyspy-\(program).speedscope.json")
        #expect(raw.sampleTypes.map(\.description) == ["samples/count"])
        #expect(speedscope.sampleTypes.map(\.description) == ["samples/count", "time/nanoseconds"])
        let rawTop = try TopTable(profile: raw, options: TreeOptions(sampleType: .name("samples")))
        let speedscopeTop = try TopTable(profile: speedscope, options: TreeOptions(sampleType: .name("samples")))
        #expect(rawTop.rows.first?.name == Self.expectedTop[program])
        #expect(speedscopeTop.rows.first?.name == rawTop.rows.first?.name)
        let a = Double(rawTop.total)
        let b = Double(speedscopeTop.total)
        #expect(abs(a - b) <= 0.1 * max(a, b), "totals \(a) and \(b) differ by more than 10%")
    }

    @Test(arguments: programs)
    func foldedTotalsEqualAnIndependentParse(_ program: String) throws {
        let name = "pyspy-\(program).folded"
        let profile = try FormatFixtures.decode(name)
        let independent = try FormatFixtures.independent("folded", name)
        #expect(total(profile, "samples/count") == independent.totals["samples/count"])
        #expect(try flatByFunction(profile) == independent.selfValues)
    }

    @Test(arguments: programs)
    func speedscopeTotalsEqualAnIndependentParse(_ program: String) throws {
        let name = "pyspy-\(program).speedscope.json"
        let profile = try FormatFixtures.decode(name)
        let independent = try FormatFixtures.independent("speedscope", name)
        #expect(total(profile, "samples/count") == independent.totals["samples/count"])
        #expect(total(profile, "time/nanoseconds") == independent.totals["time/nanoseconds"])
        #expect(try flatByFunction(profile, sampleType: "time/nanoseconds") == independent.selfValues)
        // py-spy writes one profile per thread: each sample carries its thread's name.
        for (thread, count) in independent.samplesPerThread ?? [:] {
            let options = TreeOptions(sampleType: .name("samples"), includeLabels: [LabelFilter(key: "thread", value: thread)])
            #expect(try TopTable(profile: profile, options: options).total == count)
        }
    }

    @Test func foldedRules() throws {
        let text = """
            # a comment, then a blank line

            main;std::vector<int, std::allocator<int> >::push_back 3
            main;work (app.py:12);leaf 2
            main;work (app.py:13);leaf 1
            main;;work (app.py:12) 4
             7
            main;std::vector<int, std::allocator<int> >::push_back 5
            """
        let p = try decodeText(text)
        #expect(ProfileReader.detect(Array(text.utf8)) == .folded)
        #expect(p.total(ofType: 0) == 22)
        #expect(p.sampleTypes.map(\.description) == ["samples/count"])
        let tree = try CallTree(profile: p)
        let flat = try flatByFunction(p)
        #expect(flat == ["std::vector<int, std::allocator<int> >::push_back": 8, "leaf": 3, "app.work": 4])
        // py-spy frames keep their file and line in the model; a .py file's function is named with its module.
        let work = p.functions.first { p.strings[Int($0.name)] == "app.work" }
        #expect(work.map { p.strings[Int($0.filename)] } == "app.py")
        #expect(tree.totalValue == 22)  // the empty stack counts in the total
        #expect(tree.selfValue[0] == 7)
    }

    /// Acceptance: a folded file rendered back with `flamegraph --format folded` is identical (order aside).
    @Test(arguments: [
        "go-cpu-fib.pb.gz", "go-heap-small.pb.gz", "java-cpu-async-profiler.pb.gz", "python-cpu.pb.gz", "cpp-cpu-unsymbolized.pb.gz",
    ])
    func foldedRoundTripThroughFoldedExport(_ fixture: String) throws {
        let source = try CallTree(profile: try Profile.decode(try Fixtures.bytes(fixture)))
        let folded = FoldedExport.bytes(source)
        #expect(ProfileReader.detect(folded) == .folded)
        let reread = try CallTree(profile: try ProfileReader.decode(folded))
        let again = FoldedExport.bytes(reread)
        #expect(lines(again) == lines(folded))
        #expect(reread.totalValue == source.totalValue)
    }

    @Test(arguments: programs)
    func pySpyFoldedRoundTrip(_ program: String) throws {
        let tree = try CallTree(profile: try FormatFixtures.decode("pyspy-\(program).folded"))
        let folded = FoldedExport.bytes(tree)
        let again = FoldedExport.bytes(try CallTree(profile: try ProfileReader.decode(folded)))
        #expect(lines(again) == lines(folded))
    }

    private func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).sorted()
    }

    @Test func speedscopeEventedAndThreads() throws {
        let json = """
            {"$schema": "https://www.speedscope.app/file-format-schema.json",
             "shared": {"frames": [{"name": "main", "file": "a.js", "line": 1}, {"name": "work"}, {"name": "io", "col": 4}]},
             "profiles": [
               {"type": "evented", "name": "worker 1", "unit": "milliseconds", "startValue": 0, "endValue": 10,
                "events": [{"type": "O", "frame": 0, "at": 0}, {"type": "O", "frame": 1, "at": 1},
                           {"type": "C", "frame": 1, "at": 4}, {"type": "O", "frame": 2, "at": 4},
                           {"type": "C", "frame": 2, "at": 9}, {"type": "C", "frame": 0, "at": 10}]},
               {"type": "evented", "name": "worker 2", "unit": "microseconds", "startValue": 0, "endValue": 5,
                "events": [{"type": "O", "frame": 1, "at": 0}]}
             ]}
            """
        #expect(ProfileReader.detect(Array(json.utf8)) == .speedscope)
        let p = try decodeText(json)
        #expect(p.sampleTypes.map(\.description) == ["time/nanoseconds"])
        let flat = try flatByFunction(p)
        // main: [0,1) and [9,10) ms; work: [1,4) ms + 5 µs left open in worker 2 until its endValue; io: [4,9) ms.
        #expect(flat == ["main": 2_000_000, "work": 3_005_000, "io": 5_000_000])
        let worker2 = try TopTable(profile: p, options: TreeOptions(includeLabels: [LabelFilter(key: "thread", value: "worker 2")]))
        #expect(worker2.total == 5_000)
    }
}
