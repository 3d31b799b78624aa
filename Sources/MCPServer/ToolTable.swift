import JSONCore
import JSONRPC
import ProfileService

/// Every MCP tool, once, and the service methods that are deliberately not tools. Together they cover
/// `MethodTable.all` exactly (a test checks it), so a method added to the service is either exposed here
/// or listed with the reason it is not: it cannot be half-registered.
public enum ToolTable {
    public static let all: [any MCPTool.Type] = [
        ProfileInfoTool.self, TopFunctionsTool.self, HotPathsTool.self, FlameGraphTool.self, DiffProfilesTool.self,
        ExplainProfileTool.self, ExplainDiffTool.self, ExplainFollowUpTool.self,
        DebugSleepTool.self,
    ]

    /// Service methods with no tool, and why.
    public static let notTools: [String: String] = [
        InitializeMethod.name: "serve's handshake; MCP has its own initialize",
        ShutdownMethod.name: "serve's LSP-style lifecycle; MCP over stdio ends at end of input",
        CheckHealthMethod.name: "Grafana plugin adapter",
        CallResourceMethod.name: "Grafana plugin adapter (HTTP routes over the same methods)",
        QueryDataMethod.name: "Grafana plugin adapter (data frames for panels)",
        SampleTypesMethod.name: "profile_info lists every sample type with its total",
        DebugFailMethod.name: "test only: an internal error, which tools report as isError anyway",
        // Merged after the MCP tools were written: Pyroscope listings need a data source the `mcp` command does not
        // configure yet (profiles from Pyroscope reach the tools only through a configured server).
        "pyroscope.profileTypes": "needs a Pyroscope data source, which `mcp` does not configure yet",
        "pyroscope.labelNames": "needs a Pyroscope data source, which `mcp` does not configure yet",
        "pyroscope.labelValues": "needs a Pyroscope data source, which `mcp` does not configure yet",
        "pyroscope.series": "needs a Pyroscope data source, which `mcp` does not configure yet",
    ]

    /// Method names that are neither a tool nor listed in `notTools`, and those that are both.
    public static func coverage() -> (missing: [String], both: [String]) {
        let tools = Set(all.map { $0.methodName })
        let methods = MethodTable.all.map { $0.name }
        return (methods.filter { !tools.contains($0) && notTools[$0] == nil }, methods.filter { tools.contains($0) && notTools[$0] != nil })
    }

    /// The tools a server offers: those whose method it registers (test tools only with test methods).
    public static func tools(for service: ProfileService) -> [any MCPTool.Type] {
        let registered = Set(service.registeredMethods.map { $0.name })
        return all.filter { registered.contains($0.methodName) }
    }
}
