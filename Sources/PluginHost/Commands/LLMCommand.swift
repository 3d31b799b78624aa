import FlameDiff
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

struct LLMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm", abstract: "Check or try the LLM gateway.", subcommands: [Health.self, Ask.self])

    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report whether the configured gateway is reachable and healthy.")
        @OptionGroup var gateway: GatewayOptions

        func run() async throws {
            guard let config = try gateway.config() else { throw ValidationError("no gateway configured: give --llm-url or FLAMEGRAPH_AI_LLM_URL") }
            let health = await ChatClient(config: config).health()
            print("mode: \(config.mode.rawValue), model: \(config.model)")
            print("reachable: \(health.reachable), ok: \(health.ok)" + (health.latencyMs.map { ", latency: \(NumberText.fixed($0, places: 2)) ms" } ?? ""))
            if let error = health.error { print("error: \(config.redact(error))") }
            if !health.ok { throw ExitCode(1) }
        }
    }

    struct Ask: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send one question and stream the answer.")
        @OptionGroup var gateway: GatewayOptions
        @Argument(help: "The question.") var question: String

        func run() async throws {
            guard let config = try gateway.config() else { throw ValidationError("no gateway configured: give --llm-url or FLAMEGRAPH_AI_LLM_URL") }
            do {
                for try await delta in ChatClient(config: config).stream(ChatRequest(messages: [ChatMessage(role: "user", content: question)])) {
                    writeStdout(Array(delta.utf8))
                }
                writeStdout([0x0A])
            } catch let error as GatewayError {
                throw ValidationError(error.description)
            }
        }
    }
}
