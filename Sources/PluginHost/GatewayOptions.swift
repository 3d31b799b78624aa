import ArgumentParser
import Foundation
import Explain
import LLMGateway

/// Gateway settings for the CLI: flags, else environment; the key only from the environment, so that it
/// never shows in a process list or shell history.
struct GatewayOptions: ParsableArguments {
    @Option(name: .customLong("llm-url"), help: "Grafana URL (grafana-llm-app mode) or OpenAI-compatible server URL (env FLAMEGRAPH_AI_LLM_URL).")
    var url: String?

    @Option(name: .customLong("llm-mode"), help: "grafana-llm-app or openai (env FLAMEGRAPH_AI_LLM_MODE; default grafana-llm-app).")
    var mode: String?

    @Option(name: .customLong("llm-model"), help: "base or large through the LLM app, any model name in openai mode (env FLAMEGRAPH_AI_LLM_MODEL).")
    var model: String?

    /// nil when no URL is configured. The key comes from FLAMEGRAPH_AI_LLM_API_KEY.
    func config() throws -> GatewayConfig? {
        let env = ProcessInfo.processInfo.environment
        guard let url = url ?? env["FLAMEGRAPH_AI_LLM_URL"], !url.isEmpty else { return nil }
        let modeName = mode ?? env["FLAMEGRAPH_AI_LLM_MODE"] ?? GatewayMode.grafanaLLMApp.rawValue
        guard let mode = GatewayMode(rawValue: modeName) else {
            throw ValidationError("--llm-mode must be one of: \(GatewayMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let key = env["FLAMEGRAPH_AI_LLM_API_KEY"].flatMap { $0.isEmpty ? nil : Secret($0) }
        return GatewayConfig(mode: mode, baseURL: url, key: key, model: model ?? env["FLAMEGRAPH_AI_LLM_MODEL"])
    }
}

/// The model's token budget: flags, else environment, checked (a context too small for even the compact
/// prompt is refused at start, not on the first explanation).
struct BudgetOptions: ParsableArguments {
    @Option(
        name: .customLong("context-tokens"),
        help: "The model's context window in tokens; the prompt gets it minus the answer's room; up to 4096, the compact prompt (env FLAMEGRAPH_AI_LLM_CONTEXT_TOKENS; default 8192).")
    var contextTokens: Int?

    @Option(
        name: .customLong("answer-tokens"),
        help: "Tokens kept for the answer, sent as max_tokens (env FLAMEGRAPH_AI_LLM_ANSWER_TOKENS; default a quarter of the context, at most 1024).")
    var answerTokens: Int?

    /// Whether a flag or variable sets the budget (else the defaults hold).
    var given: Bool {
        let env = ProcessInfo.processInfo.environment
        return contextTokens != nil || answerTokens != nil || !(env["FLAMEGRAPH_AI_LLM_CONTEXT_TOKENS"] ?? "").isEmpty
            || !(env["FLAMEGRAPH_AI_LLM_ANSWER_TOKENS"] ?? "").isEmpty
    }

    func budget() throws -> TokenBudget {
        let env = ProcessInfo.processInfo.environment
        func number(_ flag: Int?, _ variable: String) throws -> Int? {
            if let flag { return flag }
            guard let text = env[variable], !text.isEmpty else { return nil }
            guard let n = Int(text) else { throw ValidationError("\(variable) must be a whole number of tokens, not \"\(text)\"") }
            return n
        }
        let context = try number(contextTokens, "FLAMEGRAPH_AI_LLM_CONTEXT_TOKENS")
        let answer = try number(answerTokens, "FLAMEGRAPH_AI_LLM_ANSWER_TOKENS")
        if context == nil && answer == nil { return TokenBudget() }
        do {
            return try TokenBudget.checked(contextTokens: context ?? TokenBudget().contextTokens, answerTokens: answer)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
