import Foundation
import LLMGateway
import TestSupport
import Testing

/// What the streamed path reports besides text, and the model list, against the local test server (not among the
/// timing-sensitive suites that scripts/test runs alone: a replayed stream is a burst of work for both processes).
@Suite struct ChatStreamEventsTests {
    func client(_ server: LLMTestServer) -> ChatClient {
        ChatClient(config: GatewayConfig(mode: .openai, baseURL: server.baseURL, key: Secret(server.token), model: nil))
    }

    func ask(_ text: String = "why is it slow", model: String? = nil) -> ChatRequest {
        ChatRequest(messages: [ChatMessage(role: "system", content: "be brief"), ChatMessage(role: "user", content: text)], model: model)
    }

    /// The streamed path sees why the answer ended and, when asked, the tokens used: against the test server and a real
    /// llama-server's recorded stream, cut at max_tokens.
    @Test func streamedEventsCarryTheFinishReasonAndUsage() async throws {
        let server = try LLMTestServer()
        let c = client(server)
        var request = ask("count these words")
        request.streamUsage = true
        var events: [ChatStreamEvent] = []
        for try await e in c.events(request) { events.append(e) }
        #expect(events.filter { if case .delta = $0 { return true } else { return false } }.count == 4)
        #expect(events.contains(.finish(reason: "stop")))
        #expect(events.last == .usage(ChatUsage(promptTokens: 10, completionTokens: 4, totalTokens: 14)))
        // Without streamUsage, no usage is asked for and none comes.
        var plain: [ChatStreamEvent] = []
        for try await e in c.events(ask("count these words")) { plain.append(e) }
        #expect(!plain.contains { if case .usage = $0 { return true } else { return false } })

        var recorded: [ChatStreamEvent] = []
        for try await e in c.events(ask(model: "fault:replay=python-compact@1")) { recorded.append(e) }
        #expect(recorded.last == .finish(reason: "length"))
        #expect(recorded.filter { if case .delta = $0 { return true } else { return false } }.count == 512)
    }

    /// The model list of /v1/models: a model it does not list makes the health check fail with the reason, and the
    /// server's context is read from llama-server's `meta.n_ctx`.
    @Test func healthNamesAModelTheServerDoesNotList() async throws {
        let server = try LLMTestServer(modelsJSON: Fixtures.root.appendingPathComponent("llm/recorded/protocol/models.json"))
        let known = await ChatClient(config: GatewayConfig(mode: .openai, baseURL: server.baseURL, key: Secret(server.token), model: "SmolLM2-135M-Instruct")).health()
        #expect(known.ok && known.models == ["SmolLM2-135M-Instruct"] && known.serverContextTokens == 8192)
        let unknown = await ChatClient(config: GatewayConfig(mode: .openai, baseURL: server.baseURL, key: Secret(server.token), model: "llama3")).health()
        #expect(unknown.reachable && !unknown.ok)
        #expect(unknown.error?.contains("does not list the model \"llama3\"") == true)
    }
}
