import Foundation
#if canImport(Glibc)
    import Glibc
#endif
import TestSupport
import Testing

/// The process memory budget (`--max-memory`) and a host that stops reading, against the real executable.
@Suite(.serialized) struct MemoryBudgetTests {
    /// A valid profile that inflates to about `bytes`: one sample (of `value`), and one huge string in the string
    /// table (unused, but decoding holds it: copied by protobuf-c, then as a Swift string), gzipped to ~1/1000.
    static func hugeProfile(inflatingTo bytes: Int, value: Int64 = 5) -> [UInt8] {
        var builder = PprofBuilder()
        builder.samples[0].values = [value]
        var w = ProtobufWriter()
        w.raw(builder.encode())
        w.bytes(6, [UInt8](repeating: 0x61, count: bytes))
        return gzip(w.bytes)
    }

    /// VmHWM and VmRSS of a process, in bytes.
    static func memory(of pid: Int32) -> (peak: Int, resident: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
                return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) * 1024
            }
            return 0
        }
        return (field("VmHWM"), field("VmRSS"))
    }

    static func mib(_ bytes: Int) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }

    /// 16 concurrent requests for profiles that each inflate to near the cap (48 of 64 MiB): the process stays
    /// under its budget, answers every request (a result, or "overloaded" with a retry hint), and at least
    /// floor(budget / one request's need) of them get a result.
    @Test func sixteenHugeProfilesStayWithinTheBudget() throws {
        let budget = 800 << 20
        let inflated = 48 << 20
        // What one request reserves (MemoryReservation.need: 16 MiB and 5x the inflated bytes).
        let need = (16 << 20) + 5 * inflated
        let rpc = try RPCProcess(arguments: [
            "--max-memory", "\(budget)", "--max-inflated-bytes", "\(64 << 20)", "--cache-bytes", "0", "--max-line-bytes", "\(1 << 20)",
            "--memory-wait-seconds", "10",
        ])
        rpc.request(0, "initialize")
        #expect(rpc.response(id: 0)?["result"] != nil)
        let pid = rpc.process.processIdentifier
        let baseline = Self.memory(of: pid).resident
        // Each profile differs (its one sample's value), so no two requests share work.
        var lines: [String] = []
        for i in 1 ... 16 {
            let profile = Data(Self.hugeProfile(inflatingTo: inflated, value: Int64(i))).base64EncodedString()
            lines.append(#"{"jsonrpc":"2.0","id":\#(i),"method":"profile.top","params":{"profile":{"pprof":"\#(profile)"}}}"#)
        }
        let started = Date()
        rpc.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        var results = 0
        var overloaded = 0
        var peak = 0
        for i in 1 ... 16 {
            let answer = rpc.response(id: i, timeout: 120)
            peak = max(peak, Self.memory(of: pid).peak)
            if answer?["result"] != nil {
                results += 1
            } else if let error = answer?["error"] as? [String: Any], error["code"] as? Int == -32004 {
                let data = error["data"] as? [String: Any]
                #expect(data?["kind"] as? String == "overloaded")
                #expect((data?["retryAfterMs"] as? Int ?? 0) > 0)
                overloaded += 1
            } else {
                Issue.record("request \(i): neither a result nor overloaded: \(String(describing: answer))")
            }
        }
        peak = max(peak, Self.memory(of: pid).peak)
        let seconds = Date().timeIntervalSince(started)
        print(
            "memory budget: \(Self.mib(budget)); one request needs \(Self.mib(need)); baseline RSS \(Self.mib(baseline)); peak RSS \(Self.mib(peak)); \(results) results, \(overloaded) overloaded in \(String(format: "%.1f", seconds)) s"
        )
        #expect(results + overloaded == 16)
        #expect(results >= budget / need)
        #expect(peak < budget, "peak RSS \(peak) over the budget \(budget)")
    }

    /// A budget too small for one such profile answers "overloaded" at once rather than decoding it.
    @Test func aBudgetWithNoRoomAnswersOverloaded() throws {
        let rpc = try RPCProcess(arguments: [
            "--max-memory", "96M", "--cache-bytes", "0", "--max-line-bytes", "\(1 << 20)", "--memory-wait-seconds", "0.2",
        ])
        rpc.request(1, "profile.top", ["profile": ["pprof": Data(Self.hugeProfile(inflatingTo: 40 << 20)).base64EncodedString()]])
        let error = rpc.response(id: 1, timeout: 30)?["error"] as? [String: Any]
        #expect(error?["code"] as? Int == -32004)
        let data = error?["data"] as? [String: Any]
        #expect(data?["kind"] as? String == "overloaded")
        #expect((data?["neededBytes"] as? Int ?? 0) >= 40 << 20)
        // Small profiles still fit.
        rpc.request(2, "profile.top", ["profile": ["pprof": try base64Profile("go-cpu-fib.pb.gz")]])
        #expect(rpc.response(id: 2, timeout: 30)?["result"] != nil)
    }

    @Test func maxMemoryTakesSizesAndRefusesNonsense() throws {
        let rpc = try RPCProcess(arguments: ["--max-memory", "lots"])
        #expect(rpc.waitForExit() != 0)
        #expect(rpc.stderr.contains("--max-memory lots is not a size"))
    }

    /// A host that stops reading our stdout but keeps the pipe open: the server stops reading its input once a
    /// bounded number of answers wait, so memory stays bounded however many large requests are queued.
    @Test func aHostThatStopsReadingKeepsMemoryBounded() throws {
        let process = Process()
        process.executableURL = Fixtures.executable
        process.arguments = ["serve", "--cache-bytes", "0"]
        let input = Pipe()
        let output = Pipe()  // never read
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        let profile = try base64Profile("go-heap.pb.gz")
        let line = Data(#"{"jsonrpc":"2.0","id":1,"method":"profile.flamegraph","params":{"profile":{"pprof":"\#(profile)"},"maxNodes":100000}}"#.utf8 + [0x0A])
        // The writes block once the server stops reading: write from a thread of its own, count what got through.
        // When the server is stopped at the end, the blocked write fails with EPIPE: that must not kill the test
        // process with SIGPIPE, and the writer must stop.
        signal(SIGPIPE, SIG_IGN)
        let written = Counter()
        let fd = input.fileHandleForWriting.fileDescriptor
        let bytes = [UInt8](line)
        let writer = Thread {
            for _ in 0 ..< 400 {
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
                    if n <= 0 { return }
                    offset += n
                }
                written.add()
            }
        }
        writer.start()
        var samples: [Int] = []
        for _ in 0 ..< 16 {
            Thread.sleep(forTimeInterval: 0.5)
            samples.append(Self.memory(of: process.processIdentifier).resident)
        }
        let peak = Self.memory(of: process.processIdentifier).peak
        print("host stops reading: \(written.value) of 400 requests written, RSS \(samples.map(Self.mib)), peak \(Self.mib(peak))")
        #expect(process.isRunning)
        #expect(written.value < 400, "the server read every request although nobody read its answers")
        #expect(peak < 400 << 20, "peak RSS \(peak)")
        // Bounded, not growing: the last samples are no higher than the middle ones by much.
        #expect(samples.suffix(4).max()! <= samples[6 ..< 10].max()! + (64 << 20), "\(samples)")
        process.terminate()
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.withLock { n += 1 } }
        var value: Int { lock.withLock { n } }
    }
}
