import FlameDiff
import ArgumentParser
import Foundation
import LLMGateway

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
