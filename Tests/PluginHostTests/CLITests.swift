import Foundation
import TestSupport
import Testing

/// The executable, run as a user runs it.
@Suite struct CLITests {
    @Test func infoShowsTypesCountsAndPeriod() throws {
        let r = try runFlamegraphAI(["info", Fixtures.profile("go-cpu-large.pb.gz").path])
        #expect(r.status == 0)
        #expect(r.stdoutText.contains("Sample types: 0:samples/count 1:cpu/nanoseconds"))
        #expect(r.stdoutText.contains("Samples: 20430 ("))
        #expect(r.stdoutText.contains("Period: 10000000 cpu/nanoseconds"))
        #expect(r.stdoutText.contains("Duration: 240.36s"))
        #expect(r.stdoutText.contains("Total cpu/nanoseconds: 240290000000"))
    }

    @Test func topMatchesPprofLayout() throws {
        let r = try runFlamegraphAI(["top", Fixtures.profile("go-cpu-large.pb.gz").path, "-n", "3"])
        #expect(r.status == 0)
        let lines = r.stdoutText.split(separator: "\n")
        #expect(lines[1] == "Total: 240.29s")
        #expect(lines[4].hasSuffix("  time.Now"))
        #expect(lines[4].contains("205.17s"))
        #expect(lines[4].contains("85.38%"))
        #expect(lines.count == 7)
    }

    @Test func topBySampleTypeName() throws {
        let r = try runFlamegraphAI(["top", Fixtures.profile("go-heap.pb.gz").path, "--sample-type", "alloc_space", "--raw", "-n", "1"])
        #expect(r.status == 0)
        #expect(r.stdoutText.contains("119188960696"))
        #expect(r.stdoutText.contains("google.golang.org/grpc.(*parser).recvMsg"))
    }

    @Test func flamegraphFormats() throws {
        let path = Fixtures.profile("go-cpu-fib.pb.gz").path
        let levels = try runFlamegraphAI(["flamegraph", path])
        #expect(levels.status == 0)
        let json = try JSONSerialization.jsonObject(with: levels.stdout) as! [String: Any]
        #expect(json["total"] as? Int == 29_740_000_000)
        let frame = try runFlamegraphAI(["flamegraph", path, "--format", "dataframe", "--max-nodes", "16"])
        #expect(frame.status == 0)
        #expect(frame.stdoutText.hasPrefix("{\"schema\""))
        let folded = try runFlamegraphAI(["flamegraph", path, "--format", "folded"])
        let sum = folded.stdoutText.split(separator: "\n").reduce(Int64(0)) { $0 + Int64($1.split(separator: " ").last!)! }
        #expect(sum == 29_740_000_000)
    }

    @Test func badProfileIsAClearErrorOnStderr() throws {
        let r = try runFlamegraphAI(["top", Fixtures.profile("broken-truncated-gzip.pb.gz").path])
        #expect(r.status != 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("corrupt or truncated gzip data"))
    }

    @Test func missingFileAndUnknownSampleType() throws {
        let missing = try runFlamegraphAI(["info", "/nonexistent/profile.pb.gz"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("No such file"))
        let unknown = try runFlamegraphAI(["top", Fixtures.profile("go-cpu-fib.pb.gz").path, "--sample-type", "wall"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown sample type 'wall'; the profile has: 0:samples/count, 1:cpu/nanoseconds"))
    }

    @Test func maxNodesIsValidated() throws {
        let r = try runFlamegraphAI(["flamegraph", Fixtures.profile("go-cpu-fib.pb.gz").path, "--max-nodes", "-1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--max-nodes"))
    }
}

@Suite struct DiffCLITests {
    @Test func diffTableSaysHowItNormalizes() throws {
        let base = Fixtures.profile("go-cpu-pyroscope.pb.gz").path
        let cmp = Fixtures.profile("go-cpu-span-labels.pb.gz").path
        let r = try runFlamegraphAI(["diff", base, "--vs", cmp, "-n", "3"])
        #expect(r.status == 0)
        #expect(r.stdoutText.contains("Normalization: share (each side as a share of its own total; deltas in percentage points)"))
        #expect(r.stdoutText.contains("Largest increases by self:"))
        #expect(r.stdoutText.contains("runtime.memmove"))
    }

    @Test func diffFormats() throws {
        let base = Fixtures.profile("go-cpu-pyroscope.pb.gz").path
        let cmp = Fixtures.profile("go-cpu-span-labels.pb.gz").path
        let levels = try runFlamegraphAI(["diff", base, "--vs", cmp, "--format", "levels", "--normalize"])
        let json = try JSONSerialization.jsonObject(with: levels.stdout) as! [String: Any]
        #expect(json["normalization"] as? String == "normalize")
        let folded = try runFlamegraphAI(["diff", base, "--vs", cmp, "--format", "folded", "--raw"])
        let sums = folded.stdoutText.split(separator: "\n").reduce((Int64(0), Int64(0))) { acc, line in
            let parts = line.split(separator: " ")
            return (acc.0 + Int64(parts[parts.count - 2])!, acc.1 + Int64(parts[parts.count - 1])!)
        }
        #expect(sums == (500_000_000, 1_320_000_000))
    }

    @Test func diffNeedsAComparison() throws {
        let r = try runFlamegraphAI(["diff", Fixtures.profile("go-cpu-fib.pb.gz").path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--vs"))
    }
}

@Suite struct LLMCLITests {
    @Test func askStreamsAndHealthReports() throws {
        let server = try LLMTestServer(token: "sk-cli-key-777")
        let env = ["FLAMEGRAPH_AI_LLM_URL": server.baseURL, "FLAMEGRAPH_AI_LLM_MODE": "openai", "FLAMEGRAPH_AI_LLM_API_KEY": "sk-cli-key-777"]
        let ask = try runFlamegraphAI(["llm", "ask", "what is hot"], environment: env)
        #expect(ask.status == 0)
        #expect(ask.stdoutText == "echo: what is hot\n")
        let health = try runFlamegraphAI(["llm", "health", "--llm-mode", "grafana-llm-app"], environment: env)
        #expect(health.status == 0)
        #expect(health.stdoutText.contains("reachable: true, ok: true"))
        // A wrong key, echoed back by the server, shows on neither stream.
        var wrong = env
        wrong["FLAMEGRAPH_AI_LLM_API_KEY"] = "sk-wrong-cli-key-123"
        let refused = try runFlamegraphAI(["llm", "ask", "hi"], environment: wrong)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("refused the credential"))
        #expect(!refused.stderr.contains("sk-wrong-cli-key-123") && !refused.stdoutText.contains("sk-wrong-cli-key-123"))
        let unconfigured = try runFlamegraphAI(["llm", "health"], environment: ["FLAMEGRAPH_AI_LLM_URL": ""])
        #expect(unconfigured.status != 0)
        #expect(unconfigured.stderr.contains("no gateway configured"))
    }
}
