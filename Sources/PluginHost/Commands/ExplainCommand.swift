import ArgumentParser
import Explain
import FlameDiff
import ProtoPprof

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a profile: performance bottleneck, root cause, recommended fix (offline analysis).")

    @Argument(help: "A pprof profile (gzip or raw protobuf).")
    var file: String

    @Option(name: .customLong("sample-type"), help: "Sample type by name or index; default: the profile's default (the first nonzero one if that is empty).")
    var sampleType: String?

    func run() throws {
        let loaded = try loadProfile(file, limits: DecodeLimits())
        let selector = sampleType.map { Int($0).map(SampleTypeSelector.index) ?? .name($0) }
        let analysis = try Analysis(profile: loaded.profile, sampleType: selector, catalogue: Category.catalogue())
        print("Profile: \(file) (\(analysis.language), \(analysis.sampleType), total \(formatValue(analysis.total, unit: analysis.sampleType.unit)))")
        print("Source: offline analysis (no LLM configured)\n")
        print(Explanation(analysis).markdown, terminator: "")
    }
}
