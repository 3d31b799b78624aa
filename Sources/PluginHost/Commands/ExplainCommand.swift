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

    @OptionGroup(title: "Token budget") var budgetOptions: BudgetOptions

    func validate() throws {
        try pyroscopeBaseline.validate(pyroscope: try pyroscope.usesPyroscope(file: file != nil), vs: comparison, diff: false)
    }

    func run() async throws {
        let budget = try budgetOptions.budget()
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
        // Everything goes through one unbuffered writer: with `print` (buffered when stdout is a pipe) the
        // heading came out after the streamed text.
        func say(_ text: String) { writeStdout(Array(text.utf8)) }
        if showPrompt {
            let prompt = try subject.prompt(budget: budget)
            say("# prompt \(prompt.templateVersion): token bound \(prompt.tokenBound) of \(prompt.budget) (functions \(prompt.functionsIncluded)/\(prompt.functionsAvailable), paths \(prompt.pathsIncluded)/\(prompt.pathsAvailable))\n")
            say("## system\n\(prompt.system)\n## user\n\(prompt.user)\n")
            return
        }
        say(heading + "\n")
        guard let config else {
            say("Source: offline analysis (no LLM configured)\n\n")
            say(subject.offline.markdown)
            return
        }
        say("Source: LLM (\(config.mode.rawValue), model \(config.model), context \(budget.contextTokens) tokens, answer \(budget.answerTokens)); streaming…\n\n")
        let result: ExplainResult
        do {
            result = try await service.explain(subject, gateway: config, stream: true, onDelta: onDelta)
        } catch {
            throw CLIError(description: error.message)
        }
        if result.source == .offline && result.quality == nil {
            say("\nThe LLM did not answer (\(result.fallback?.detail ?? "unknown")); source: offline analysis\n\n")
            say(result.markdown)
            return
        }
        // The streamed text, and after it the gate's notice and replacement text when it had any, are on screen.
        say("\n\n")
        if let quality = result.quality {
            let failed = quality.failedChecks
            say("Quality: \(quality.verdict.rawValue)" + (failed.isEmpty ? "" : " (failed: \(failed.joined(separator: ", ")))")
                + "; sections: " + Self.sectionSources(quality) + "\n")
            if quality.verdict == .reject { say("Source: offline analysis (the model's answer was rejected)\n") }
        }
        let g = result.grounding
        say("Grounding: \(g.verified.count) of \(g.cited.count) cited names found in the profile"
            + (g.unverified.isEmpty ? "" : "; not in the profile: " + g.unverified.map { "`\($0)`" }.joined(separator: ", "))
            + (g.numbersUnverified.isEmpty ? "" : "; numbers not in the data: " + g.numbersUnverified.joined(separator: ", ")) + "\n")
    }

    /// "bottleneck model, rootCause offline repair, …" in the template's order.
    static func sectionSources(_ quality: QualityVerdict) -> String {
        let order = ["bottleneck", "rootCause", "fix", "performanceChange", "functionImpact", "potentialCauses", "answer"]
        return quality.sections.sorted { (order.firstIndex(of: $0.key) ?? 99) < (order.firstIndex(of: $1.key) ?? 99) }
            .map { "\($0.key) \($0.value == .model ? "model" : "offline repair")" }.joined(separator: ", ")
    }

    private func runAnalysis<T>(_ body: () async throws(RPCError) -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw CLIError(description: error.message)
        }
    }
}
