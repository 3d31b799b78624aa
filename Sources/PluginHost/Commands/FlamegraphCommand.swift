import ArgumentParser
import FlameDiff
import ProtoPprof

enum FlamegraphFormat: String, ExpressibleByArgument, CaseIterable {
    case levels, dataframe, folded
}

struct FlamegraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flamegraph",
        abstract: "Build a flame graph: Pyroscope levels JSON, Grafana data-frame JSON, or folded stacks.")

    @Argument(help: "A pprof profile (gzip or raw protobuf).")
    var file: String

    @OptionGroup var profileOptions: ProfileOptions

    @Option(help: "levels (Pyroscope FlameGraph), dataframe (Grafana flame graph panel) or folded.")
    var format: FlamegraphFormat = .levels

    @Option(name: .customLong("max-nodes"), help: "Cut the graph to this many nodes (0: no limit; folded output is never cut).")
    var maxNodes: Int = FlameGraph.defaultMaxNodes

    func validate() throws {
        guard maxNodes >= 0 && maxNodes <= FlameGraph.maxMaxNodes else {
            throw ValidationError("--max-nodes must be between 0 and \(FlameGraph.maxMaxNodes)")
        }
    }

    func run() throws {
        var timer = PhaseTimer()
        let loaded = try loadProfile(file, limits: profileOptions.limits)
        timer.mark("read+decode")
        let tree = try CallTree(profile: loaded.profile, options: profileOptions.treeOptions())
        timer.mark("tree (\(tree.nodeCount) nodes)")
        defer { timer.mark("graph+export+write") }
        switch format {
        case .folded:
            writeStdout(FoldedExport.bytes(tree))
        case .levels:
            var bytes = FlameGraphLevels(FlameGraph(tree: tree, maxNodes: maxNodes)).json()
            bytes.append(UInt8(ascii: "\n"))
            writeStdout(bytes)
        case .dataframe:
            var bytes = DataFrameExport.json(FlameGraph(tree: tree, maxNodes: maxNodes))
            bytes.append(UInt8(ascii: "\n"))
            writeStdout(bytes)
        }
    }
}
