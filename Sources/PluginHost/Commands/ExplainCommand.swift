import ArgumentParser
import Explain
import FlameDiff
import Foundation
import JSONRPC
import LLMGateway
import ProfileService
import ProtoPprof
import PyroscopeClient

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a profile (bottleneck, root cause, fix) or a diff with --vs (change, impact, causes).",
        discussion: """
            Offline (rule-based analysis) unless an LLM gateway is configured with --llm-url or FLAMEGRAPH_AI_LLM_URL; \
            then the model's answer streams to the terminal and is checked against the profile afterwards. \
            If the gateway fails, the offline analysis is printed instead.
            """)

    @Argument(help: "A profile (pprof or another format read); without it, the --pyroscope query's profile.")
    var file: String?

    @OptionGroup var profileOptions: ProfileOptions

    @Option(
        name: .customLong("vs"), parsing: .upToNextOption,
        help: "Comparison profile(s): explain the change from FILE to these. With --pyroscope: yesterday or last-week, the baseline.")
    var comparison: [String] = []

    @OptionGroup var pyroscope: PyroscopeQueryOptions

    @OptionGroup var pyroscopeBaseline: PyroscopeBaselineOptions

    @OptionGroup(title: "LLM gateway") var gateway: GatewayOptions

    @Flag(name: .customLong("show-prompt"), help: "Print the prompt that would be sent (and its token bound) instead of explaining.")
    var showPrompt = false

    @Option(name: .customLong("context-tokens"), help: "The model's context window in tokens; the prompt gets it minus the answer's room.")
    var contextTokens = TokenBudget().contextTokens

    @Option(name: .customLong("answer-tokens"), help: "Tokens kept for the answer.")
    var answerTokens = TokenBudget().answerTokens

    func validate() throws {
        try pyroscopeBaseline.validate(pyroscope: try pyroscope.usesPyroscope(file: file != nil), vs: comparison, diff: false)
    }

    func run() async throws {
        let budget = TokenBudget(contextTokens: contextTokens, answerTokens: answerTokens)
        let service = cliService(limits: profileOptions.limits, budget: budget)
        let query = try profileOptions.treeOptions()
        let config = showPrompt ? nil : try gateway.config()
        let onDelta: @Sendable (String) async -> Void = { text in writeStdout(Array(text.utf8)) }
        let subject: ExplainSubject
        let heading: String
        // Two sides: FILE --vs CMP..., or with Pyroscope the query against --vs PRESET or --vs-query/--vs-from/--vs-to.
        var sides: (baseline: [any ProfileSource], comparison: [any ProfileSource], names: (String, String))?
        if let file, !comparison.isEmpty {
            sides = ([profileOptions.file(file)], comparison.map(profileOptions.file), (file, comparison.joined(separator: ", ")))
        } else if file == nil, !comparison.isEmpty || pyroscopeBaseline.given {
            let pair = try pyroscopeBaseline.sides(pyroscope, vs: comparison, now: PyroscopeTime.nowMilliseconds())
            sides = ([pair.baseline], [pair.comparison], (pair.baseline.label, pair.comparison.label))
        }
        if let sides {
            let request = ExplainDiffRequest(
                baseline: sides.baseline, comparison: sides.comparison, query: query, gateway: config, stream: true, onDelta: onDelta)
            let explanation = try await runAnalysis { () async throws(RPCError) in try await ExplainDiffMethod.analyse(request, in: service) }
            subject = .diff(explanation)
            heading = "Diff: \(sides.names.0) → \(sides.names.1) (\(explanation.sampleType); shares of each side's own total)"
        } else {
            let source = try pyroscope.profile(file: file, profileOptions.file)
            let request = ExplainRequest(input: .profile(source), query: query, gateway: config, stream: true, onDelta: onDelta)
            let analysis = try await runAnalysis { () async throws(RPCError) in try await ExplainMethod.analyse(request, in: service) }
            subject = .profile(analysis)
            heading = "Profile: \(file ?? source.label) (\(analysis.language), \(analysis.sampleType), total \(formatValue(analysis.total, unit: analysis.sampleType.unit)))"
        }
        if showPrompt {
            let prompt = try subject.prompt(budget: budget)
            print("# prompt \(prompt.templateVersion): token bound \(prompt.tokenBound) of \(prompt.budget) (functions \(prompt.functionsIncluded)/\(prompt.functionsAvailable), paths \(prompt.pathsIncluded)/\(prompt.pathsAvailable))")
            print("## system\n\(prompt.system)\n## user\n\(prompt.user)")
            return
        }
        print(heading)
        guard let config else {
            print("Source: offline analysis (no LLM configured)\n")
            print(subject.offline.markdown, terminator: "")
            return
        }
        print("Source: LLM (\(config.mode.rawValue), model \(config.model)); streaming…\n")
        let result: ExplainResult
        do {
            result = try await service.explain(subject, gateway: config, stream: true, onDelta: onDelta)
        } catch {
            throw CLIError(description: error.message)
        }
        if result.source == .offline {
            print("\nThe LLM did not answer (\(result.fallback?.detail ?? "unknown")); source: offline analysis\n")
            print(result.markdown, terminator: "")
            return
        }
        print("\n")
        let g = result.grounding
        print("Grounding: \(g.verified.count) of \(g.cited.count) cited names found in the profile"
            + (g.unverified.isEmpty ? "" : "; not in the profile: " + g.unverified.map { "`\($0)`" }.joined(separator: ", "))
            + (g.numbersUnverified.isEmpty ? "" : "; numbers not in the data: " + g.numbersUnverified.joined(separator: ", ")))
    }

    private func runAnalysis<T>(_ body: () async throws(RPCError) -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw CLIError(description: error.message)
        }
    }
}
