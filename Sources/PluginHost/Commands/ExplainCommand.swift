import ArgumentParser
import Explain
import FlameDiff
import ProtoPprof

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a profile (bottleneck, root cause, fix) or a diff with --vs (change, impact, causes); offline analysis.")

    @Argument(help: "A pprof profile (gzip or raw protobuf).")
    var file: String

    @Option(name: .customLong("sample-type"), help: "Sample type by name or index; default: the profile's default (the first nonzero one if that is empty).")
    var sampleType: String?

    @Option(name: .customLong("vs"), parsing: .upToNextOption, help: "Comparison profile(s): explain the change from FILE to these.")
    var comparison: [String] = []

    func run() throws {
        if !comparison.isEmpty {
            let base = try loadProfile(file, limits: DecodeLimits()).profile
            let cmp = try comparison.map { try loadProfile($0, limits: DecodeLimits()).profile }
            let selector = sampleType.map { Int($0).map(SampleTypeSelector.index) ?? .name($0) }
            let diff = try DiffTree(baseline: [base], comparison: cmp, options: TreeOptions(sampleType: selector))
            print("Diff: \(file) → \(comparison.joined(separator: ", ")) (\(diff.sampleType); shares of each side's own total)")
            print("Source: offline analysis (no LLM configured)\n")
            print(DiffExplanation(diff: diff, catalogue: try Category.catalogue()).markdown, terminator: "")
            return
        }
        let loaded = try loadProfile(file, limits: DecodeLimits())
        let selector = sampleType.map { Int($0).map(SampleTypeSelector.index) ?? .name($0) }
        let analysis = try Analysis(profile: loaded.profile, sampleType: selector, catalogue: Category.catalogue())
        print("Profile: \(file) (\(analysis.language), \(analysis.sampleType), total \(formatValue(analysis.total, unit: analysis.sampleType.unit)))")
        print("Source: offline analysis (no LLM configured)\n")
        print(Explanation(analysis).markdown, terminator: "")
    }
}
