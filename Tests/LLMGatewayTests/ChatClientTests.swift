import Foundation
import LLMGateway
import TestSupport
import Testing

/// The chat client over real HTTP against the local OpenAI-compatible test server, in both modes.
@Suite(.serialized) struct ChatClientTests {
    static let key = "sk-test-SECRET-9f8e7d"

    func client(_ server: LLMTestServer, mode: GatewayMode = .openai, key: String? = nil, timeout: Duration = .seconds(10),
                retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(50), maxDelay: .seconds(2), maxTotal: .seconds(30))) -> ChatClient {
        ChatClient(config: GatewayConfig(
            mode: mode, baseURL: server.baseURL + "/", key: Secret(key ?? server.token), model: nil,
            connectTimeout: .seconds(2), requestTimeout: timeout, retry: retry))
    }

    func ask(_ text: String = "why is it slow", model: String? = nil) -> ChatRequest {
        ChatRequest(messages: [ChatMessage(role: "system", content: "be brief"), ChatMessage(role: "user", content: text)], model: model)
    }

    func collect(_ stream: AsyncThrowingStream<String, Error>) async throws -> String {
        var text = ""
        for try await delta in stream { text += delta }
        return text
    }

    @Test(arguments: GatewayMode.allCases)
    func completionsArriveIntactInBothModes(_ mode: GatewayMode) async throws {
        let server = try LLMTestServer()
        let c = client(server, mode: mode)
        let answer = try await c.complete(ask())
        #expect(answer.content == "echo: why is it slow")
        #expect(answer.finishReason == "stop")
        #expect(answer.usage?.totalTokens ?? 0 > 0)
        #expect(answer.model == (mode == .openai ? "gpt-4o-mini" : "base"))
        #expect(try await collect(c.stream(ask("stream this please"))) == "echo: stream this please")
    }

    @Test func anOlderLLMAppIsReachedThroughItsLegacyRoute() async throws {
        let server = try LLMTestServer(legacy: true)
        let c = client(server, mode: .grafanaLLMApp)
        #expect(try await c.complete(ask()).content == "echo: why is it slow")
        #expect(try await collect(c.stream(ask("legacy stream"))) == "echo: legacy stream")
    }

    @Test func eachFaultIsATypedErrorWithinItsTimeout() async throws {
        let server = try LLMTestServer()
        let quick = client(server, timeout: .milliseconds(800))
        // Each timeout fires at its limit (with slack for a loaded CI machine), not when the server gives up.
        var started = ContinuousClock.now
        await #expect(throws: GatewayError.timeout) { try await quick.complete(ask(model: "fault:slow=10000")) }
        #expect(ContinuousClock.now - started < .seconds(4))
        started = ContinuousClock.now
        await #expect(throws: GatewayError.timeout) { try await collect(quick.stream(ask(model: "fault:stall=1"))) }
        #expect(ContinuousClock.now - started < .seconds(4))
        let c = client(server)
        await #expect(throws: GatewayError.providerError(status: 500, message: "the provider failed")) {
            try await c.complete(ask(model: "fault:500"))
        }
        await #expect(throws: GatewayError.malformedResponse("the body is not JSON")) { try await c.complete(ask(model: "fault:invalid-json")) }
        await #expect(throws: GatewayError.malformedResponse("a stream event is not JSON")) {
            try await collect(c.stream(ask(model: "fault:broken-sse")))
        }
        await #expect(throws: GatewayError.providerError(status: 200, message: "provider failed mid-stream")) {
            try await collect(c.stream(ask(model: "fault:midstream-error")))
        }
        await #expect(throws: GatewayError.self) { try await c.complete(ask(model: "fault:huge=20")) }
        do {
            _ = try await c.complete(ask(model: "fault:close"))
            Issue.record("a closed connection answered")
        } catch {
            if case .unreachable = error {} else { Issue.record("expected unreachable, got \(error)") }
        }
        do {
            _ = try await c.complete(ask(model: "fault:429=1"))
            Issue.record("429 answered")
        } catch {
            #expect(error == .rateLimited(retryAfterSeconds: 1))
        }
        // And the gateway still serves.
        #expect(try await c.complete(ask()).content == "echo: why is it slow")
    }

    @Test func retriesHonourRetryAfterAndRecover() async throws {
        let server = try LLMTestServer()
        let c = client(server)
        let started = ContinuousClock.now
        let answer = try await c.complete(ask(model: "fault:429-once=\(UUID())"))
        #expect(answer.content.hasPrefix("echo:"))
        #expect(ContinuousClock.now - started >= .seconds(1))  // Retry-After: 1 was honoured
        #expect(try await collect(c.stream(ask("again", model: "fault:500-once=\(UUID())"))) == "echo: again")
        // No retries when the policy allows one attempt.
        let once = client(server, retry: RetryPolicy(maxAttempts: 1))
        await #expect(throws: GatewayError.self) { try await once.complete(ask(model: "fault:500-once=\(UUID())")) }
    }

    /// A Retry-After longer than the retry window gives the rate-limit error at once instead of an early
    /// retry, and an HTTP-date is read as well as seconds.
    @Test func aLongRetryAfterIsNotRetriedEarly() async throws {
        let server = try LLMTestServer()
        let c = client(server, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(50), maxDelay: .seconds(2), maxTotal: .seconds(15)))
        let started = ContinuousClock.now
        await #expect(throws: GatewayError.rateLimited(retryAfterSeconds: 30)) { try await c.complete(ask(model: "fault:429=30")) }
        #expect(ContinuousClock.now - started < .seconds(2))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryPolicy.retryAfterSeconds("Tue, 14 Nov 2023 22:13:50 GMT", now: now) == 30)
        #expect(RetryPolicy.retryAfterSeconds(" 7 ", now: now) == 7)
        #expect(RetryPolicy.retryAfterSeconds("soon", now: now) == nil)
    }

    /// The request timeout bounds the whole call, retries included: an attempt gets only what is left.
    @Test func theDeadlineBoundsEveryAttempt() async throws {
        let server = try LLMTestServer()
        let c = client(server, timeout: .milliseconds(2500),
                       retry: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(50), maxDelay: .milliseconds(100), maxTotal: .seconds(30)))
        let started = ContinuousClock.now
        await #expect(throws: GatewayError.self) { try await c.complete(ask(model: "fault:slow500=1500")) }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(4), "took \(elapsed); five 1.5 s attempts would take 7.5 s")
    }

    /// Only http(s): `file://` and friends are refused before libcurl runs, and a TLS failure (https to a
    /// plain-HTTP port) is a configuration error that is not retried.
    @Test func onlyWebSchemesAndTLSFailuresAreFinal() async throws {
        for url in ["file:///etc/passwd", "gopher://127.0.0.1:9", "dict://127.0.0.1:9"] {
            let c = ChatClient(config: GatewayConfig(mode: .openai, baseURL: url, key: nil))
            do {
                _ = try await c.complete(ask())
                Issue.record("\(url) was fetched")
            } catch {
                guard case .misconfigured = error else {
                    Issue.record("\(url): expected misconfigured, got \(error)")
                    continue
                }
            }
        }
        let server = try LLMTestServer()
        let tls = ChatClient(config: GatewayConfig(
            mode: .openai, baseURL: server.baseURL.replacingOccurrences(of: "http://", with: "https://"), key: nil,
            retry: RetryPolicy(maxAttempts: 3, baseDelay: .seconds(1), maxDelay: .seconds(1), maxTotal: .seconds(30))))
        let started = ContinuousClock.now
        do {
            _ = try await tls.complete(ask())
            Issue.record("TLS to a plain-HTTP port answered")
        } catch {
            guard case .misconfigured(let why) = error else {
                Issue.record("expected misconfigured, got \(error)")
                return
            }
            #expect(why.contains("TLS"))
        }
        #expect(ContinuousClock.now - started < .seconds(1), "a TLS failure was retried")
    }

    @Test func theKeyNeverAppearsEvenWhenTheServerEchoesIt() async throws {
        let server = try LLMTestServer()
        let c = client(server, key: Self.key)
        do {
            _ = try await c.complete(ask())
            Issue.record("a wrong key was accepted")
        } catch {
            guard case .unauthorized(let message) = error else {
                Issue.record("expected unauthorized, got \(error)")
                return
            }
            #expect(message.contains("<redacted>"))  // the server echoed it; we removed it
            #expect(!error.description.contains(Self.key))
            #expect(!String(reflecting: error).contains(Self.key))
        }
        do {
            _ = try await collect(c.stream(ask()))
        } catch {
            #expect(!String(describing: error).contains(Self.key))
        }
        let health = await c.health()
        #expect(health.reachable && !health.ok)
        #expect(!(health.error ?? "").contains(Self.key))
        #expect(!"\(c.config)".contains(Self.key))
    }

    @Test(arguments: GatewayMode.allCases)
    func healthReportsReachabilityAndTheLLMApp(_ mode: GatewayMode) async throws {
        let server = try LLMTestServer()
        let health = await client(server, mode: mode).health()
        #expect(health.configured && health.reachable && health.ok)
        #expect(health.latencyMs != nil)
        if mode == .grafanaLLMApp { #expect(health.details?.contains("llmProvider") == true) }
        let down = await ChatClient(config: GatewayConfig(mode: mode, baseURL: "http://127.0.0.1:9", key: nil)).health()
        #expect(!down.reachable && !down.ok)
    }

    @Test func settingsReadAndURLs() {
        let config = GatewayConfig.fromSettings(
            jsonData: ["llmURL": "http://grafana:3000/", "llmMode": "grafana-llm-app", "llmModel": "large"],
            secure: ["llmApiKey": "glsa_x"])
        #expect(config?.chatURL == "http://grafana:3000/api/plugins/grafana-llm-app/resources/llm/v1/chat/completions")
        #expect(config?.healthURL == "http://grafana:3000/api/plugins/grafana-llm-app/health")
        #expect(config?.model == "large")
        #expect(GatewayConfig.fromSettings(jsonData: [:], secure: ["llmApiKey": "x"]) == nil)
        let openai = GatewayConfig(mode: .openai, baseURL: "http://localhost:8080", key: nil, model: "llama3")
        #expect(openai.chatURL == "http://localhost:8080/v1/chat/completions")
    }
}
