import Foundation
import JSONCore
import TestSupport
import Testing

/// Explanations through MCP with an LLM configured (the local OpenAI-compatible test server): the model
/// answers, its text streams into progress, grounding and quality come along, a stalled model can be cancelled.
@Suite(.serialized) struct MCPLLMTests {
    static let secret = "sk-test-MCP_SECRET_5d1e"
    static let answer = """
        ##### Performance bottleneck
        Most time goes to `math/big.addVV`, reached from `github.com/polarsignals/pprof-example-app-go/fib.Fibonacci` (96.2% of cpu).
        ##### Root cause
        `main.fastInverseSqrt` recomputes values.
        ##### Recommended fix
        Cache results in `main.calculateFib`.
        """

    /// A long grace period: a transfer that the cancellation did not stop would hold the exit for it.
    func server(_ llm: LLMTestServer, model: String = "test-model") async throws -> MCPProcess {
        let p = try MCPProcess(
            ["--allow-dir", Fixtures.root.path, "--llm-url", llm.baseURL, "--llm-mode", "openai", "--llm-model", model, "--grace-seconds", "40"],
            environment: ["FLAMEGRAPH_AI_LLM_API_KEY": Self.secret])
        #expect(await p.call(1, "initialize", MCPSessionTests.initialize())?["result"]?["instructions"]?.stringValue?.contains("configured LLM") == true)
        p.notify("notifications/initialized")
        return p
    }

    @Test func theModelAnswersGroundedWithProgress() async throws {
        let llm = try LLMTestServer(token: Self.secret, reply: Self.answer)
        let p = try await server(llm)
        let result = await p.tool(2, "explain_profile", ["profile": ["path": "profiles/go-cpu-fib.pb.gz"]], meta: ["progressToken": "llm"])
        let structured = result?["structuredContent"]
        let text = result?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(structured?["source"] == "llm" && structured?["quality"]?["fellBack"] == false, "\(text)")
        #expect(structured?["grounding"]?["unverified"] == ["main.fastInverseSqrt"])
        #expect(structured?["quality"]?["grounded"] == false && structured?["quality"]?["unverifiedNames"] == 1)
        #expect(text.contains("`main.fastInverseSqrt` (not in the profile)") && text.contains("not in the profile: main.fastInverseSqrt"))
        #expect(structured?["sections"]?["fix"]?.stringValue?.contains("main.calculateFib") == true)
        let messages = p.notifications("notifications/progress").compactMap { $0["params"]?["message"]?.stringValue }
        #expect(messages.contains { $0.hasPrefix("the model has written") }, "\(messages)")
        let followUp = await p.tool(
            3, "explain_follow_up", ["conversationId": structured?["conversationId"] ?? "", "question": "And the allocation?"])
        #expect(followUp?["structuredContent"]?["source"] == "llm")
        p.closeInput()
        #expect(await p.waitForExit() == 0)
        #expect(!p.lines.joined().contains(Self.secret) && !p.stderr.contains(Self.secret))
    }

    @Test func aStalledModelIsCancelled() async throws {
        let llm = try LLMTestServer(token: Self.secret, reply: Self.answer)
        let p = try await server(llm, model: "fault:stall=1")
        p.request(2, "tools/call", ["name": "explain_profile", "arguments": ["profile": ["path": "profiles/go-cpu-fib.pb.gz"]], "_meta": ["progressToken": 7]])
        // Wait until the model has started writing, then cancel.
        #expect(await p.wait(timeout: 30) { $0["params"]?["message"]?.stringValue?.hasPrefix("the model has written") == true } != nil)
        p.notify("notifications/cancelled", ["requestId": 2])
        let started = Date()
        #expect(await p.call(3, "ping", timeout: 10)?["result"] == [:])
        #expect(await p.response(2, timeout: 1) == nil)
        p.closeInput()
        #expect(await p.waitForExit(timeout: 60) == 0)
        #expect(Date().timeIntervalSince(started) < 25, "the stalled transfer held the exit for the grace period")
        #expect(await p.response(2, timeout: 0.1) == nil)
    }
}
