import HTTPTransport
import Foundation

/// One chat message.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// An OpenAI chat-completions request.
public struct ChatRequest: Sendable {
    public var messages: [ChatMessage]
    /// nil: the configured model.
    public var model: String?
    public var temperature: Double?
    public var maxTokens: Int?
    /// Streamed requests only: ask for a last chunk with `usage` (`stream_options: {include_usage: true}`,
    /// which OpenAI, llama-server, vLLM and Ollama understand).
    public var streamUsage = false

    public init(messages: [ChatMessage], model: String? = nil, temperature: Double? = nil, maxTokens: Int? = nil, streamUsage: Bool = false) {
        self.messages = messages
        self.model = model
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.streamUsage = streamUsage
    }
}

/// What a streamed completion reports, in order: text deltas, then (in the stream's last chunks) why it
/// finished and, when asked for with `streamUsage`, the tokens used.
public enum ChatStreamEvent: Sendable, Equatable {
    case delta(String)
    /// `finish_reason`: `"stop"`, or `"length"` when the answer was cut at `max_tokens`.
    case finish(reason: String)
    case usage(ChatUsage)
}

public struct ChatUsage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens
    }

    init?(json: Any?) {
        guard let u = json as? [String: Any] else { return nil }
        self.init(
            promptTokens: u["prompt_tokens"] as? Int ?? 0, completionTokens: u["completion_tokens"] as? Int ?? 0,
            totalTokens: u["total_tokens"] as? Int ?? 0)
    }
}

/// A completed answer.
public struct ChatResponse: Sendable, Equatable {
    public var content: String
    public var finishReason: String?
    public var model: String?
    public var usage: ChatUsage?

    public init(content: String, finishReason: String? = nil, model: String? = nil, usage: ChatUsage? = nil) {
        self.content = content
        self.finishReason = finishReason
        self.model = model
        self.usage = usage
    }
}

/// Why a completion failed, typed for the JSON-RPC layer. No case carries the key.
public enum GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    case notConfigured
    case unreachable(String)
    case timeout
    case unauthorized(String)
    case rateLimited(retryAfterSeconds: Int?)
    case providerError(status: Int, message: String)
    case malformedResponse(String)
    case cancelled
    /// TLS or certificate failure, or a URL that is not http(s): a configuration problem, never retried.
    case misconfigured(String)

    public var description: String {
        switch self {
        case .notConfigured: return "no LLM gateway is configured"
        case .unreachable(let why): return "LLM gateway unreachable: \(why)"
        case .timeout: return "LLM gateway timed out"
        case .unauthorized(let why): return "LLM gateway refused the credential: \(why)"
        case .rateLimited(let after): return "LLM gateway rate-limited the request" + (after.map { " (retry after \($0) s)" } ?? "")
        case .providerError(let status, let message): return "LLM provider error (HTTP \(status)): \(message)"
        case .malformedResponse(let why): return "malformed LLM response: \(why)"
        case .cancelled: return "cancelled"
        case .misconfigured(let why): return "LLM gateway misconfigured: \(why)"
        }
    }

    /// Whether a retry may help (and no byte has reached the caller yet).
    var isRetryable: Bool {
        switch self {
        case .unreachable, .rateLimited: return true
        case .providerError(let status, _): return status >= 500
        default: return false
        }
    }

    var retryAfter: Duration? {
        if case .rateLimited(let seconds?) = self { return .seconds(seconds) }
        return nil
    }
}

/// The gateway's health, for checkHealth.
public struct GatewayHealth: Sendable {
    public var configured: Bool
    public var reachable: Bool
    public var ok: Bool
    public var latencyMs: Double?
    public var error: String?
    /// The LLM app's own health `details` (llm-app mode), as JSON text.
    public var details: String?
    /// openai mode: the model ids (and aliases) the server lists in `/v1/models`.
    public var models: [String]?
    /// openai mode: the context window the server reports for the configured model (llama-server's
    /// `meta.n_ctx`), when it reports one.
    public var serverContextTokens: Int?
}

/// OpenAI-compatible chat completions through the configured gateway, with retries.
public struct ChatClient: Sendable {
    public let config: GatewayConfig

    public init(config: GatewayConfig) { self.config = config }

    /// A whole answer.
    public func complete(_ request: ChatRequest) async throws(GatewayError) -> ChatResponse {
        try await overRoutes { (url) async throws(GatewayError) -> ChatResponse in
            try await complete(request, url: url)
        }
    }

    private func complete(_ request: ChatRequest, url: String) async throws(GatewayError) -> ChatResponse {
        var http = try httpRequest(request, stream: false)
        http.url = url
        return try await withRetries { (remaining) async throws(GatewayError) -> ChatResponse in
            let response: (status: Int, headers: [(name: String, value: String)], body: [UInt8])
            var attempt = http
            attempt.totalTimeout = remaining
            do throws(HTTPError) {
                response = try await HTTPClient.send(attempt)
            } catch {
                throw Self.map(error)
            }
            guard response.status == 200 else { throw self.statusError(response.status, response.headers, response.body) }
            return try Self.parseCompletion(response.body)
        }
    }

    /// The answer as content deltas, as the model writes them. Retries happen only before the first delta.
    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<String, Error> {
        let events = self.events(request)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: String.self)
        let task = Task {
            do {
                for try await event in events {
                    if case .delta(let text) = event { continuation.yield(text) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The streamed answer with its finish reason and usage. Leaving the loop over it (or cancelling the
    /// consuming task) cancels the transfer: the connection closes, the server stops generating.
    public func events(_ request: ChatRequest) -> AsyncThrowingStream<ChatStreamEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ChatStreamEvent.self)
        let task = Task {
            do {
                try await overRoutes { (url) async throws(GatewayError) in
                    var http = try httpRequest(request, stream: true)
                    http.url = url
                    try await withRetries { (remaining) async throws(GatewayError) in
                        var attempt = http
                        attempt.totalTimeout = remaining
                        try await streamOnce(attempt, to: continuation)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Reachability, latency and (llm-app mode) the LLM app's own health.
    public func health() async -> GatewayHealth {
        let started = ContinuousClock.now
        var request = HTTPRequest(url: config.healthURL, headers: authorization(), connectTimeout: config.connectTimeout, totalTimeout: .seconds(10))
        request.maxResponseBytes = 1 << 20
        do throws(HTTPError) {
            let response = try await HTTPClient.send(request)
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            guard response.status == 200 else {
                return GatewayHealth(
                    configured: true, reachable: true, ok: false, latencyMs: ms,
                    error: statusError(response.status, response.headers, response.body).description)
            }
            var details: String?
            var ok = true
            if config.mode == .openai {
                // A server that does not list the model may still answer: llama-server ignores the name and
                // answers with the one model it has. Said here, because the answers will not tell.
                let listed = Self.listedModels(response.body)
                let known = listed.models.isEmpty || listed.models.contains(config.model)
                return GatewayHealth(
                    configured: true, reachable: true, ok: known, latencyMs: ms,
                    error: known
                        ? nil
                        : "the server does not list the model \"\(config.model)\" in /v1/models (it lists: "
                            + listed.models.prefix(10).joined(separator: ", ")
                            + "); some servers (llama-server) answer with their own model whatever the name, others refuse",
                    models: listed.models,
                    serverContextTokens: listed.contextTokens[config.model] ?? (Set(listed.contextTokens.values).count == 1 ? listed.contextTokens.values.first : nil))
            }
            if config.mode == .grafanaLLMApp,
                let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                let d = json["details"]
            {
                details = (try? JSONSerialization.data(withJSONObject: d, options: .sortedKeys)).map { String(decoding: $0, as: UTF8.self) }
                let provider = (d as? [String: Any])?["llmProvider"] as? [String: Any]
                ok = (provider?["configured"] as? Bool ?? false) && (provider?["ok"] as? Bool ?? false)
            }
            return GatewayHealth(
                configured: true, reachable: true, ok: ok, latencyMs: ms, error: ok ? nil : "the LLM app reports its provider unhealthy",
                details: details.map(config.redact))
        } catch {
            return GatewayHealth(configured: true, reachable: false, ok: false, latencyMs: nil, error: Self.map(error).description)
        }
    }

    /// The ids and aliases in a `/v1/models` answer (OpenAI's `data[].id`, llama-server's `aliases`, an
    /// Ollama-style `models[].name`/`model`), and each one's context window when the server says (`meta.n_ctx`).
    static func listedModels(_ body: [UInt8]) -> (models: [String], contextTokens: [String: Int]) {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return ([], [:]) }
        var names: [String] = []
        var context: [String: Int] = [:]
        func add(_ name: String?, _ ctx: Int?) {
            guard let name, !name.isEmpty else { return }
            if !names.contains(name) { names.append(name) }
            if let ctx { context[name] = ctx }
        }
        for entry in json["data"] as? [[String: Any]] ?? [] {
            let ctx = (entry["meta"] as? [String: Any])?["n_ctx"] as? Int
            add(entry["id"] as? String, ctx)
            for alias in entry["aliases"] as? [String] ?? [] { add(alias, ctx) }
        }
        for entry in json["models"] as? [[String: Any]] ?? [] {
            add(entry["name"] as? String, nil)
            add(entry["model"] as? String, nil)
        }
        return (names, context)
    }

    // MARK: - Internals

    private func authorization() -> [(name: String, value: String)] {
        config.key.map { [("Authorization", "Bearer \($0.value)")] } ?? []
    }

    private func httpRequest(_ request: ChatRequest, stream: Bool) throws(GatewayError) -> HTTPRequest {
        var body: [String: Any] = [
            "model": request.model ?? config.model, "stream": stream,
            "messages": request.messages.map { ["role": $0.role, "content": $0.content] },
        ]
        if let t = request.temperature { body["temperature"] = t }
        if let m = request.maxTokens { body["max_tokens"] = m }
        if stream && request.streamUsage { body["stream_options"] = ["include_usage": true] }
        guard let data = try? JSONSerialization.data(withJSONObject: body, options: .sortedKeys) else {
            throw .malformedResponse("the request could not be encoded")
        }
        return HTTPRequest(
            method: "POST", url: config.chatURL,
            headers: authorization() + [("Content-Type", "application/json"), ("Accept", stream ? "text/event-stream" : "application/json")],
            body: [UInt8](data), connectTimeout: config.connectTimeout, totalTimeout: config.requestTimeout)
    }

    /// Tries each chat route in turn while the gateway answers 404 (an LLM app too old for the first).
    private func overRoutes<T>(_ body: (String) async throws(GatewayError) -> T) async throws(GatewayError) -> T {
        let urls = config.chatURLs
        for (i, url) in urls.enumerated() {
            do {
                return try await body(url)
            } catch {
                if case .providerError(404, _) = error, i + 1 < urls.count { continue }
                throw error
            }
        }
        throw .notConfigured
    }

    /// Runs attempts until one succeeds, an error is final, or time is up. `config.requestTimeout` bounds the
    /// whole call, retries and waits included: each attempt gets what is left of it. A retry starts only when
    /// its wait (a server's Retry-After, in full) ends within `retry.maxTotal` of the first attempt and before
    /// the deadline; a server asking for longer gets its rate-limit error at once, never an early retry.
    private func withRetries<T>(_ attempt: (Duration) async throws(GatewayError) -> T) async throws(GatewayError) -> T {
        let started = ContinuousClock.now
        let deadline = started + config.requestTimeout
        var n = 1
        while true {
            do throws(GatewayError) {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { throw GatewayError.timeout }
                return try await attempt(remaining)
            } catch {
                let now = ContinuousClock.now
                let elapsed = now - started
                guard error.isRetryable, n < config.retry.maxAttempts, elapsed < config.retry.maxTotal else { throw error }
                let delay = config.retry.delay(attempt: n, retryAfter: error.retryAfter)
                guard now + delay < deadline, elapsed + delay <= config.retry.maxTotal else { throw error }
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw .cancelled
                }
                n += 1
            }
        }
    }

    /// One streamed attempt. Errors before the first delta may be retried; after it, `StreamedAlready` wraps them.
    private func streamOnce(_ http: HTTPRequest, to continuation: AsyncThrowingStream<ChatStreamEvent, Error>.Continuation) async throws(GatewayError) {
        var parser = SSEParser()
        var status = 0
        var headers: [(name: String, value: String)] = []
        var errorBody: [UInt8] = []
        var yielded = false
        var done = false
        do {
            for try await event in HTTPClient.stream(http) {
                switch event {
                case .head(let s, let h):
                    status = s
                    headers = h
                case .data(let bytes):
                    if status != 200 {
                        errorBody.append(contentsOf: bytes)
                        continue
                    }
                    let events: [SSEEvent]
                    do {
                        events = try parser.feed(bytes)
                    } catch {
                        throw GatewayError.malformedResponse("an event line was too long")
                    }
                    for e in events {
                        if e.data == "[DONE]" {
                            done = true
                            continue
                        }
                        guard let json = try? JSONSerialization.jsonObject(with: Data(e.data.utf8)) as? [String: Any] else {
                            throw GatewayError.malformedResponse("a stream event is not JSON")
                        }
                        if let error = json["error"] as? [String: Any] {
                            throw GatewayError.providerError(status: 200, message: config.redact(error["message"] as? String ?? "unknown error"))
                        }
                        let choice = (json["choices"] as? [[String: Any]])?.first
                        if let content = (choice?["delta"] as? [String: Any])?["content"] as? String, !content.isEmpty {
                            yielded = true
                            continuation.yield(.delta(content))
                        }
                        if let reason = choice?["finish_reason"] as? String, !reason.isEmpty {
                            continuation.yield(.finish(reason: reason))
                        }
                        if let usage = ChatUsage(json: json["usage"]) { continuation.yield(.usage(usage)) }
                    }
                }
            }
        } catch let error as GatewayError {
            throw yielded ? Self.noRetry(error) : error
        } catch let error as HTTPError {
            throw yielded ? Self.noRetry(Self.map(error)) : Self.map(error)
        } catch {
            throw .cancelled
        }
        if status != 200 { throw statusError(status, headers, errorBody) }
        if !done { throw .malformedResponse("the stream ended before [DONE]") }
    }

    /// After bytes reached the caller a retry would repeat them: errors that would be retried become final.
    private static func noRetry(_ error: GatewayError) -> GatewayError {
        switch error {
        case .unreachable(let why): return .malformedResponse("the stream broke: \(why)")
        case .rateLimited, .providerError: return error.isRetryable ? .malformedResponse("the stream broke: \(error)") : error
        default: return error
        }
    }

    private static func map(_ error: HTTPError) -> GatewayError {
        switch error {
        case .unreachable(let why), .connectionClosed(let why): return .unreachable(why)
        case .timeout: return .timeout
        case .responseTooLarge(let limit): return .malformedResponse("response larger than \(limit) bytes")
        case .cancelled: return .cancelled
        case .transport(let why): return .unreachable(why)
        case .tls(let why): return .misconfigured("TLS failure: \(why)")
        case .unsupportedScheme: return .misconfigured("the URL must start with http:// or https://")
        }
    }

    private func statusError(_ status: Int, _ headers: [(name: String, value: String)], _ body: [UInt8]) -> GatewayError {
        let message = config.redact(Self.errorMessage(body) ?? "HTTP \(status)")
        switch status {
        case 401, 403: return .unauthorized(message)
        case 429:
            let after = headers.first { $0.name.lowercased() == "retry-after" }.flatMap { RetryPolicy.retryAfterSeconds($0.value) }
            return .rateLimited(retryAfterSeconds: after)
        default: return .providerError(status: status, message: message)
        }
    }

    private static func errorMessage(_ body: [UInt8]) -> String? {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        if let error = json["error"] as? [String: Any] { return error["message"] as? String }
        return json["message"] as? String ?? json["error"] as? String
    }

    static func parseCompletion(_ body: [UInt8]) throws(GatewayError) -> ChatResponse {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw .malformedResponse("the body is not JSON")
        }
        guard let choice = (json["choices"] as? [[String: Any]])?.first,
            let content = (choice["message"] as? [String: Any])?["content"] as? String
        else { throw .malformedResponse("no choices[0].message.content") }
        let usage = ChatUsage(json: json["usage"])
        return ChatResponse(content: content, finishReason: choice["finish_reason"] as? String, model: json["model"] as? String, usage: usage)
    }
}
