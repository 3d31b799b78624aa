import ArgumentParser
import Foundation
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
