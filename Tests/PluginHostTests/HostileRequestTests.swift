import Foundation
import TestSupport
import Testing

/// Requests built to hurt the server: each gets a result or a typed error, and the next request is answered.
@Suite(.serialized) struct HostileRequestTests {
    func errorMessage(_ response: [String: Any]?) -> String? {
        (response?["error"] as? [String: Any])?["message"] as? String
    }

    func errorCode(_ response: [String: Any]?) -> Int? {
        (response?["error"] as? [String: Any])?["code"] as? Int
    }

    /// `{path}` under `--allow-dir`: relative names resolve against the directory, a FIFO is refused at once
    /// (it used to block a thread forever), a symlink out of the directory is refused, and `--allow-dir /`
    /// allows absolute paths instead of refusing all of them.
    @Test func pathsAreConfinedWithoutRacesOrFIFOs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("allow-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixture = Fixtures.profile("go-cpu-fib.pb.gz").path
        try FileManager.default.copyItem(atPath: fixture, toPath: dir.appendingPathComponent("fib.pb.gz").path)
        #expect(mkfifo(dir.appendingPathComponent("fifo").path, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("escape").path, withDestinationPath: "/etc/passwd")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)

        // The working directory is not the allowed one: a relative path must still resolve inside it.
        let rpc = try RPCProcess(arguments: ["--allow-dir", dir.path])
        rpc.request(1, "profile.info", ["profile": ["path": "fib.pb.gz"]])
        #expect((rpc.response(id: 1)?["result"] as? [String: Any])?["samples"] as? Int == 120)
        let started = Date()
        rpc.request(2, "profile.info", ["profile": ["path": "fifo"]])
        #expect(errorMessage(rpc.response(id: 2, timeout: 5))?.contains("not a regular file") == true)
        #expect(Date().timeIntervalSince(started) < 2)
        rpc.request(3, "profile.info", ["profile": ["path": "escape"]])
        #expect(errorMessage(rpc.response(id: 3))?.contains("outside the allowed directory") == true)
        rpc.request(4, "profile.info", ["profile": ["path": "sub"]])
        #expect(errorMessage(rpc.response(id: 4))?.contains("not a regular file") == true)
        rpc.request(5, "profile.info", ["profile": ["path": "sub/../../\(dir.lastPathComponent)/fib.pb.gz"]])
        #expect((rpc.response(id: 5)?["result"] as? [String: Any])?["samples"] as? Int == 120)
        rpc.request(6, "profile.info", ["profile": ["path": "../../etc/passwd"]])
        #expect(errorCode(rpc.response(id: 6)) == -32602)
        rpc.closeInput()
        #expect(rpc.waitForExit() == 0)

        let root = try RPCProcess(arguments: ["--allow-dir", "/"])
        root.request(1, "profile.info", ["profile": ["path": dir.appendingPathComponent("fib.pb.gz").path]])
        #expect((root.response(id: 1)?["result"] as? [String: Any])?["samples"] as? Int == 120)
        root.closeInput()
        #expect(root.waitForExit() == 0)
    }

    /// Base64 with characters outside the alphabet is refused (it was skipped, giving free bytes for cache
    /// collisions), and maxNodes 0 over RPC is out of range instead of "no cut".
    @Test func strictBase64AndABoundedNodeCount() throws {
        let rpc = try RPCProcess()
        let good = try base64Profile("go-cpu-fib.pb.gz")
        rpc.request(1, "profile.top", ["profile": ["pprof": good], "limit": 1])
        #expect(rpc.response(id: 1)?["result"] != nil)
        rpc.request(2, "profile.top", ["profile": ["pprof": "!!" + good + "~~"], "limit": 1])
        #expect(errorMessage(rpc.response(id: 2))?.contains("not valid base64") == true)
        rpc.request(3, "profile.flamegraph", ["profile": ["pprof": good], "maxNodes": 0])
        #expect(errorCode(rpc.response(id: 3)) == -32602)
        rpc.request(4, "profile.diff", ["baseline": ["pprof": good], "comparison": ["pprof": good], "maxNodes": 0])
        #expect(errorCode(rpc.response(id: 4)) == -32602)
        rpc.request(5, "profile.flamegraph", ["profile": ["pprof": good], "maxNodes": 1 << 20])
        #expect(rpc.response(id: 5)?["result"] != nil)
        rpc.closeInput()
        #expect(rpc.waitForExit() == 0)
    }
}

/// Patterns built to backtrack, and work that is cancelled: `--focus`/`focus` take RE2 syntax matched in
/// linear time, and a cancelled request stops using the CPU.
@Suite(.serialized) struct PatternAndCancellationTests {
    static let pathological = ["(a+)+$", "(a|a)*$", "(a|aa)+$", "a*a*a*a*a*b"]

    /// A profile whose functions have long names: `b` + 10,000 × `a` + a number, and `main`.
    static func longNames(count: Int, length: Int = 10_000) -> [UInt8] {
        var b = PprofBuilder()
        b.strings = ["", "cpu", "nanoseconds", "main", "main.go"]
        b.functions = [(1, 3, 4)]
        b.locations = [.init(id: 1, lines: [(1, 1)])]
        b.samples = []
        for i in 0 ..< count {
            b.strings.append("b" + String(repeating: "a", count: length) + "!\(i)")
            let id = UInt64(i + 2)
            b.functions.append((id, Int64(b.strings.count - 1), 4))
            b.locations.append(.init(id: id, lines: [(functionID: id, line: Int64(1))]))
            b.samples.append(.init(locationIDs: [id, 1], values: [Int64(i + 1)]))
        }
        return b.encode()
    }

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("long-\(UUID()).pb").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func backtrackingPatternsFinishFastInTheCLI() throws {
        let path = try Self.write(Self.longNames(count: 1))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for pattern in Self.pathological {
            let started = Date()
            let r = try runFlamegraphAI(["top", path, "--focus", pattern])
            #expect(r.status == 0, "\(pattern): \(r.stderr)")
            #expect(Date().timeIntervalSince(started) < 1.5, "\(pattern) took \(Date().timeIntervalSince(started)) s")
        }
        // Not RE2: a clear error, not a hang.
        let r = try runFlamegraphAI(["top", path, "--focus", "(a)\\1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("backreference"))
    }

    @Test func backtrackingPatternsFinishFastOverJSONRPC() throws {
        let profile = Data(Self.longNames(count: 1)).base64EncodedString()
        let rpc = try RPCProcess()
        for (i, pattern) in Self.pathological.enumerated() {
            let started = Date()
            rpc.request(i, "profile.top", ["profile": ["pprof": profile], "focus": pattern, "limit": 1])
            #expect(rpc.response(id: i, timeout: 5)?["result"] != nil, "\(pattern)")
            #expect(Date().timeIntervalSince(started) < 1, "\(pattern) took \(Date().timeIntervalSince(started)) s")
        }
        rpc.request(99, "profile.top", ["profile": ["pprof": profile], "ignore": "(?<=a)b", "limit": 1])
        #expect(((rpc.response(id: 99)?["error"] as? [String: Any])?["message"] as? String)?.contains("lookaround") == true)
        rpc.closeInput()
        #expect(rpc.waitForExit() == 0)
    }

    /// CPU time of a process in seconds (utime + stime from /proc).
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// A linear but long request (a pattern of ~200 states over 2,000-character names, tens of milliseconds
    /// per name in a debug build, 1,000 names): while it runs the process uses the CPU; once cancelled it
    /// answers -32800 and its CPU use drops within a second (work stops at the next function name).
    @Test func cancellingACPUHeavyRequestStopsItsWork() throws {
        let profile = Data(Self.longNames(count: 1000, length: 2000)).base64EncodedString()
        let rpc = try RPCProcess()
        let pid = rpc.process.processIdentifier
        rpc.request(1, "profile.top", ["profile": ["pprof": profile], "focus": "a{200}b", "limit": 1])
        Thread.sleep(forTimeInterval: 1.5)
        let busyStart = try #require(Self.cpuSeconds(pid))
        Thread.sleep(forTimeInterval: 1.0)
        let busy = try #require(Self.cpuSeconds(pid)) - busyStart
        // On a loaded machine the process gets less than a core; it only has to be clearly busy.
        #expect(busy > 0.25, "the request should be using the CPU before it is cancelled (used \(busy) s)")
        rpc.notify("$/cancelRequest", ["id": 1])
        let error = rpc.response(id: 1, timeout: 2)?["error"] as? [String: Any]
        #expect(error?["code"] as? Int == -32800)
        Thread.sleep(forTimeInterval: 1.0)
        let idleStart = try #require(Self.cpuSeconds(pid))
        Thread.sleep(forTimeInterval: 1.0)
        let idle = try #require(Self.cpuSeconds(pid)) - idleStart
        #expect(idle < 0.2, "the cancelled work kept running (\(idle) s of CPU in the second after)")
        rpc.request(2, "profile.top", ["profile": ["pprof": profile], "limit": 1])
        #expect(rpc.response(id: 2, timeout: 10)?["result"] != nil)
        rpc.closeInput()
        #expect(rpc.waitForExit() == 0)
    }
}

/// The crafted profiles of the "Fix first" report, over the real executable and over JSON-RPC.
@Suite struct CraftedProfileTests {
    static let labelRun = Fixtures.root.appendingPathComponent("crafted/label-run-overflow.pb").path

    /// Two samples of 2^62 under one parent: their sum does not fit in 64 bits.
    static func overflowing() -> [UInt8] {
        var b = PprofBuilder()
        b.samples = [.init(locationIDs: [2, 1], values: [1 << 62]), .init(locationIDs: [2, 1], values: [1 << 62])]
        return b.encode()
    }

    /// The label-run profile crashed `info`, `top` and `serve` (SIGSEGV in the hand-written decoder); it now
    /// decodes as protobuf-c does: 2,001 labels on the first sample, 2 on each other.
    @Test func theLabelRunProfileDecodesInEveryCommand() throws {
        for args in [["info", Self.labelRun], ["top", Self.labelRun], ["top", Self.labelRun, "--include-label", "k=v"],
                     ["flamegraph", Self.labelRun], ["explain", Self.labelRun]] {
            let r = try runFlamegraphAI(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
        }
        // Label sets as protobuf-c reads them: every sample carries k=v; n=i is on the 3,000 small ones only.
        let withN = try runFlamegraphAI(["top", Self.labelRun, "--include-label", "n=1500", "--raw"])
        #expect(withN.stdoutText.contains("Total: 1\n"))
        let rpc = try RPCProcess()
        let encoded = try Data(contentsOf: URL(fileURLWithPath: Self.labelRun)).base64EncodedString()
        rpc.request(1, "profile.info", ["profile": ["pprof": encoded]])
        #expect((rpc.response(id: 1)?["result"] as? [String: Any])?["samples"] as? Int == 3001)
        rpc.request(2, "profile.top", ["profile": ["pprof": encoded], "includeLabels": ["k=v"]])
        #expect(((rpc.response(id: 2)?["result"] as? [String: Any])?["total"] as? Int) == 3001)
        rpc.closeInput()
        #expect(rpc.waitForExit() == 0)
    }

    /// Values whose sum passes 2^63 trapped (SIGILL) in top and flamegraph and took serve down with every
    /// request in flight; now each command refuses the profile with a typed error and serve answers on.
    @Test func overflowingValuesAreATypedErrorEverywhere() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overflow-\(UUID()).pb").path
        try Data(Self.overflowing()).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for args in [["info", path], ["top", path], ["flamegraph", path], ["explain", path], ["diff", path, "--vs", path]] {
            let r = try runFlamegraphAI(args)
            #expect(r.status == 1, "\(args) exited \(r.status)")
            #expect(r.stderr.contains("Int64") || r.stderr.contains("64 bits") || r.stderr.contains("overflow"), "\(args): \(r.stderr)")
        }
        let rpc = try RPCProcess()
        let encoded = Data(Self.overflowing()).base64EncodedString()
        for (i, method) in ["profile.top", "profile.flamegraph", "flamegraph.explain"].enumerated() {
            rpc.request(i, method, ["profile": ["pprof": encoded]])
            #expect(((rpc.response(id: i)?["error"] as? [String: Any])?["code"] as? Int) == -32001, "\(method)")
        }
        rpc.request(9, "profile.top", ["profile": ["pprof": try base64Profile("go-cpu-fib.pb.gz")], "limit": 1])
        #expect(rpc.response(id: 9)?["result"] != nil)
        rpc.closeInput()
        #expect(rpc.waitForExit() == 0)
    }
}
