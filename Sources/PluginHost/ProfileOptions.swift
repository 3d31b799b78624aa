import ArgumentParser
import FlameDiff
import ProtoPprof

/// Options shared by every command that reads a profile and builds a tree.
struct ProfileOptions: ParsableArguments {
    @Option(name: .customLong("sample-type"), help: "Sample type by name (cpu, cpu/nanoseconds) or index; default: the profile's default, else the last.")
    var sampleType: String?

    @Option(help: "What makes frames equal: function, function+line, function+file.")
    var key: String = FrameKey.function.rawValue

    @Option(name: .customLong("include-label"), help: "Keep only samples with this label (key=value); repeatable, all must match.")
    var includeLabels: [String] = []

    @Option(name: .customLong("exclude-label"), help: "Drop samples with this label (key=value); repeatable.")
    var excludeLabels: [String] = []

    @Option(help: "Keep only samples with a frame matching this regex (pprof -focus).")
    var focus: String?

    @Option(help: "Drop samples with a frame matching this regex (pprof -ignore).")
    var ignore: String?

    @Option(name: .customLong("max-inflated-bytes"), help: "Refuse profiles that inflate to more than this many bytes.")
    var maxInflatedBytes: Int = DecodeLimits().maxInflatedBytes

    func treeOptions() throws -> TreeOptions {
        guard let frameKey = FrameKey(rawValue: key) else {
            throw ValidationError("--key must be one of: \(FrameKey.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return TreeOptions(
            sampleType: sampleType.map(SampleTypeSelector.init(argument:)),
            frameKey: frameKey,
            includeLabels: try includeLabels.map { try LabelFilter(parsing: $0) },
            excludeLabels: try excludeLabels.map { try LabelFilter(parsing: $0) },
            focus: focus, ignore: ignore)
    }

    var limits: DecodeLimits { DecodeLimits(maxInflatedBytes: maxInflatedBytes) }
}

extension SampleTypeSelector {
    /// A `--sample-type` argument: an index when it is a number, else a name.
    init(argument: String) {
        self = Int(argument).map(SampleTypeSelector.index) ?? .name(argument)
    }
}
