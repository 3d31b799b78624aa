import Foundation
import TestSupport
import Testing

/// The answer-quality gate in the service, over the real executable's pipes against the local test server, which
/// replays a real llama-server's recorded answers (Tests/Fixtures/llm/recorded) or answers with given texts.
@Suite(.serialized) struct QualityGateTests {
    static let secret = "sk-test-QUALITY_SECRET_5d21"
    static let answers = Fixtures.root.appendingPathComponent("llm/answers")
    static let recorded = Fixtures.root.appendingPathComponent("llm/recorded")

    static func answer(_ name: String) throws -> String {
        try String(contentsOf: answers.appendingPathComponent(name), encoding: .utf8)
    }

    /// Texts the server answers with, picked by the model `fault:reply=KEY`.
    static func replies() throws -> [String: String] {
        [
            "good": try answer("good-bold-titles.md"),
            "allInOne": try answer("bad-all-in-one.md"),
            "structureless": try answer("bad-structureless.md"),
            "goodDiff": try answer("good-diff-h5.md"),
            "followUpGood": "It is slow because `fib.Fibonacci` adds ever larger numbers: each `big.addVV` call works on longer words.",
            "followUpLoop": String(repeating: "The function is the one that is slow in the profile. ", count: 40),
        ]
    }

    func context(_ llm: LLMTestServer, model: String, contextTokens: Any? = 2048) -> [String: Any] {
        var jsonData: [String: Any] = ["llmMode": "openai", "llmURL": llm.baseURL, "llmModel": model]
        if let contextTokens { jsonData["llmContextTokens"] = contextTokens }
        return ["orgId": 1, "appInstanceSettings": ["jsonData": jsonData, "decryptedSecureJsonData": ["llmApiKey": Self.secret]]]
    }

    func profile(_ name: String) throws -> [String: Any] { ["pprof": try base64Profile(name)] }

    func failedChecks(_ result: [String: Any]) -> [String] {
        let checks = (result["quality"] as? [String: Any])?["checks"] as? [[String: Any]] ?? []
        return checks.filter { $0["passed"] as? Bool == false }.compactMap { $0["name"] as? String }
    }

    func deltas(_ rpc: RPCProcess, id: Int) -> [String] {
        rpc.skipped.filter { $0["method"] as? String == "$/progress" }.compactMap { $0["params"] as? [String: Any] }
            .filter { $0["id"] as? Int == id }.compactMap { ($0["value"] as? [String: Any])?["text"] as? String }
    }

    /// A real looping answer (llama-server, SmolLM2-135M, fib at 2,048/512) streamed back event by event: the monitor stops
    /// it long before its 512 tokens, the upstream connection is closed, the reader gets a notice and the offline answer.
    @Test func aLoopingStreamIsCutEarlyAndTheUpstreamConnectionCloses() throws {
        let llm = try LLMTestServer(token: Self.secret)
        let rpc = try RPCProcess()
        let started = Date()
        rpc.request(1, "flamegraph.explain", [
            "profile": try profile("go-cpu-fib.pb.gz"), "stream": true, "pluginContext": context(llm, model: "fault:replay=fib-compact@10"),
        ])
        let response = rpc.response(id: 1, timeout: 60)
        let elapsed = Date().timeIntervalSince(started)
        let result = try #require(response?["result"] as? [String: Any], "\(String(describing: response))")
        #expect(result["source"] as? String == "offline")
        #expect((result["fallback"] as? [String: Any])?["reason"] as? String == "low_quality")
        let quality = try #require(result["quality"] as? [String: Any])
        #expect(quality["verdict"] as? String == "reject")
        let failed = failedChecks(result)
        #expect(failed.contains("repetition") && failed.contains("finishReason") && failed.contains("sections"), "\(failed)")
        let finish = (quality["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "finishReason" }
        #expect((finish?["detail"] as? String)?.contains("stopped while streaming") == true)
        #expect(quality["sections"] as? [String: String] == ["bottleneck": "offlineRepair", "rootCause": "offlineRepair", "fix": "offlineRepair"])
        #expect((result["prompt"] as? [String: Any])?["templateVersion"] as? String == "v1-compact")
        #expect((result["prompt"] as? [String: Any])?["tokenBudget"] as? Int == 1536)
        // The stream's reader saw the model's text, then a notice and the offline answer.
        let texts = deltas(rpc, id: 1)
        let last = try #require(texts.last)
        #expect(last.contains("**Quality check:**") && last.contains("offline analysis"))
        #expect(last.contains("##### Root cause"))
        // The server saw the connection close before the end of its 514 events (10 ms apart: 5 s in all).
        var stream: LLMTestServer.ReplayedStream?
        let deadline = Date(timeIntervalSinceNow: 10)
        while Date() < deadline {
            stream = try llm.streams().first
            if stream?.closedEarly == true { break }
            usleep(20_000)
        }
        let s = try #require(stream)
        #expect(s.closedEarly, "sent \(s.sent) of \(s.total)")
        // The monitor stops it at token 304 of 512; the server had sent no more than 85% when the connection closed.
        #expect(s.sent < s.total * 85 / 100, "sent \(s.sent) of \(s.total) (answered after \(elapsed) s)")
        #expect(!String(describing: result).contains(Self.secret))
    }

    /// The same recording, not streamed: rejected with the failing checks named, the offline answer in its place.
    @Test(arguments: ["fib-compact", "python-compact", "regex-compact"])
    func aRecordedLoopingAnswerIsRejected(_ name: String) throws {
        let llm = try LLMTestServer(token: Self.secret)
        let rpc = try RPCProcess()
        let files = ["fib-compact": "profiles/go-cpu-fib.pb.gz", "python-compact": "profiles/python-cpu.pb.gz", "regex-compact": "interpret/regex-compile-in-loop.pb.gz"]
        let bytes = try Data(contentsOf: Fixtures.root.appendingPathComponent(files[name]!))
        rpc.request(1, "flamegraph.explain", ["profile": ["pprof": bytes.base64EncodedString()], "pluginContext": context(llm, model: "fault:replay=\(name)")])
        let result = try #require(rpc.response(id: 1, timeout: 60)?["result"] as? [String: Any])
        #expect(result["source"] as? String == "offline")
        let fallback = result["fallback"] as? [String: Any]
        #expect(fallback?["reason"] as? String == "low_quality")
        let failed = failedChecks(result)
        #expect(failed.contains("repetition") && failed.contains("finishReason"), "\(failed)")
        for check in failed { #expect((fallback?["detail"] as? String)?.contains(check) == true) }
        #expect((result["quality"] as? [String: Any])?["verdict"] as? String == "reject")
        // The usage the real server reported is kept.
        #expect((result["usage"] as? [String: Any])?["completionTokens"] as? Int == 512)
    }

    /// An answer with everything under its first heading keeps that section and gets the other two from the offline
    /// analysis, each marked; one without any heading is rejected. Both name the failing check.
    @Test func aStructurelessAnswerIsRepairedOrRejected() throws {
        let llm = try LLMTestServer(token: Self.secret, replies: try Self.replies())
        let rpc = try RPCProcess()
        rpc.request(1, "flamegraph.explain", ["profile": try profile("go-cpu-fib.pb.gz"), "pluginContext": context(llm, model: "fault:reply=allInOne")])
        let repaired = try #require(rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any])
        #expect(repaired["source"] as? String == "llm")
        let quality = try #require(repaired["quality"] as? [String: Any])
        #expect(quality["verdict"] as? String == "repair")
        #expect(failedChecks(repaired) == ["sections"])
        #expect(quality["sections"] as? [String: String] == ["bottleneck": "model", "rootCause": "offlineRepair", "fix": "offlineRepair"])
        let sections = try #require(repaired["sections"] as? [String: String])
        #expect(sections["bottleneck"]?.contains("`big.addVV`") == true || sections["bottleneck"]?.contains("addVV") == true)
        #expect(sections["rootCause"]?.hasPrefix("_From the offline analysis") == true)
        #expect(sections["fix"]?.hasPrefix("_From the offline analysis") == true)
        #expect((repaired["markdown"] as? String)?.contains("##### Recommended fix\n_From the offline analysis") == true)
        #expect(repaired["fallback"] == nil)

        rpc.request(2, "flamegraph.explain", [
            "profile": try profile("go-cpu-fib.pb.gz"), "stream": true, "pluginContext": context(llm, model: "fault:reply=structureless"),
        ])
        let rejected = try #require(rpc.response(id: 2, timeout: 30)?["result"] as? [String: Any])
        #expect(rejected["source"] as? String == "offline")
        #expect((rejected["quality"] as? [String: Any])?["verdict"] as? String == "reject")
        #expect(failedChecks(rejected) == ["sections"])
        #expect((rejected["fallback"] as? [String: Any])?["reason"] as? String == "low_quality")
        #expect(deltas(rpc, id: 2).last?.contains("**Quality check:** the model's answer above did not hold up (failed: sections)") == true)
    }

    /// A good answer (bold titles instead of headings) is accepted as it is: the model's text, every section the model's.
    @Test func aGoodAnswerIsAcceptedUnchanged() throws {
        let llm = try LLMTestServer(token: Self.secret, replies: try Self.replies())
        let rpc = try RPCProcess()
        for (id, stream) in [(1, false), (2, true)] {
            rpc.request(id, "flamegraph.explain", [
                "profile": try profile("go-cpu-fib.pb.gz"), "stream": stream, "pluginContext": context(llm, model: "fault:reply=good"),
            ])
            let result = try #require(rpc.response(id: id, timeout: 30)?["result"] as? [String: Any])
            #expect(result["source"] as? String == "llm")
            let quality = try #require(result["quality"] as? [String: Any])
            #expect(quality["verdict"] as? String == "accept")
            #expect(failedChecks(result).isEmpty)
            #expect((quality["checks"] as? [[String: Any]])?.count == 7)
            #expect(quality["sections"] as? [String: String] == ["bottleneck": "model", "rootCause": "model", "fix": "model"])
            // Unchanged: the grounded text is the model's (its names were cited in full already).
            let markdown = result["markdown"] as? String ?? ""
            #expect(markdown.contains("**Root cause**\n\nBig-number arithmetic costs time"))
            #expect(!markdown.contains("_From the offline analysis"))
            // `big.Int` is a type, not a function of the profile: grounding says so, the gate does not mind.
            #expect((result["grounding"] as? [String: Any])?["unverified"] as? [String] == ["big.Int"])
            if stream {
                #expect(!deltas(rpc, id: id).joined().contains("Quality check"))
            }
        }
    }

    /// explain diff goes through the gate too: the real server's diff answer (the data block echoed) is rejected, a good
    /// diff answer accepted.
    @Test func diffAnswersAreGated() throws {
        let llm = try LLMTestServer(token: Self.secret, replies: try Self.replies())
        let rpc = try RPCProcess()
        func side(_ s: String) throws -> [String: Any] {
            ["pprof": try Data(contentsOf: Fixtures.root.appendingPathComponent("interpret/\(s).pb.gz")).base64EncodedString()]
        }
        for (id, model, verdict) in [(1, "fault:replay=regexdiff-compact", "reject"), (2, "fault:reply=goodDiff", "accept")] {
            rpc.request(id, "flamegraph.explainDiff", [
                "baseline": try side("service-base"), "comparison": try side("service-regex"), "pluginContext": context(llm, model: model),
            ])
            let result = try #require(rpc.response(id: id, timeout: 60)?["result"] as? [String: Any])
            let quality = try #require(result["quality"] as? [String: Any])
            #expect(quality["verdict"] as? String == verdict, "\(failedChecks(result))")
            #expect(Set((quality["sections"] as? [String: String])?.keys.map { $0 } ?? []) == ["performanceChange", "functionImpact", "potentialCauses"])
            #expect(result["source"] as? String == (verdict == "accept" ? "llm" : "offline"))
            #expect((result["prompt"] as? [String: Any])?["templateVersion"] as? String == "v1-compact")
        }
    }

    /// Follow-ups are gated too: a good answer is accepted, a looping one (streamed) is cut, rejected and answered offline,
    /// and is not kept in the conversation.
    @Test func followUpsAreGated() throws {
        let llm = try LLMTestServer(token: Self.secret, replies: try Self.replies())
        let rpc = try RPCProcess()
        rpc.request(1, "flamegraph.explain", ["profile": try profile("go-cpu-fib.pb.gz"), "pluginContext": context(llm, model: "fault:reply=good")])
        let first = try #require(rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any])
        let id = try #require(first["conversationId"] as? String)

        rpc.request(2, "explain.followUp", ["conversationId": id, "question": "Why is it slow?", "pluginContext": context(llm, model: "fault:reply=followUpGood")])
        let good = try #require(rpc.response(id: 2, timeout: 30)?["result"] as? [String: Any])
        #expect(good["source"] as? String == "llm")
        #expect((good["quality"] as? [String: Any])?["verdict"] as? String == "accept")
        #expect((good["quality"] as? [String: Any])?["sections"] as? [String: String] == ["answer": "model"])
        #expect((good["grounding"] as? [String: Any])?["grounded"] as? Bool == true)

        rpc.request(3, "explain.followUp", [
            "conversationId": id, "question": "And?", "stream": true, "pluginContext": context(llm, model: "fault:reply=followUpLoop"),
        ])
        let looped = try #require(rpc.response(id: 3, timeout: 30)?["result"] as? [String: Any])
        #expect(looped["source"] as? String == "offline")
        #expect((looped["quality"] as? [String: Any])?["verdict"] as? String == "reject")
        #expect(failedChecks(looped).contains("repetition"))
        #expect((looped["fallback"] as? [String: Any])?["reason"] as? String == "low_quality")
        #expect((looped["note"] as? String)?.contains("failed the quality checks") == true)
        #expect(looped["conversationId"] as? String == id)
        // Cut early: far fewer words reached the reader than the 480 the server would have sent.
        let streamed = deltas(rpc, id: 3)
        let modelWords = streamed.dropLast().joined().split(separator: " ").count
        #expect(modelWords < 200, "\(modelWords) words")
        #expect(streamed.last?.contains("**Quality check:**") == true)
    }

    /// A server that refuses `stream_options` (asked for the stream's usage) is asked again without it.
    @Test func aServerThatRefusesStreamOptionsIsAskedAgainWithout() throws {
        let llm = try LLMTestServer(token: Self.secret)
        let rpc = try RPCProcess()
        rpc.request(2, "flamegraph.explain", [
            "profile": try profile("go-cpu-fib.pb.gz"), "stream": true, "pluginContext": context(llm, model: "fault:no-stream-options"),
        ])
        let result = try #require(rpc.response(id: 2, timeout: 30)?["result"] as? [String: Any])
        // The echo of the prompt came back (and was judged): the second request went through.
        #expect(result["quality"] != nil, "\(result["fallback"] ?? "")")
        #expect(!deltas(rpc, id: 2).isEmpty)
    }

    /// Budgets from the app's settings: llmContextTokens picks the compact prompt and its answer room; settings that cannot
    /// work are a clear error, in explain and in checkHealth; checkHealth names a model the server does not list.
    @Test func budgetsComeFromTheSettingsAndBadOnesAreNamed() throws {
        let llm = try LLMTestServer(
            token: Self.secret, replies: try Self.replies(), modelsJSON: Self.recorded.appendingPathComponent("protocol/models.json"))
        let rpc = try RPCProcess()
        rpc.request(1, "flamegraph.explain", [
            "profile": try profile("go-cpu-fib.pb.gz"), "pluginContext": context(llm, model: "fault:reply=good", contextTokens: "4096"),
        ])
        let prompt = (rpc.response(id: 1, timeout: 30)?["result"] as? [String: Any])?["prompt"] as? [String: Any]
        #expect(prompt?["templateVersion"] as? String == "v1-compact")
        #expect(prompt?["tokenBudget"] as? Int == 4096 - 1024)

        rpc.request(2, "flamegraph.explain", [
            "profile": try profile("go-cpu-fib.pb.gz"), "pluginContext": context(llm, model: "fault:reply=good", contextTokens: 1024),
        ])
        let error = try #require(rpc.response(id: 2, timeout: 30)?["error"] as? [String: Any])
        #expect((error["data"] as? [String: Any])?["kind"] as? String == "settings")
        #expect((error["message"] as? String)?.contains("llmContextTokens: a context of 1024 tokens is too small for even the compact prompt") == true)
        rpc.request(3, "flamegraph.explain", [
            "profile": try profile("go-cpu-fib.pb.gz"), "pluginContext": context(llm, model: "fault:reply=good", contextTokens: "lots"),
        ])
        #expect(((rpc.response(id: 3, timeout: 30)?["error"] as? [String: Any])?["message"] as? String)?.contains("must be a whole number") == true)

        // The recorded llama-server model list: the alias it serves, and its context of 8,192.
        rpc.request(4, "checkHealth", ["pluginContext": context(llm, model: "no-such-model", contextTokens: 16384)])
        let health = try #require(rpc.response(id: 4, timeout: 30)?["result"] as? [String: Any])
        let details = health["jsonDetails"] as? [String: Any]
        let gateway = try #require(details?["llmGateway"] as? [String: Any])
        #expect(gateway["ok"] as? Bool == false)
        #expect((gateway["error"] as? String)?.contains("does not list the model \"no-such-model\"") == true)
        #expect((gateway["models"] as? [String])?.contains("SmolLM2-135M-Instruct") == true)
        #expect(gateway["serverContextTokens"] as? Int == 8192)
        let message = health["message"] as? String ?? ""
        #expect(message.contains("larger than the server's context (8192)"), "\(message)")
        #expect((details?["tokenBudget"] as? [String: Any])?["contextTokens"] as? Int == 16384)

        rpc.request(5, "checkHealth", ["pluginContext": context(llm, model: "SmolLM2-135M-Instruct", contextTokens: 2048)])
        let fine = try #require(rpc.response(id: 5, timeout: 30)?["result"] as? [String: Any])
        #expect(((fine["jsonDetails"] as? [String: Any])?["llmGateway"] as? [String: Any])?["ok"] as? Bool == true)
        #expect(((fine["jsonDetails"] as? [String: Any])?["tokenBudget"] as? [String: Any])?["prompt"] as? String == "compact")
        rpc.request(6, "checkHealth", ["pluginContext": context(llm, model: "SmolLM2-135M-Instruct", contextTokens: 900)])
        let bad = try #require(rpc.response(id: 6, timeout: 30)?["result"] as? [String: Any])
        #expect(bad["status"] as? String == "ERROR")
        #expect((bad["message"] as? String)?.contains("too small for even the compact prompt") == true)
    }

    /// serve and explain refuse a budget that cannot work before they start.
    @Test func aContextTooSmallIsRefusedAtStart() throws {
        let serve = try runFlamegraphAI(["serve", "--context-tokens", "1000"], stdin: Data())
        #expect(serve.status != 0)
        #expect(serve.stderr.contains("a context of 1000 tokens is too small for even the compact prompt"), "\(serve.stderr)")
        let env = try runFlamegraphAI(
            ["explain", Fixtures.profile("go-cpu-fib.pb.gz").path], environment: ["FLAMEGRAPH_AI_LLM_CONTEXT_TOKENS": "abc"])
        #expect(env.status != 0)
        #expect(env.stderr.contains("FLAMEGRAPH_AI_LLM_CONTEXT_TOKENS must be a whole number"), "\(env.stderr)")
    }

    /// The CLI, its stdout a pipe: the heading comes before the streamed text, and the verdict is printed after it.
    @Test func theCLIPrintsTheHeadingFirstAndTheVerdictLast() throws {
        let llm = try LLMTestServer(token: Self.secret, replies: try Self.replies())
        let r = try runFlamegraphAI(
            ["explain", Fixtures.profile("go-cpu-fib.pb.gz").path, "--context-tokens", "2048"],
            environment: [
                "FLAMEGRAPH_AI_LLM_URL": llm.baseURL, "FLAMEGRAPH_AI_LLM_MODE": "openai", "FLAMEGRAPH_AI_LLM_MODEL": "fault:reply=allInOne",
                "FLAMEGRAPH_AI_LLM_API_KEY": Self.secret,
            ])
        let out = String(decoding: r.stdout, as: UTF8.self)
        #expect(r.status == 0, "\(r.stderr)")
        let profileLine = try #require(out.range(of: "Profile: "))
        let sourceLine = try #require(out.range(of: "Source: LLM (openai, model fault:reply=allInOne, context 2048 tokens, answer 512)"))
        let text = try #require(out.range(of: "The function `big.addVV` takes 96.2%"))
        #expect(profileLine.lowerBound < sourceLine.lowerBound && sourceLine.lowerBound < text.lowerBound)
        #expect(out.contains("**Quality check:** parts of the model's answer above did not hold up (failed: sections)"))
        #expect(out.contains("Quality: repair (failed: sections); sections: bottleneck model, rootCause offline repair, fix offline repair"))
        #expect(!out.contains(Self.secret) && !r.stderr.contains(Self.secret))
    }
}
