import Foundation

/// A credential. It prints as `<redacted>`, so it cannot slip into a log line or an error by interpolation.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// Where chat completions go.
public enum GatewayMode: String, Sendable, CaseIterable {
    /// Through the Grafana LLM app (plugin id `grafana-llm-app`): base URL is Grafana's, the token a
    /// service-account token, models the abstract `base` and `large`.
    case grafanaLLMApp = "grafana-llm-app"
    /// Straight to an OpenAI-compatible server: base URL + `/v1/chat/completions`, an API key, any model.
    case openai
}

/// Retries with exponential backoff and jitter, bounded in count and total time.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// No retry starts after this much time since the first attempt.
    public var maxTotal: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(4), maxTotal: Duration = .seconds(15)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotal = maxTotal
    }

    /// The delay before retry `attempt` (1-based): a server's Retry-After in full when it gives one (the caller
    /// gives up instead when that is past its deadline), else exponential backoff with jitter.
    func delay(attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return retryAfter }
        let exponential = baseDelay * (1 << min(attempt - 1, 16))
        let capped = min(exponential, maxDelay)
        return capped * Double.random(in: 0.5 ... 1.0)
    }
}

extension RetryPolicy {
    /// A Retry-After header in seconds: delta-seconds, or an HTTP-date (RFC 9110) counted from now.
    public static func retryAfterSeconds(_ value: String, now: Date = Date()) -> Int? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(v) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: v) else { return nil }
        return max(0, Int(date.timeIntervalSince(now).rounded(.up)))
    }
}

/// How to reach the model. Configuration comes from the app instance settings (Grafana) or flags and
/// environment (CLI); the key is a `Secret`.
public struct GatewayConfig: Sendable, Equatable {
    public var mode: GatewayMode
    /// Grafana's URL (llm-app mode) or the server's (openai mode), without a trailing slash.
    public var baseURL: String
    public var key: Secret?
    /// `base` or `large` through the LLM app; a model name for openai mode.
    public var model: String
    public var connectTimeout: Duration
    public var requestTimeout: Duration
    public var retry: RetryPolicy

    public init(
        mode: GatewayMode, baseURL: String, key: Secret?, model: String? = nil, connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(120), retry: RetryPolicy = RetryPolicy()
    ) {
        self.mode = mode
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.key = key
        self.model = model ?? (mode == .grafanaLLMApp ? "base" : "gpt-4o-mini")
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.retry = retry
    }

    /// The LLM app's chat-completions resource (grafana-llm-app, packages/grafana-llm-app/pkg/plugin: the
    /// current `/llm/v1/chat/completions` route, not the deprecated `/openai/v1/...`), or `/v1/chat/completions`.
    public var chatURL: String {
        switch mode {
        case .grafanaLLMApp: return baseURL + "/api/plugins/grafana-llm-app/resources/llm/v1/chat/completions"
        case .openai: return baseURL + "/v1/chat/completions"
        }
    }

    /// Where to try chat completions, in order: the LLM app's current route, then the `/openai/v1/...` route
    /// that older LLM app releases register only (a 404 on the first moves to the second).
    public var chatURLs: [String] {
        switch mode {
        case .grafanaLLMApp: return [chatURL, baseURL + "/api/plugins/grafana-llm-app/resources/openai/v1/chat/completions"]
        case .openai: return [chatURL]
        }
    }

    /// The LLM app's health endpoint, or the model list of an OpenAI-compatible server.
    public var healthURL: String {
        switch mode {
        case .grafanaLLMApp: return baseURL + "/api/plugins/grafana-llm-app/health"
        case .openai: return baseURL + "/v1/models"
        }
    }

    /// Reads Grafana app instance settings: `jsonData.llmMode` (`grafana-llm-app` or `openai`), `jsonData.llmURL`,
    /// `jsonData.llmModel`, and `decryptedSecureJsonData.llmApiKey`. nil when no URL is configured.
    public static func fromSettings(jsonData: [String: String], secure: [String: String]) -> GatewayConfig? {
        guard let url = jsonData["llmURL"], !url.isEmpty else { return nil }
        let mode = GatewayMode(rawValue: jsonData["llmMode"] ?? "") ?? .grafanaLLMApp
        let key = secure["llmApiKey"].flatMap { $0.isEmpty ? nil : Secret($0) }
        return GatewayConfig(mode: mode, baseURL: url, key: key, model: jsonData["llmModel"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Replaces the key wherever it appears in a text that came from outside (an error body that echoes it).
    public func redact(_ text: String) -> String {
        guard let key, !key.value.isEmpty else { return text }
        return text.replacingOccurrences(of: key.value, with: "<redacted>")
    }
}
