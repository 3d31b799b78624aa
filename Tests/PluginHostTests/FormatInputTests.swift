import Foundation
import TestSupport
import Testing

/// Every reader through the real executable: files by content in every command, `--input-format`, and over
/// JSON-RPC `profile: {data, encoding?}` beside `{pprof}`.
@Suite struct FormatInputTests {
    static func fixture(_ name: String) -> String { Fixtures.root.appendingPathComponent("formats/" + name).path }

    @Test func filesOfEveryFormatAreReadByContent() throws {
        for (file, top) in [
            ("pyspy-quadratic.folded", "bottlenecks.dedupe_quadratic"), ("node-quadratic.cpuprofile", "dedupeQuadratic"),
            ("pyspy-quadratic.speedscope.json", "bottlenecks.dedupe_quadratic"), ("perf-strlen.txt", "__strlen_avx2"),
        ] {
            let r = try runFlamegraphAI(["top", Self.fixture(file), "-n", "1"])
            #expect(r.status == 0, "\(file): \(r.stderr)")
            #expect(r.stdoutText.split(separator: "\n").last?.hasSuffix(top) == true, "\(file): \(r.stdoutText)")
        }
        let legacy = try runFlamegraphAI(["info", Fixtures.profile("legacy-go-heap.txt").path])
        #expect(legacy.status == 0 && legacy.stdoutText.contains("inuse_space"))
        // Named explicitly, and refused when it does not fit.
        #expect(try runFlamegraphAI(["top", Self.fixture("pyspy-quadratic.folded"), "--input-format", "folded"]).status == 0)
        let wrong = try runFlamegraphAI(["top", Self.fixture("pyspy-quadratic.folded"), "--input-format", "cpuprofile"])
        #expect(wrong.status != 0 && wrong.stderr.contains("cpuprofile"))
        let junk = FileManager.default.temporaryDirectory.appendingPathComponent("junk-\(UUID()).bin").path
        try Data((0 ..< 200).map { UInt8(($0 * 97 + 13) % 251) }).write(to: URL(fileURLWithPath: junk))
        defer { try? FileManager.default.removeItem(atPath: junk) }
        let unknown = try runFlamegraphAI(["top", junk])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("folded") && unknown.stderr.contains("speedscope"), "\(unknown.stderr)")
    }

    @Test func dataWithAnEncodingOverJSONRPC() throws {
        let rpc = try RPCProcess()
        let folded = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("pyspy-regex.folded"))).base64EncodedString()
        rpc.request(1, "profile.top", ["profile": ["data": folded], "limit": 1])
        let rows = (rpc.response(id: 1)?["result"] as? [String: Any])?["rows"] as? [[String: Any]]
        #expect(rows?.first?["name"] as? String == "re._parser._parse")
        rpc.request(2, "profile.top", ["profile": ["data": folded, "encoding": "folded"], "limit": 1])
        #expect(rpc.response(id: 2)?["result"] != nil)
        rpc.request(3, "profile.top", ["profile": ["data": folded, "encoding": "klingon"]])
        let error = rpc.response(id: 3)?["error"] as? [String: Any]
        #expect(error?["code"] as? Int == -32602)
        #expect((error?["message"] as? String)?.contains("perf-script") == true)
        rpc.request(4, "flamegraph.explain", ["profile": ["data": folded]])
        let markdown = (rpc.response(id: 4, timeout: 30)?["result"] as? [String: Any])?["markdown"] as? String
        #expect(markdown?.contains("`bottlenecks.match_with_fresh_regex`") == true)
        rpc.request(5, "initialize")
        let encodings = (rpc.response(id: 5)?["result"] as? [String: Any])?["profileEncodings"] as? [String]
        #expect(encodings?.contains("speedscope") == true)
        rpc.closeInput()
        #expect(rpc.waitForExit() == 0)
    }
}
