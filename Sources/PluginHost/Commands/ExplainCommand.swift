import ArgumentParser
import Explain
import FlameDiff
import Foundation
import LLMGateway
import ProtoPprof

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a profile (bottleneck, root cause, fix) or a diff with --vs (change, impact, causes).",
        discussion: """
            Offline (rule-based analysis) unless an LLM gateway is configured with --llm-url or FLAMEGRAPH_AI_LLM_URL; \
            then the model's answer streams to the terminal and is checked against the profile afterwards. \
            If the gateway fails, the offline analysis is printed instead.
            """)

    @Argument(help: "A pprof profile (gzip or raw protobuf).")
    var file: String

    @Option(name: .customLong("sample-type"), help: "Sample type by name or index; default: the profile's default (the first nonzero one if that is empty).")
    var sampleType: String?

    @Option(name: .customLong("vs"), parsing: .upToNextOption, help: "Comparison profile(s): explain the change from FILE to these.")
    var comparison: [String] = []

    @OptionGroup(title: "LLM gateway") var gateway: GatewayOptions

    @Flag(name: .customLong("show-prompt"), help: "Print the prompt that would be sent (and its token bound) instead of explaining.")
    var showPrompt = false

    @Option(name: .customLong("context-tokens"), help: "The model's context window in tokens; the prompt gets it minus the answer's room.")
    var contextTokens = TokenBudget().contextTokens

    @Option(name: .customLong("answer-tokens"), help: "Tokens kept for the answer.")
    var answerTokens = TokenBudget().answerTokens

    func run() async throws {
        let selector = sampleType.map(SampleTypeSelector.init(argument:))
        let subject: ExplainSubject
        let heading: String
        if !comparison.isEmpty {
            let base = try loadProfile(file, limits: DecodeLimits()).profile
            let cmp = try comparison.map { try loadProfile($0, limits: DecodeLimits()).profile }
            let diff = try DiffTree(baseline: [base], comparison: cmp, options: TreeOptions(sampleType: selector))
            subject = .diff(DiffExplanation(diff: diff, catalogue: try Category.catalogue()))
            heading = "Diff: \(file) → \(comparison.joined(separator: ", ")) (\(diff.sampleType); shares of each side's own total)"
        } else {
            let loaded = try loadProfile(file, limits: DecodeLimits())
            let analysis = try Analysis(profile: loaded.profile, sampleType: selector, catalogue: Category.catalogue())
            subject = .profile(analysis)
            heading = "Profile: \(file) (\(analysis.language), \(analysis.sampleType), total \(formatValue(analysis.total, unit: analysis.sampleType.unit)))"
        }
        let budget = TokenBudget(contextTokens: contextTokens, answerTokens: answerTokens)
        if showPrompt {
            let prompt = try subject.prompt(budget: budget)
            print("# prompt \(prompt.templateVersion): token bound \(prompt.tokenBound) of \(prompt.budget) (functions \(prompt.functionsIncluded)/\(prompt.functionsAvailable), paths \(prompt.pathsIncluded)/\(prompt.pathsAvailable))")
            print("## system\n\(prompt.system)\n## user\n\(prompt.user)")
            return
        }
        print(heading)
        let config = try gateway.config()
        guard let config else {
            print("Source: offline analysis (no LLM configured)\n")
            print(subject.offline.markdown, terminator: "")
            return
        }
        print("Source: LLM (\(config.mode.rawValue), model \(config.model)); streaming…\n")
        let service = ExplainService(conversations: Conversations(), budget: budget)
        let result = try await service.explain(subject, gateway: config, stream: true) { text in writeStdout(Array(text.utf8)) }
        if result["source"]?.stringValue == "offline" {
            let detail = result["fallback"]?["detail"]?.stringValue ?? "unknown"
            print("\nThe LLM did not answer (\(detail)); source: offline analysis\n")
            print(result["markdown"]?.stringValue ?? "", terminator: "")
            return
        }
        print("\n")
        let grounding = result["grounding"]
        let unverified = grounding?["unverified"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let numbers = grounding?["numbers"]?["unverified"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let cited = grounding?["cited"]?.arrayValue?.count ?? 0
        print("Grounding: \(cited - unverified.count) of \(cited) cited names found in the profile"
            + (unverified.isEmpty ? "" : "; not in the profile: " + unverified.map { "`\($0)`" }.joined(separator: ", "))
            + (numbers.isEmpty ? "" : "; numbers not in the data: " + numbers.joined(separator: ", ")))
    }
}
