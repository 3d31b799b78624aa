import JSONCore
import JSONRPC
import ProfileService

/// The MCP revisions this server speaks, newest first.
public enum MCPVersion {
    public static let latest = "2025-11-25"
    public static let supported = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

    /// The client's revision when we speak it, else our latest (the client may then disconnect).
    public static func negotiate(_ requested: String) -> String {
        supported.contains(requested) ? requested : latest
    }

    /// Structured tool output (`structuredContent`, `outputSchema`) and `title` arrived in 2025-06-18.
    public static func hasStructuredOutput(_ version: String) -> Bool { version >= "2025-06-18" }
}

extension ServerOptions {
    /// The JSON-RPC transport as MCP wants it: `notifications/cancelled {requestId}` cancels, a cancelled
    /// request gets no answer, and there is no LSP lifecycle (the session ends at end of input).
    public static func mcp(maxLineBytes: Int = 64 << 20, maxConcurrent: Int = 16, graceSeconds: Double = 5) -> ServerOptions {
        var o = ServerOptions()
        o.maxLineBytes = maxLineBytes
        o.maxConcurrent = maxConcurrent
        o.graceSeconds = graceSeconds
        o.cancelMethod = "notifications/cancelled"
        o.cancelIDKey = "requestId"
        o.answerCancelled = false
        o.lspLifecycle = false
        o.progressMethod = "notifications/progress"
        return o
    }
}

/// What the session agreed on in `initialize`.
actor MCPSession {
    private(set) var version: String?
    private(set) var clientName: String?
    private(set) var initialized = false

    func start(version: String, clientName: String?) -> Bool {
        guard self.version == nil else { return false }
        self.version = version
        self.clientName = clientName
        return true
    }

    func markInitialized() { initialized = true }
}

/// MCP over the project's JSON-RPC server: lifecycle (`initialize`, `notifications/initialized`, `ping`),
/// `tools/list` and `tools/call` over `ToolTable`. Tool failures are results with `isError: true`;
/// malformed calls (no name, an unknown tool, arguments that are not an object) are JSON-RPC errors.
public struct MCPHandler: RPCHandler {
    public let service: ProfileService
    public let environment: ToolEnvironment
    let tools: [String: any MCPTool.Type]
    let order: [String]
    let session = MCPSession()

    public static let serverName = "flamegraph-ai"

    public init(service: ProfileService) {
        self.service = service
        environment = ToolEnvironment(allowedDirectory: service.config.allowedDirectory, llmConfigured: service.config.gateway != nil)
        let offered = ToolTable.tools(for: service)
        tools = Dictionary(uniqueKeysWithValues: offered.map { ($0.name, $0) })
        order = offered.map { $0.name }
    }

    public func handle(_ method: String, _ params: JSONValue?, _ context: RequestContext) async throws(RPCError) -> JSONValue {
        switch method {
        case "initialize": return try await initialize(params)
        case "notifications/initialized":
            await session.markInitialized()
            return .null
        case "ping": return [:]
        case "tools/list":
            let version = try await negotiated()
            return ["tools": .array(order.map { tools[$0]!.listing(environment, version: version) })]
        case "tools/call": return try await call(params, context)
        default: throw .methodNotFound(method)
        }
    }

    func negotiated() async throws(RPCError) -> String {
        guard let version = await session.version else {
            throw RPCError.invalidRequest("the session is not initialized: send initialize first")
        }
        return version
    }

    func initialize(_ params: JSONValue?) async throws(RPCError) -> JSONValue {
        guard case .object(let p)? = params else { throw RPCError.invalidParams("params", "must be an object") }
        guard case .string(let requested)? = p["protocolVersion"] else {
            throw RPCError.invalidParams("protocolVersion", "must be a string")
        }
        let version = MCPVersion.negotiate(requested)
        guard await session.start(version: version, clientName: p["clientInfo"]?["name"]?.stringValue) else {
            throw RPCError.invalidRequest("the session is already initialized")
        }
        var info: [String: JSONValue] = ["name": .string(Self.serverName), "version": .string(ServiceInfo.version)]
        if MCPVersion.hasStructuredOutput(version) { info["title"] = "flamegraph-ai: pprof profiles explained" }
        if version >= "2025-11-25" {
            info["description"] = "Reads pprof profiles: top functions, hot paths, flame graphs, diffs, and grounded explanations."
        }
        return [
            "protocolVersion": .string(version),
            "capabilities": ["tools": ["listChanged": false]],
            "serverInfo": .object(info),
            "instructions": .string(instructions),
        ]
    }

    var instructions: String {
        let input =
            environment.allowedDirectory.map {
                "Name profiles as {\"path\": file} inside \($0) (relative paths are taken from there) or as {\"pprof\": base64}."
            }
            ?? "Pass profiles as {\"pprof\": base64} (this server was started without --allow-dir, so paths are refused)."
        return "Tools over pprof profiles. \(input) Start with profile_info (sample types), then explain_profile for the bottleneck, "
            + "root cause and fix, or top_functions / hot_paths for the numbers (key: function+line gives file:line). "
            + "Every tool has a size budget (maxOutputTokens) and says what it left out. Explanations are "
            + (environment.llmConfigured
                ? "written by the configured LLM and checked against the profile."
                : "offline (no LLM configured) and checked against the profile.")
    }

    func call(_ params: JSONValue?, _ context: RequestContext) async throws(RPCError) -> JSONValue {
        let version = try await negotiated()
        guard case .object(let p)? = params else { throw RPCError.invalidParams("params", "must be an object") }
        guard case .string(let name)? = p["name"] else { throw RPCError.invalidParams("name", "must be a string") }
        guard let tool = tools[name] else {
            throw RPCError(
                code: RPCError.invalidParamsCode, message: "Unknown tool: \(name)", data: ["tool": .string(String(name.prefix(128)))])
        }
        let arguments: [String: JSONValue]
        switch p["arguments"] {
        case nil, .null?: arguments = [:]
        case .object(let o)?: arguments = o
        default: throw RPCError.invalidParams("arguments", "must be an object")
        }
        var progress: ProgressReporter? = nil
        switch p["_meta"]?["progressToken"] {
        case let token? where token.stringValue != nil || token.intValue != nil:
            progress = ProgressReporter(token: token, context: context)
        default: break
        }
        defer { if let progress { Task { await progress.finish() } } }
        let problems = SchemaValidator.validate(.object(arguments), against: tool.inputSchema(environment), at: "")
        if !problems.isEmpty {
            return Self.failure("invalid arguments: " + problems.prefix(5).joined(separator: "; "))
        }
        await progress?.stage("started \(name)")
        do {
            let output = try await tool.run(arguments, service: service, progress: progress)
            await progress?.finish()
            var result: [String: JSONValue] = ["content": [["type": "text", "text": .string(output.text)]], "isError": false]
            if MCPVersion.hasStructuredOutput(version) { result["structuredContent"] = .object(output.structured) }
            return .object(result)
        } catch {
            await progress?.finish()
            // A cancelled call gets no answer at all (the server drops it); anything else is the tool's failure.
            if error.code == RPCError.requestCancelledCode || Task.isCancelled { throw .cancelled }
            return Self.failure(Self.describe(error))
        }
    }

    /// A tool failure as a result the model can read and act on.
    static func failure(_ message: String) -> JSONValue {
        ["content": [["type": "text", "text": .string(message)]], "isError": true]
    }

    static func describe(_ error: RPCError) -> String {
        var text = error.message
        if let kind = error.data?["kind"]?.stringValue { text += " [\(kind)]" }
        switch error.code {
        case RPCError.invalidParamsCode: text += " (fix the arguments and call again)"
        case RPCError.badProfileCode: text += " (the profile could not be read: is it a pprof file?)"
        case RPCError.limitExceededCode: text += " (the profile is over a limit of this server)"
        case RPCError.badRequestCode where error.data?["kind"]?.stringValue == "unknown_conversation":
            text += " (call explain_profile or explain_diff again for a new conversationId)"
        default: break
        }
        return text
    }
}
