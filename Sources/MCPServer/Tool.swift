import JSONCore
import JSONRPC
import ProfileService

/// What a tool knows of the server it runs in when it describes itself.
public struct ToolEnvironment: Sendable {
    /// The directory `{path}` profiles may come from (canonical), or nil when only base64 is accepted.
    public var allowedDirectory: String?
    /// Whether explanations go to an LLM (else they come from the offline analysis).
    public var llmConfigured: Bool

    public init(allowedDirectory: String?, llmConfigured: Bool) {
        self.allowedDirectory = allowedDirectory
        self.llmConfigured = llmConfigured
    }
}

/// A tool's answer before it goes on the wire: the structured content and its text rendering, and what
/// the budget left out.
public struct ToolOutput: Sendable {
    public var structured: [String: JSONValue]
    public var text: String
    /// Counts of what was left out (rows, paths, nodes, bytes …), by name; empty when nothing was.
    public var omitted: [String: JSONValue] = [:]

    public init(structured: [String: JSONValue], text: String, omitted: [String: JSONValue] = [:]) {
        self.structured = structured
        self.text = text
        self.omitted = omitted
    }

    /// The larger of the two renderings in bytes: an upper bound on the tokens of either.
    var size: Int { max(text.utf8.count, JSONValue.object(structured).encoded().count) }
}

/// The size budget every tool has: a token bound on its output, counted as UTF-8 bytes (an upper bound on
/// tokens for byte-level BPE tokenizers), with a stated default.
public struct OutputBudget: Sendable {
    public var defaultTokens: Int
    public var range: ClosedRange<Int>
    /// What gives way when the output is over the budget.
    public var gives: String

    /// Room kept for the `budget` and `omitted` fields, which are written after the fit.
    static let slack = 200
}

/// One MCP tool over one method of the service: its listing (name, title, description, schemas, budget),
/// how its arguments become the method's params, and how the method's answer is shaped for a model.
/// Tools call the same typed methods `serve` dispatches (`ServiceMethod`); they hold no profile logic.
public protocol MCPTool: Sendable {
    associatedtype Method: ServiceMethod
    static var name: String { get }
    static var title: String { get }
    static var description: String { get }
    static var budget: OutputBudget { get }
    /// The tool's own arguments (JSON Schema properties), besides `maxOutputTokens`.
    static func properties(_ environment: ToolEnvironment) -> [String: JSONValue]
    static var required: [String] { get }
    /// The structured content's properties (besides `budget` and `omitted`), and which are always there.
    static var outputProperties: [String: JSONValue] { get }
    static var outputRequired: [String] { get }
    /// The method's params from validated arguments (default: the arguments, less `maxOutputTokens`).
    static func params(_ arguments: [String: JSONValue]) -> [String: JSONValue]
    /// A last look at the typed request: progress for the sources, streaming for the model.
    static func prepare(_ request: inout Method.Request, progress: ProgressReporter?)
    /// The method's answer (its wire JSON, as `serve` sends it) shaped to fit `budget` tokens.
    static func shape(_ result: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput
    /// Whether to run the method again with other params when the shaped answer is over the budget
    /// (default: no; the flame graph lowers maxNodes).
    static func retry(_ output: ToolOutput, budget: Int, params: inout [String: JSONValue]) -> Bool
    /// The service method's name (`Method.name`).
    static var methodName: String { get }
}

extension MCPTool {
    public static var required: [String] { ["profile"] }

    public static var methodName: String { Method.name }

    public static func params(_ arguments: [String: JSONValue]) -> [String: JSONValue] {
        arguments.filter { $0.key != "maxOutputTokens" }
    }

    public static func prepare(_ request: inout Method.Request, progress: ProgressReporter?) {}

    public static func retry(_ output: ToolOutput, budget: Int, params: inout [String: JSONValue]) -> Bool { false }

    public static var budgetProperty: JSONValue {
        Schema.integer(
            "Size budget of the answer in tokens, counted as UTF-8 bytes (an upper bound). Default \(budget.defaultTokens); "
                + "over it, \(budget.gives).", range: budget.range, default: budget.defaultTokens)
    }

    public static func inputSchema(_ environment: ToolEnvironment) -> JSONValue {
        var p = properties(environment)
        p["maxOutputTokens"] = budgetProperty
        return Schema.object(p, required: required)
    }

    public static var outputSchema: JSONValue {
        var p = outputProperties
        p["budget"] = Schema.object(
            ["maxOutputTokens": Schema.int, "tokenBound": Schema.int], required: ["maxOutputTokens", "tokenBound"])
        p["omitted"] = Schema.counts
        return Schema.object(p, required: outputRequired + ["budget", "omitted"], additional: true)
    }

    /// The listing entry; revisions before 2025-06-18 have no `title` or `outputSchema`.
    public static func listing(_ environment: ToolEnvironment, version: String) -> JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(name), "description": .string(description), "inputSchema": inputSchema(environment),
        ]
        let annotations: [String: JSONValue] = [
            "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false, "title": .string(title),
        ]
        if MCPVersion.hasStructuredOutput(version) {
            o["title"] = .string(title)
            o["outputSchema"] = outputSchema
        }
        if version >= "2025-03-26" { o["annotations"] = .object(annotations) }
        return .object(o)
    }

    /// Runs the tool: arguments to params, the typed request, the method, the shaped answer.
    static func run(
        _ arguments: [String: JSONValue], service: ProfileService, progress: ProgressReporter?
    ) async throws(RPCError) -> ToolOutput {
        let budget = Int(arguments["maxOutputTokens"]?.intValue ?? Int64(self.budget.defaultTokens))
        var methodParams = params(arguments)
        var output: ToolOutput
        var attempts = 0
        repeat {
            var request = try Method.request(from: try Params(.object(methodParams)), in: service)
            prepare(&request, progress: attempts == 0 ? progress : nil)
            await progress?.stage(attempts == 0 ? "running \(name)" : "running \(name) again, smaller")
            // No request context: the service's own progress notifications (`$/progress`) are not MCP messages.
            let response = try await service.run(Method.self, request, context: nil)
            await progress?.stage("shaping the answer")
            output = try shape(Method.json(response), arguments: arguments.merging(methodParams) { _, p in p }, budget: budget)
            attempts += 1
        } while attempts < 4 && retry(output, budget: budget, params: &methodParams)
        output.structured["omitted"] = .object(output.omitted)
        output.structured["budget"] = ["maxOutputTokens": .int(Int64(budget)), "tokenBound": .int(Int64(output.size))]
        return output
    }
}

/// Shrinks a ranked list until its rendering fits: the largest `n ≤ count` whose output fits `budget`
/// (sizes grow with n), found by bisection. Returns the output for n = 0 when nothing fits.
func fit(count: Int, budget: Int, _ render: (Int) -> ToolOutput) -> ToolOutput {
    let limit = max(0, budget - OutputBudget.slack)
    let full = render(count)
    if full.size <= limit || count == 0 { return full }
    var (lo, hi) = (0, count - 1)  // render(lo) is the answer once lo == hi
    while lo < hi {
        let mid = (lo + hi + 1) / 2
        if render(mid).size <= limit { lo = mid } else { hi = mid - 1 }
    }
    return render(lo)
}
