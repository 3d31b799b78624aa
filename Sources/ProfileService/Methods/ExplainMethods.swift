import Explain
import FlameDiff
import JSONCore
import JSONRPC
import LLMGateway
import ProtoPprof

/// What to explain: a profile, or a flame graph in Pyroscope's levels form (the frontend's data).
public enum ExplainInput: Sendable {
    case profile(any ProfileSource)
    case flamegraph(names: [String], levels: [[Int64]], sampleType: ValueType)
}

/// `flamegraph.explain`'s request.
public struct ExplainRequest: Sendable {
    public var input: ExplainInput
    /// Sample type, frame key and filters, as for `profile.top`.
    public var query: TreeOptions
    public var gateway: GatewayConfig?
    /// The request's own token budget (the app's `llmContextTokens`); nil: the service's.
    public var budget: TokenBudget?
    /// Send the answer as it arrives, as progress notifications (`stage: "delta"`).
    public var stream: Bool
    /// Deltas for an in-process caller (the CLI prints them); over JSON-RPC they go out as progress.
    public var onDelta: (@Sendable (String) async -> Void)?
    /// `subtree`: explain only the calls under this call path (function names from the root's child down to the
    /// node, as the flame graph draws them); the node becomes the analysis' root and its total the 100%.
    public var subtree: [String]?

    public init(input: ExplainInput, query: TreeOptions = TreeOptions(), gateway: GatewayConfig? = nil, stream: Bool = false,
                onDelta: (@Sendable (String) async -> Void)? = nil, subtree: [String]? = nil) {
        self.input = input
        self.query = query
        self.gateway = gateway
        self.stream = stream
        self.onDelta = onDelta
        self.subtree = subtree
    }

    /// Longest call path `subtree` takes (deeper than any flame graph the page draws).
    public static let maxSubtreeDepth = 1024
}

extension ExplainRequest {
    /// Where deltas go: the caller's closure, else the request's progress channel.
    func deltaSink(_ context: RequestContext?) -> @Sendable (String) async -> Void {
        if let onDelta { return onDelta }
        return { text in await context?.progress(["stage": "delta", "text": .string(text)]) }
    }
}

/// `flamegraph.explain`: bottleneck, root cause and fix, from the LLM when configured, else offline.
public enum ExplainMethod: ServiceMethod {
    public static let name = "flamegraph.explain"
    public static let summary = "Explain a profile or a flame graph: performance bottleneck, root cause, recommended fix (grounded)."
    public static let resourcePath: String? = "/explain"

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> ExplainRequest {
        let subtree = try subtreePath(params)
        if params.has("flamegraph") {
            // A flame graph is already one sample type, named by `sampleType: {type, unit}`; it has no
            // samples to filter.
            var request = ExplainRequest(
                input: try levelsInput(params), gateway: try service.gateway(params), stream: try params.bool("stream") ?? false,
                subtree: subtree)
            request.budget = try GrafanaSettings.budget(params)
            return request
        }
        var request = ExplainRequest(
            input: .profile(try service.sources(for: params).source(params.nested("profile"))), query: try params.treeOptions(),
            gateway: try service.gateway(params), stream: try params.bool("stream") ?? false, subtree: subtree)
        request.budget = try GrafanaSettings.budget(params)
        return request
    }

    /// `subtree`: a non-empty array of function names, at most `maxSubtreeDepth` long; absent or null for the
    /// whole profile.
    static func subtreePath(_ params: Params) throws(RPCError) -> [String]? {
        guard params.has("subtree") else { return nil }
        let path = try params.strings("subtree")
        guard !path.isEmpty, path.count <= ExplainRequest.maxSubtreeDepth else {
            throw RPCError.invalidParams(params.name("subtree"), "must name 1 to \(ExplainRequest.maxSubtreeDepth) functions, root first")
        }
        return path
    }

    /// The tree cut to the request's subtree (the tree itself when it names none).
    static func focused(_ tree: CallTree, on path: [String]?) throws(RPCError) -> CallTree {
        guard let path else { return tree }
        guard let node = tree.node(at: path) else {
            throw RPCError.invalidParams(
                "subtree", "is not a call path of this profile (\(path.count) frames, ending in \(path.last ?? ""))")
        }
        return tree.subtree(at: node)
    }

    public static func respond(to request: ExplainRequest, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> ExplainResult {
        let analysis = try await analyse(request, in: service)
        return try await service.explainer.explain(
            .profile(analysis), gateway: request.gateway, budget: request.budget, stream: request.stream, onDelta: request.deltaSink(context))
    }

    public static func json(_ r: ExplainResult) -> JSONValue { r.json }

    /// The offline analysis behind an explanation.
    public static func analyse(_ request: ExplainRequest, in service: ProfileService) async throws(RPCError) -> Analysis {
        let query = request.query
        let subtree = request.subtree
        switch request.input {
        case .profile(let source):
            let p = try await source.profile(limits: service.config.limits, parameter: "profile")
            return try await offload { () throws(RPCError) -> Analysis in
                do {
                    guard subtree != nil else { return try Analysis(profile: p, options: query, catalogue: Category.catalogue()) }
                    let tree = try focused(CallTree(profile: p, options: query), on: subtree)
                    var analysis = Analysis(top: TopTable(tree: tree), tree: tree, catalogue: try Category.catalogue())
                    analysis.fileNames = Set(p.functions.map { p.strings[Int($0.filename)] }.filter { !$0.isEmpty })
                    return analysis
                } catch let error as RPCError {
                    throw error
                } catch let error as FlameDiffError {
                    throw RPCError.badRequest(error)
                } catch {
                    throw RPCError.internalError("the analysis catalogue could not be read")
                }
            }
        case .flamegraph(let names, let levels, let sampleType):
            return try await offload { () throws(RPCError) -> Analysis in
                do {
                    let tree = try focused(CallTree(levels: levels, names: names, sampleType: sampleType), on: subtree)
                    return Analysis(top: TopTable(tree: tree), tree: tree, catalogue: try Category.catalogue())
                } catch let error as RPCError {
                    throw error
                } catch let error as FlameDiffError {
                    throw RPCError.badRequest(error)
                } catch {
                    throw RPCError.internalError("the analysis catalogue could not be read")
                }
            }
        }
    }

    /// A flame graph in Pyroscope's levels form, `{names, levels: [{values}] or [[…]]}`, as the frontend holds
    /// it; `sampleType` may then be `{type, unit}`.
    static func levelsInput(_ params: Params) throws(RPCError) -> ExplainInput {
        let graph = try params.nested("flamegraph")
        guard case .array(let rawNames)? = graph.values["names"] else {
            throw RPCError.invalidParams(graph.name("names"), "must be an array of strings")
        }
        var names: [String] = []
        for n in rawNames {
            guard let s = n.stringValue else { throw RPCError.invalidParams(graph.name("names"), "must be an array of strings") }
            names.append(s)
        }
        guard case .array(let rawLevels)? = graph.values["levels"] else {
            throw RPCError.invalidParams(graph.name("levels"), "must be an array of levels")
        }
        var levels: [[Int64]] = []
        for level in rawLevels {
            let values = level["values"]?.arrayValue ?? level.arrayValue
            guard let values else { throw RPCError.invalidParams(graph.name("levels"), "each level must be {values: [...]} or an array") }
            var ints: [Int64] = []
            ints.reserveCapacity(values.count)
            for v in values {
                guard let i = v.intValue else { throw RPCError.invalidParams(graph.name("levels"), "values must be integers") }
                ints.append(i)
            }
            levels.append(ints)
        }
        var type = ValueType(type: "samples", unit: "count")
        if case .object(let o)? = params.values["sampleType"], let t = o["type"]?.stringValue {
            type = ValueType(type: t, unit: o["unit"]?.stringValue ?? "count")
        }
        return .flamegraph(names: names, levels: levels, sampleType: type)
    }
}

/// `flamegraph.explainDiff`'s request.
public struct ExplainDiffRequest: Sendable {
    public var baseline: [any ProfileSource]
    public var comparison: [any ProfileSource]
    public var query: TreeOptions
    public var gateway: GatewayConfig?
    /// The request's own token budget (the app's `llmContextTokens`); nil: the service's.
    public var budget: TokenBudget?
    public var stream: Bool
    public var onDelta: (@Sendable (String) async -> Void)?

    public init(baseline: [any ProfileSource], comparison: [any ProfileSource], query: TreeOptions = TreeOptions(),
                gateway: GatewayConfig? = nil, stream: Bool = false, onDelta: (@Sendable (String) async -> Void)? = nil) {
        self.baseline = baseline
        self.comparison = comparison
        self.query = query
        self.gateway = gateway
        self.stream = stream
        self.onDelta = onDelta
    }
}

/// `flamegraph.explainDiff`: performance change, function impact, potential causes.
public enum ExplainDiffMethod: ServiceMethod {
    public static let name = "flamegraph.explainDiff"
    public static let summary = "Explain what changed between a baseline and a comparison: performance change, function impact, potential causes."
    public static let resourcePath: String? = "/explainDiff"

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> ExplainDiffRequest {
        let sides = try service.sources(for: params).sides(params)
        var request = ExplainDiffRequest(
            baseline: sides.baseline, comparison: sides.comparison,
            query: try params.treeOptions(), gateway: try service.gateway(params), stream: try params.bool("stream") ?? false)
        request.budget = try GrafanaSettings.budget(params)
        return request
    }

    public static func respond(to request: ExplainDiffRequest, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> ExplainResult {
        let explanation = try await analyse(request, in: service)
        let sink: @Sendable (String) async -> Void = request.onDelta ?? { text in await context?.progress(["stage": "delta", "text": .string(text)]) }
        return try await service.explainer.explain(
            .diff(explanation), gateway: request.gateway, budget: request.budget, stream: request.stream, onDelta: sink)
    }

    public static func json(_ r: ExplainResult) -> JSONValue { r.json }

    /// The offline explanation of the change.
    public static func analyse(_ request: ExplainDiffRequest, in service: ProfileService) async throws(RPCError) -> DiffExplanation {
        let (baseline, comparison) = try await service.sides(baseline: request.baseline, comparison: request.comparison)
        let query = request.query
        return try await offload { () throws(RPCError) -> DiffExplanation in
            let diff: DiffTree
            do throws(FlameDiffError) {
                diff = try DiffTree(baseline: baseline, comparison: comparison, options: query)
            } catch {
                throw RPCError.badRequest(error)
            }
            guard let catalogue = try? Category.catalogue() else { throw RPCError.internalError("the analysis catalogue could not be read") }
            return DiffExplanation(diff: diff, catalogue: catalogue)
        }
    }
}

/// `explain.followUp`'s request.
public struct FollowUpRequest: Sendable {
    public var conversationId: String
    public var question: String
    public var gateway: GatewayConfig?
    /// The request's own token budget (the app's `llmContextTokens`); nil: the service's.
    public var budget: TokenBudget?
    public var stream: Bool
}

/// `explain.followUp`: a question about an earlier explanation, with the conversation so far.
public enum FollowUpMethod: ServiceMethod {
    public static let name = "explain.followUp"
    public static let summary = "Ask a follow-up question about an earlier explanation (its conversationId)."
    public static let resourcePath: String? = "/explain/followUp"

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> FollowUpRequest {
        FollowUpRequest(
            conversationId: try params.requiredString("conversationId"), question: try params.requiredString("question"),
            gateway: try service.gateway(params), budget: try GrafanaSettings.budget(params), stream: try params.bool("stream") ?? false)
    }

    public static func respond(to request: FollowUpRequest, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> ExplainResult {
        try await service.explainer.followUp(
            id: request.conversationId, question: request.question, gateway: request.gateway, budget: request.budget, stream: request.stream
        ) { text in await context?.progress(["stage": "delta", "text": .string(text)]) }
    }

    public static func json(_ r: ExplainResult) -> JSONValue { r.json }
}
