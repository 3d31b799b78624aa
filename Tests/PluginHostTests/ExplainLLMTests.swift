import Foundation
import TestSupport
import Testing

/// flamegraph.explain, explainDiff and explain.followUp against the local OpenAI-compatible test server,
/// over the real executable's pipes.
@Suite(.serialized) struct ExplainLLMTests {
    static let secret = "sk-test-EXPLAIN_SECRET_91c3"

    /// An answer in Grafana's three sections that cites two real functions of go-cpu-fib, one that is not
    /// in the profile, one true share and one made-up share.
    static let answer = """
        ##### Performance bottleneck
        Most time goes to `math/big.addVV` and `math/big.nat.add`, reached from `fib.Fibonacci` (96.2% of cpu).
        ##### Root cause
        `main.fastInverseSqrt` recomputes values; `math/big.addVV` is busy at 12.3456%.
        ##### Recommended fix
        Cache results in `main.calculateFib`.
        """

    func context(_ llm: LLMTestServer, model: String = "test-model") -> [String: Any] {
        ["orgId": 1, "appInstanceSettings": [
            "jsonData": ["llmMode": "openai", "llmURL": llm.baseURL, "llmModel": model],
            "decryptedSecureJsonData": ["llmApiKey": Self.secret],
        ]]
    }

    func profile(_ name: String) throws -> [String: Any] { ["pprof": try base64Profile(name)] }

    @Test func aStreamedExplanationArrivesAsNotificationsThenAGroundedResult() throws {
        let llm = try LLMTestServer(token: Self.secret, reply: Self.answer)
        let rpc = try RPCProcess(arguments: ["--log-level", "trace"])
        rpc.request(1, "flamegraph.explain", ["profile": try profile("go-cpu-fib.pb.gz"), "stream": true, "pluginContext": context(llm)])
        let response = rpc.response(id: 1, timeout: 30)
        let result = try #require(response?["result"] as? [String: Any], "\(String(describing: response))")
        #expect(result["source"] as? String == "llm")
        // The deltas came first, tied to the request, and add up to the answer.
        let deltas = rpc.skipped.filter { $0["method"] as? String == "$/progress" }.compactMap { $0["params"] as? [String: Any] }
        #expect(deltas.count > 3)
        #expect(deltas.allSatisfy { $0["id"] as? Int == 1 })
        let streamed = deltas.compactMap { ($0["value"] as? [String: Any])?["text"] as? String }.joined()
        #expect(streamed == Self.answer)

        let grounding = try #require(result["grounding"] as? [String: Any])
        let verified = grounding["verified"] as? [String] ?? []
        let unverified = grounding["unverified"] as? [String] ?? []
        #expect(unverified == ["main.fastInverseSqrt"])
        #expect(Set(verified) == ["math/big.addVV", "math/big.nat.add", "fib.Fibonacci", "main.calculateFib"])
        // A short name from the prompt is written out in full.
        #expect(!(result["markdown"] as? String ?? "").contains("`fib.Fibonacci`"))
        #expect(grounding["grounded"] as? Bool == false)
        let numbers = grounding["numbers"] as? [String: Any]
        #expect(numbers?["unverified"] as? [String] == ["12.3456%"])
        let markdown = result["markdown"] as? String ?? ""
        #expect(markdown.contains("`main.fastInverseSqrt` (not in the profile)"))
        #expect(markdown.contains("12.3456% (unverified)"))
        let sections = result["sections"] as? [String: String]
        #expect(sections?["fix"] == "Cache results in `main.calculateFib`.")
        #expect((result["prompt"] as? [String: Any])?["templateVersion"] as? String == "v1")
        #expect(result["conversationId"] as? String != nil)

        rpc.closeInput()
        _ = rpc.waitForExit()
        #expect(!rpc.stderr.contains(Self.secret))
    }

    @Test func aNonStreamedAnswerIsGroundedToo() throws {
        let llm = try LLMTestServer(token: Self.secret, reply: Self.answer)
        let rpc = try RPCProcess()
        rpc.request(1, "flamegraph.explain", ["profile": try profile("go-cpu-fib.pb.gz"), "pluginContext": context(llm)])
        let result = rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any]
        #expect(result?["source"] as? String == "llm")
        #expect((result?["grounding"] as? [String: Any])?["unverified"] as? [String] == ["main.fastInverseSqrt"])
        #expect(rpc.skipped.filter { $0["method"] as? String == "$/progress" }.isEmpty)
    }

    @Test(arguments: ["fault:500", "fault:broken-sse", "fault:close", "fault:invalid-json"])
    func aGatewayFailureYieldsTheOfflineAnswer(_ fault: String) throws {
        let llm = try LLMTestServer(token: Self.secret)
        let rpc = try RPCProcess()
        let stream = fault == "fault:broken-sse"
        rpc.request(1, "flamegraph.explain", [
            "profile": try profile("java-cpu-jfr-kafka.pb.gz"), "stream": stream, "pluginContext": context(llm, model: fault),
        ])
        let response = rpc.response(id: 1, timeout: 60)
        let result = try #require(response?["result"] as? [String: Any], "\(String(describing: response))")
        #expect(result["source"] as? String == "offline")
        let fallback = result["fallback"] as? [String: Any]
        #expect(fallback?["reason"] as? String != nil)
        #expect((result["sections"] as? [String: String])?["rootCause"]?.contains("regular-expression") == true)
        #expect((result["grounding"] as? [String: Any])?["grounded"] as? Bool == true)
        let text = String(describing: result)
        #expect(!text.contains(Self.secret))
    }

    @Test func cancellingAStalledStreamAnswersCancelledAtOnce() throws {
        let llm = try LLMTestServer(token: Self.secret)
        let rpc = try RPCProcess()
        rpc.request(1, "flamegraph.explain", [
            "profile": try profile("go-cpu-fib.pb.gz"), "stream": true, "pluginContext": context(llm, model: "fault:stall=2"),
        ])
        // Wait for the first streamed text, then cancel while the server holds the stream open.
        var sawDelta = false
        let deadline = Date(timeIntervalSinceNow: 20)
        while !sawDelta, Date() < deadline, let m = rpc.next(timeout: 20) as? [String: Any] {
            sawDelta = m["method"] as? String == "$/progress"
        }
        #expect(sawDelta)
        let started = Date()
        rpc.notify("$/cancelRequest", ["id": 1])
        let error = rpc.response(id: 1, timeout: 10)?["error"] as? [String: Any]
        #expect(error?["code"] as? Int == -32800)
        #expect(Date().timeIntervalSince(started) < 1)
    }

    @Test func anUnreachableOrUnconfiguredGatewayYieldsTheOfflineAnswer() throws {
        let rpc = try RPCProcess(arguments: ["--llm-url", "http://127.0.0.1:9", "--llm-mode", "openai"])
        rpc.request(1, "flamegraph.explain", ["profile": try profile("go-cpu-fib.pb.gz")])
        let result = rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any]
        #expect(result?["source"] as? String == "offline")
        #expect((result?["fallback"] as? [String: Any])?["reason"] as? String == "unreachable")

        let plain = try RPCProcess()
        plain.request(1, "flamegraph.explain", ["profile": try profile("go-cpu-fib.pb.gz")])
        let offline = plain.response(id: 1)?["result"] as? [String: Any]
        #expect((offline?["fallback"] as? [String: Any])?["reason"] as? String == "not_configured")
    }

    @Test func followUpsContinueTheConversation() throws {
        let llm = try LLMTestServer(token: Self.secret)  // echoes the last user message
        let rpc = try RPCProcess()
        rpc.request(1, "flamegraph.explain", ["profile": try profile("go-cpu-fib.pb.gz"), "pluginContext": context(llm)])
        let first = rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any]
        let id = try #require(first?["conversationId"] as? String)
        // The echo of the prompt is no answer: the gate rejects it and the offline analysis answers.
        #expect((first?["quality"] as? [String: Any])?["verdict"] as? String == "reject")
        #expect((first?["fallback"] as? [String: Any])?["reason"] as? String == "low_quality")
        rpc.request(2, "explain.followUp", ["conversationId": id, "question": "Why is `main.calculateFib` slow?", "stream": true, "pluginContext": context(llm)])
        let second = rpc.response(id: 2, timeout: 30)?["result"] as? [String: Any]
        #expect(second?["source"] as? String == "llm")
        #expect(second?["markdown"] as? String == "echo: Why is `main.calculateFib` slow?")
        #expect((second?["quality"] as? [String: Any])?["verdict"] as? String == "accept")
        #expect((second?["grounding"] as? [String: Any])?["verified"] as? [String] == ["main.calculateFib"])

        rpc.request(3, "explain.followUp", ["conversationId": "no-such-id", "question": "?"])
        let error = rpc.response(id: 3)?["error"] as? [String: Any]
        #expect((error?["data"] as? [String: Any])?["kind"] as? String == "unknown_conversation")
        rpc.request(4, "explain.followUp", ["conversationId": id, "question": String(repeating: "x", count: 5000)])
        #expect((rpc.response(id: 4)?["error"] as? [String: Any])?["code"] as? Int == -32602)
        // Without a model, a follow-up still answers, with the offline analysis.
        rpc.request(5, "explain.followUp", ["conversationId": id, "question": "And now?"])
        #expect((rpc.response(id: 5)?["result"] as? [String: Any])?["source"] as? String == "offline")
    }

    @Test func explainDiffOverRPCAndResource() throws {
        let rpc = try RPCProcess()
        let base = ["pprof": try Data(contentsOf: Fixtures.root.appendingPathComponent("interpret/service-base.pb.gz")).base64EncodedString()]
        let json = ["pprof": try Data(contentsOf: Fixtures.root.appendingPathComponent("interpret/service-json.pb.gz")).base64EncodedString()]
        rpc.request(1, "flamegraph.explainDiff", ["baseline": base, "comparison": json])
        let result = rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any]
        #expect(result?["source"] as? String == "offline")
        let sections = result?["sections"] as? [String: String]
        #expect(sections?["functionImpact"]?.hasPrefix("`main.encodeResponse`") == true)
        #expect((result?["analysis"] as? [String: Any])?["culprit"] as? String == "main.encodeResponse")
        let body = try JSONSerialization.data(withJSONObject: ["baseline": base, "comparison": json]).base64EncodedString()
        rpc.request(2, "callResource", ["path": "/explainDiff", "method": "POST", "body": body])
        #expect((rpc.response(id: 2, timeout: 30)?["result"] as? [String: Any])?["status"] as? Int == 200)
    }

    @Test func aDiffExplainedByTheModelIsGroundedAgainstBothSides() throws {
        let reply = """
            ##### Performance change
            `main.encodeResponse` is new and takes 21.88pp more; `json.(*encodeState).string` grew +3.26pp.
            ##### Function impact
            `main.encodeResponse`, `main.renderTemplate`
            ##### Potential causes
            JSON encoding per request.
            """
        let llm = try LLMTestServer(token: Self.secret, reply: reply)
        let rpc = try RPCProcess()
        func side(_ s: String) throws -> [String: Any] {
            ["pprof": try Data(contentsOf: Fixtures.root.appendingPathComponent("interpret/\(s).pb.gz")).base64EncodedString()]
        }
        rpc.request(1, "flamegraph.explainDiff", [
            "baseline": try side("service-base"), "comparison": try side("service-json"), "pluginContext": context(llm),
        ])
        let result = try #require(rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any])
        #expect(result["source"] as? String == "llm")
        let grounding = result["grounding"] as? [String: Any]
        #expect(grounding?["verified"] as? [String] == ["main.encodeResponse", "json.(*encodeState).string"])
        #expect(grounding?["unverified"] as? [String] == ["main.renderTemplate"])
        #expect((grounding?["numbers"] as? [String: Any])?["unverified"] as? [String] == [])
        let sections = result["sections"] as? [String: String]
        #expect(sections?["functionImpact"]?.contains("`main.renderTemplate` (not in the profile)") == true)
        #expect(sections?["performanceChange"]?.contains("`encoding/json.(*encodeState).string`") == true)
    }

    @Test func theCLIStreamsTheLLMAnswerAndReportsGrounding() throws {
        let llm = try LLMTestServer(token: Self.secret, reply: Self.answer)
        let r = try runFlamegraphAI(
            ["explain", Fixtures.profile("go-cpu-fib.pb.gz").path],
            environment: ["FLAMEGRAPH_AI_LLM_URL": llm.baseURL, "FLAMEGRAPH_AI_LLM_MODE": "openai", "FLAMEGRAPH_AI_LLM_MODEL": "test-model",
                  "FLAMEGRAPH_AI_LLM_API_KEY": Self.secret])
        let out = String(decoding: r.stdout, as: UTF8.self)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(out.contains("Source: LLM"))
        #expect(out.contains("`main.fastInverseSqrt` recomputes"))
        #expect(out.contains("Grounding: 4 of 5 cited names found in the profile; not in the profile: `main.fastInverseSqrt`"))
        #expect(!out.contains(Self.secret) && !r.stderr.contains(Self.secret))

        let failing = try runFlamegraphAI(
            ["explain", Fixtures.profile("go-cpu-fib.pb.gz").path],
            environment: ["FLAMEGRAPH_AI_LLM_URL": llm.baseURL, "FLAMEGRAPH_AI_LLM_MODE": "openai", "FLAMEGRAPH_AI_LLM_MODEL": "fault:500",
                  "FLAMEGRAPH_AI_LLM_API_KEY": Self.secret])
        let text = String(decoding: failing.stdout, as: UTF8.self)
        #expect(failing.status == 0)
        #expect(text.contains("source: offline analysis"))
        #expect(text.contains("##### Root cause"))
    }
}

@Suite struct ExplainFlameGraphInputTests {
    @Test func aFlameGraphInLevelsFormIsExplainedLikeItsProfile() throws {
        let rpc = try RPCProcess()
        let profile = ["pprof": try base64Profile("java-cpu-jfr-kafka.pb.gz")]
        rpc.request(1, "profile.flamegraph", ["profile": profile, "maxNodes": 100000])
        let graph = try #require((rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any])?["flamegraph"] as? [String: Any])
        rpc.request(2, "flamegraph.explain", ["flamegraph": graph, "sampleType": ["type": "cpu", "unit": "nanoseconds"]])
        rpc.request(3, "flamegraph.explain", ["profile": profile])
        let fromGraph = rpc.response(id: 2, timeout: 30)?["result"] as? [String: Any]
        let fromProfile = rpc.response(id: 3, timeout: 30)?["result"] as? [String: Any]
        let a = fromGraph?["analysis"] as? [String: Any]
        let b = fromProfile?["analysis"] as? [String: Any]
        #expect(a?["bottleneck"] as? String == b?["bottleneck"] as? String)
        #expect(a?["culprit"] as? String == b?["culprit"] as? String)
        #expect((fromGraph?["sections"] as? [String: String])?["rootCause"]?.contains("regular-expression") == true)

        rpc.request(4, "flamegraph.explain", ["flamegraph": ["names": ["total"], "levels": [[0, 1, 0, 0], [0, 1, 1, 5]]]])
        let error = rpc.response(id: 4)?["error"] as? [String: Any]
        #expect((error?["message"] as? String)?.contains("name index 5") == true)
    }
}

/// `subtree`: "Explain this node" over the real pipes, for a profile and for a flame graph in levels form.
@Suite struct ExplainSubtreeTests {
    static let node = ["main.calculateFib", "log.Println"]

    @Test func aSubtreeIsExplainedAsItsOwnProfile() throws {
        let rpc = try RPCProcess()
        let profile = ["pprof": try base64Profile("go-cpu-fib.pb.gz")]
        rpc.request(1, "flamegraph.explain", ["profile": profile])
        rpc.request(2, "flamegraph.explain", ["profile": profile, "subtree": Self.node])
        let whole = try #require(rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any])
        let node = try #require(rpc.response(id: 2, timeout: 30)?["result"] as? [String: Any])
        let a = try #require(whole["analysis"] as? [String: Any])
        let b = try #require(node["analysis"] as? [String: Any])
        // The node's total (log.Println under main.calculateFib: 0.3 s of 29.74 s) is the analysis' 100%.
        #expect(a["total"] as? Int == 29_740_000_000)
        #expect(b["total"] as? Int == 300_000_000)
        #expect(b["bottleneck"] as? String != a["bottleneck"] as? String)
        #expect(node["source"] as? String == "offline")
        #expect((node["sections"] as? [String: String])?["bottleneck"]?.isEmpty == false)
        // Every function the node's analysis names is below log.Println.
        let hot = b["hotPath"] as? [String] ?? []
        #expect(hot.first == "log.Println")
        #expect(!hot.contains("main.calculateFib"))

        // The same subtree of the same graph in levels form.
        rpc.request(3, "profile.flamegraph", ["profile": profile, "maxNodes": 100000])
        let graph = try #require((rpc.response(id: 3, timeout: 30)?["result"] as? [String: Any])?["flamegraph"] as? [String: Any])
        rpc.request(4, "flamegraph.explain", ["flamegraph": graph, "subtree": Self.node])
        let fromGraph = rpc.response(id: 4, timeout: 30)?["result"] as? [String: Any]
        #expect((fromGraph?["analysis"] as? [String: Any])?["total"] as? Int == 300_000_000)
    }

    @Test func aBadSubtreeIsAnInvalidParamsError() throws {
        let rpc = try RPCProcess()
        let profile = ["pprof": try base64Profile("go-cpu-fib.pb.gz")]
        let cases: [(Any, String)] = [
            (["nowhere.at.all"], "is not a call path of this profile"), ([String](), "must name 1 to 1024 functions"),
            ([1, 2], "must be an array of strings"), (["main.calculateFib", "main.calculateFib"], "is not a call path"),
        ]
        for (i, (subtree, message)) in cases.enumerated() {
            rpc.request(i + 1, "flamegraph.explain", ["profile": profile, "subtree": subtree])
            let error = try #require(rpc.response(id: i + 1, timeout: 30)?["error"] as? [String: Any])
            #expect(error["code"] as? Int == -32602)
            #expect((error["message"] as? String)?.contains(message) == true, "\(error)")
        }
    }
}
