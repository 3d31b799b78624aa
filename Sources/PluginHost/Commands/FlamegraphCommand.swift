import ArgumentParser
import FlameDiff
import ProfileService
import ProtoPprof

extension FlamegraphFormat: ExpressibleByArgument {}

struct FlamegraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flamegraph",
        abstract: "Build a flame graph: Pyroscope levels JSON, Grafana data-frame JSON, folded stacks, or an interactive SVG.")

    @Argument(help: "A profile (pprof or another format read); without it, the --pyroscope query's profile.")
    var file: String?

    @OptionGroup var profileOptions: ProfileOptions

    @OptionGroup var pyroscope: PyroscopeQueryOptions

    @Option(help: "levels (Pyroscope FlameGraph), dataframe (Grafana flame graph panel), folded (never cut) or svg (interactive, self-contained).")
    var format: FlamegraphFormat = .levels

    @OptionGroup var nodes: NodeLimitOption

    func validate() throws { _ = try pyroscope.usesPyroscope(file: file != nil) }

    func run() async throws {
        var timer = PhaseTimer()
        let service = cliService(limits: profileOptions.limits)
        let request = FlamegraphRequest(
            profile: ProfileRequest(profile: try pyroscope.profile(file: file, profileOptions.file), query: try profileOptions.treeOptions()), format: format, maxNodes: nodes.maxNodes)
        let result = try await runCLI(service, FlamegraphMethod.self, request)
        timer.mark("read+decode+tree+graph (\(result.tree.nodeCount) nodes)")
        defer { timer.mark("export+write") }
        var bytes = result.bytes
        if format == .levels || format == .dataframe { bytes.append(UInt8(ascii: "\n")) }
        writeStdout(bytes)
    }
}
