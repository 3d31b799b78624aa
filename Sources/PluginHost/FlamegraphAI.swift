import ArgumentParser

@main
struct FlamegraphAI: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "flamegraph-ai",
        abstract: "Decode pprof profiles, build flame graphs and explain them.",
        version: version,
        subcommands: [ServeCommand.self, InfoCommand.self, TopCommand.self, FlamegraphCommand.self, DiffCommand.self, ReplayCommand.self, LLMCommand.self, ExplainCommand.self, ReportCommand.self, PyroscopeCommand.self, MCPCommand.self, DevCommand.self]
    )
}
