import FlameDiff
import Foundation
import ProfileFormats
import ProtoPprof
import TestSupport
import Testing

/// Chrome .cpuprofile (node --cpu-prof) and perf script (perf record -g) fixtures and rules.
@Suite struct CPUProfileAndPerfTests {
    static let nodePrograms = ["regex": "matchWithFreshRegExp", "json": "encodeEventsAsJSON", "quadratic": "dedupeQuadratic"]

    /// Self time per function equals what independent_parse.py computes from the nodes and timeDeltas with the
    /// stated rule (sample i lasts until sample i+1; the last until endTime).
    @Test(arguments: nodePrograms.keys.sorted())
    func selfTimesEqualAnIndependentComputation(_ program: String) throws {
        let name = "node-\(program).cpuprofile"
        let p = try FormatFixtures.decode(name)
        #expect(p.sampleTypes.map(\.description) == ["samples/count", "cpu/nanoseconds"])
        let independent = try FormatFixtures.independent("cpuprofile", name)
        #expect(total(p, "samples/count") == independent.totals["samples/count"])
        #expect(total(p, "cpu/nanoseconds") == independent.totals["cpu/nanoseconds"])
        #expect(try flatByFunction(p, sampleType: "cpu/nanoseconds") == independent.selfValues)
        let top = try TopTable(profile: p)
        #expect(top.rows.first?.name == Self.nodePrograms[program])
        // (root) is the tree's root, not a frame.
        #expect(!(try CallTree(profile: p)).names.contains("(root)"))
    }

    @Test func timeAttributionRule() throws {
        // Samples at 100+10, +20, +50 → durations 20, 50 and endTime − 180 = 20 µs; timeDeltas[0] belongs to nobody.
        let json = """
            {"nodes": [{"id": 1, "callFrame": {"functionName": "(root)", "url": "", "lineNumber": -1, "columnNumber": -1}, "children": [2, 3]},
                       {"id": 2, "callFrame": {"functionName": "a", "url": "x.js", "lineNumber": 4, "columnNumber": 2}},
                       {"id": 3, "callFrame": {"functionName": "", "url": "x.js", "lineNumber": 9, "columnNumber": 0}, "children": [4]},
                       {"id": 4, "callFrame": {"functionName": "(garbage collector)", "url": "", "lineNumber": -1, "columnNumber": -1}}],
             "startTime": 100, "endTime": 200, "samples": [2, 4, 2], "timeDeltas": [10, 20, 50]}
            """
        let p = try decodeText(json)
        #expect(try flatByFunction(p) == ["a": 20_000 + 20_000, "(garbage collector)": 50_000])
        #expect(p.total(ofType: 0) == 3)
        let tree = try CallTree(profile: p)
        #expect(Set(tree.children(of: 0).map { tree.names[Int(tree.nodeName[Int($0)])] }) == ["a", "(anonymous)"])
        // Lines are 1-based in the model (CDP's are 0-based).
        let a = p.lines.first { p.strings[Int(p.functions[Int($0.function)].name)] == "a" }
        #expect(a?.line == 5 && a?.column == 3)
    }

    @Test func unsortedSamplesParentsAndHitCounts() throws {
        // A negative delta: samples are ordered by time stamp first (as DevTools does). Parents instead of children.
        let byParent = """
            {"nodes": [{"id": 10, "callFrame": {"functionName": "(root)"}},
                       {"id": 11, "parent": 10, "callFrame": {"functionName": "f"}},
                       {"id": 12, "parent": 11, "callFrame": {"functionName": "g"}}],
             "startTime": 0, "endTime": 100, "samples": [11, 12, 11], "timeDeltas": [10, 30, -20]}
            """
        // Stamps 10 (f), 40 (g), 20 (f) → order f@10, f@20, g@40 → f 10 + 20, g until endTime 60.
        let p = try decodeText(byParent)
        #expect(try flatByFunction(p) == ["f": 30_000, "g": 60_000])
        let tree = try CallTree(profile: p)
        #expect(tree.path(of: tree.nodeCount - 1) == ["f", "g"])

        let hitsOnly = """
            {"nodes": [{"id": 1, "callFrame": {"functionName": "(root)"}, "hitCount": 0, "children": [2]},
                       {"id": 2, "callFrame": {"functionName": "f"}, "hitCount": 3}], "startTime": 0, "endTime": 300}
            """
        let h = try decodeText(hitsOnly)
        #expect(h.total(ofType: 0) == 3)
        #expect(h.total(ofType: 1) == 300_000)
    }

    // MARK: perf script

    /// Number of samples as a reader that only counts header lines sees it.
    private func headerCount(_ name: String) throws -> Int {
        let text = String(decoding: try FormatFixtures.bytes(name), as: UTF8.self)
        return text.split(separator: "\n").filter { !$0.isEmpty && !$0.hasPrefix("\t") && !$0.hasPrefix(" ") && !$0.hasPrefix("#") }.count
    }

    @Test func perfStrlen() throws {
        let p = try FormatFixtures.decode("perf-strlen.txt")
        #expect(p.sampleTypes.map(\.description) == ["samples/count", "cpu-clock/nanoseconds"])
        #expect(p.defaultSampleType == "cpu-clock")
        let samples = try headerCount("perf-strlen.txt")
        #expect(p.total(ofType: 0) == Int64(samples))
        #expect(p.total(ofType: 1) == Int64(samples) * p.period)
        let top = try TopTable(profile: p)
        #expect(top.rows.first?.name.hasPrefix("__strlen") == true)
        // The caller that makes strlen hot is on its path.
        let upcase = top.rows.first { $0.name == "upcase_slowly" }
        #expect((upcase?.cum ?? 0) >= top.rows[0].flat)
        // Labels: thread (comm) and tid (perf script's default prints the tid alone; `pid/tid` gives both).
        let keys = Set(p.labels(ofSample: 0).map { p.strings[Int($0.key)] })
        #expect(keys == ["thread", "tid"])
        #expect(
            try TopTable(profile: p, options: TreeOptions(includeLabels: [LabelFilter(key: "thread", value: "hot")])).total
                == p.total(ofType: 1))
    }

    @Test func perfWriteMarksKernelFrames() throws {
        let p = try FormatFixtures.decode("perf-write.txt")
        let top = try TopTable(profile: p)
        let kernel = top.rows.filter { $0.name.hasSuffix(" [kernel]") }
        #expect(!kernel.isEmpty)
        #expect(top.rows.contains { $0.name == "entry_SYSCALL_64_after_hwframe [kernel]" })
        #expect(!top.rows.contains { $0.name == "write_unbuffered [kernel]" })
        let writer = top.rows.first { $0.name == "write_unbuffered" }
        #expect(Double(writer?.cum ?? 0) >= 0.5 * Double(top.total))
        // Kernel share: samples whose leaf is a kernel frame.
        #expect(kernel.reduce(0) { $0 + $1.flat } > 0)
    }

    @Test func perfUnknownFramesAreNamedLikePprof() throws {
        let p = try FormatFixtures.decode("perf-python-quadratic.txt")
        let tree = try CallTree(profile: p)
        // `[unknown] ([unknown])` frames are unsymbolized locations without a mapping: `0x…` in the tree,
        // `<unknown>` in the top table, as pprof names them.
        #expect(tree.names.contains { $0.hasPrefix("0x7f") })
        let top = try TopTable(profile: p)
        #expect(top.rows.contains { $0.name == "<unknown>" })
        #expect(p.total(ofType: 0) == Int64(try headerCount("perf-python-quadratic.txt")))
    }

    @Test func perfHeaderVariantsAndEvents() throws {
        let text = """
            # ========
            # captured on: today
            # ========
            Web Content 123/456 [002] 1000.000001:     1000 cycles:u:
            \t    4011aa work+0x1a (/usr/bin/app)
            \t    401000 main+0x10 (/usr/bin/app)
            \t          app.c:12

            Web Content 123/456 [002] 1000.000002:     3000 instructions:u:
            \t    4011aa work+0x1a (/usr/bin/app)
            \t ffffffffc0a01000 nf_hook+0x10 ([nf_tables])
            \t    7f0000001000 [unknown] (/usr/lib/libfoo.so (deleted))

            kworker/0:1 77 1000.000003: 500 cycles:
            \tffffffff81000000 [unknown] ([unknown])

            swapper     0 [000] 1000.000004:     250000 cpu-clock:ppp:  ffffffff81c80c41 default_idle+0x21 ([kernel.kallsyms])
            """
        #expect(ProfileReader.detect(Array(text.utf8)) == .perfScript)
        let p = try decodeText(text)
        #expect(p.sampleTypes.map(\.description) == ["samples/count", "cycles/count", "instructions/count", "cpu-clock/nanoseconds"])
        #expect(p.defaultSampleType == "cycles")
        #expect(p.total(ofType: 0) == 4)
        #expect(p.total(ofType: 1) == 1500)
        #expect(p.total(ofType: 2) == 3000)
        #expect(p.total(ofType: 3) == 250_000)
        let threads = Set(
            (0..<p.sampleCount).compactMap { i in
                p.labels(ofSample: i).first { p.strings[Int($0.key)] == "thread" }.map { p.strings[Int($0.str)] }
            })
        #expect(threads == ["Web Content", "kworker/0:1", "swapper"])
        let tree = try CallTree(profile: p, options: TreeOptions(sampleType: .index(0)))
        let paths = Set((0..<tree.nodeCount).filter { tree.selfValue[$0] > 0 }.map { tree.path(of: $0).joined(separator: ";") })
        #expect(
            paths == [
                "main;work", "0x7f0000001000 [libfoo.so (deleted)];nf_hook [kernel];work", "0xffffffff81000000", "default_idle [kernel]",
            ])
    }
}
