import Explain
import FlameDiff
import ProtoPprof
import Foundation
import LLMGateway
import Synchronization

/// The server's settings, fixed at start.
struct ServerConfig: Sendable {
    var maxLineBytes = 64 << 20
    var maxConcurrent = 16
    var graceSeconds = 10.0
    var source = ProfileSource(limits: .init(), allowedDirectory: nil)
    var testMethods = false
    /// Budget of the result cache in bytes; 0 disables it.
    var cacheBytes = 256 << 20
    /// The LLM gateway for requests whose pluginContext names none; nil: offline explanations only.
    var gateway: GatewayConfig?
}

/// What a handler knows of its request: its id, and a way to report progress tied to it.
struct RequestContext: Sendable {
    let id: RequestID?
    let output: OutputChannel

    /// Sends `$/progress {id, value}`; only requests (not notifications) report progress.
    func progress(_ value: JSONValue) async {
        guard let id else { return }
        await output.send(Responses.notification("$/progress", params: ["id": id.json, "value": value]))
    }
}

/// Whether `shutdown` was received.
actor Lifecycle {
    private(set) var shutdownRequested = false
    func requestShutdown() { shutdownRequested = true }
}

/// Maps a method name to its handler: one switch, unknown names are "method not found".
struct Dispatcher: Sendable {
    let config: ServerConfig
    let profiles: ProfileMethods
    let grafana: GrafanaMethods
    let cache: ResultCache
    let explainer: ExplainService

    static let protocolVersion = "1.0"
    static let methods = [
        "initialize", "shutdown", "exit", "$/cancelRequest", "checkHealth", "callResource", "queryData",
        "profile.info", "profile.top", "profile.flamegraph", "profile.diff", "flamegraph.explain",
        "flamegraph.explainDiff", "explain.followUp",
    ]

    init(config: ServerConfig) {
        self.config = config
        profiles = ProfileMethods(source: config.source)
        grafana = GrafanaMethods(profiles: profiles)
        cache = ResultCache(maxBytes: config.cacheBytes)
        explainer = ExplainService(conversations: Conversations())
    }

    /// The gateway for a request: the Grafana app settings it carries, else the server's own.
    func gateway(_ params: Params) -> GatewayConfig? {
        GrafanaMethods.gatewayConfig(params) ?? config.gateway
    }

    func handle(_ method: String, _ raw: JSONValue?, _ context: RequestContext) async throws(RPCError) -> JSONValue {
        let params = try Params(raw)
        switch method {
        case "initialize":
            return initializeResult()
        case "shutdown":
            // The server already stopped admitting requests when it read this one.
            return .null
        case "checkHealth":
            let grafana = self.grafana
            let decoder = try await offload { () throws(RPCError) in grafana.checkHealth(params) }
            return await GrafanaMethods.addGatewayHealth(to: decoder, params: params)
        case "callResource":
            let gateway = self.gateway(params)
            return try await grafana.callResource(params) { (target, body) async throws(RPCError) in
                try await self.route(target, body, gateway: gateway, context: context)
            }
        case "queryData":
            let grafana = self.grafana
            return try await offload { () throws(RPCError) in try grafana.queryData(params) }
        case "flamegraph.explain", "flamegraph.explainDiff", "explain.followUp":
            return try await route(method, params, gateway: gateway(params), context: context)
        case "profile.info", "profile.top", "profile.flamegraph", "profile.diff":
            let profiles = self.profiles
            let cache = self.cache
            let wantsProgress = try params.bool("progress") ?? false
            if wantsProgress { await context.progress(["stage": "started", "method": .string(method)]) }
            let result = try await offload { () throws(RPCError) in
                try cache.value(ResultCache.key(method: method, params: params)) { () throws(RPCError) in
                    try Self.call(profiles, method, params)
                }
            }
            if wantsProgress { await context.progress(["stage": "done", "method": .string(method)]) }
            return result
        case "debug.sleep" where config.testMethods:
            // Test-only: a request that takes a known time without using a CPU.
            let ms = try params.int("ms", in: 0 ... 60_000) ?? 100
            do {
                try await Task.sleep(for: .milliseconds(ms))
            } catch {
                throw .cancelled
            }
            return ["slept": .int(ms)]
        case "debug.fail" where config.testMethods:
            // Test-only: the answer a handler bug gets.
            throw .internalError("debug.fail was called")
        default:
            throw .methodNotFound(method)
        }
    }

    static func call(_ profiles: ProfileMethods, _ method: String, _ params: Params) throws(RPCError) -> JSONValue {
        switch method {
        case "profile.info": return try profiles.info(params)
        case "profile.top": return try profiles.top(params)
        case "profile.flamegraph": return try profiles.flamegraph(params)
        case "profile.diff": return try profiles.diff(params)
        default: throw .methodNotFound(method)
        }
    }

    /// A profile or explain method by name, for direct calls and callResource routes alike. Decoding and
    /// analysis run on a thread of their own; the LLM call is async. Streamed text goes out as
    /// `$/progress {id, value: {stage: "delta", text}}` when `stream` is true.
    func route(_ method: String, _ params: Params, gateway: GatewayConfig?, context: RequestContext) async throws(RPCError) -> JSONValue {
        let profiles = self.profiles
        let stream = try params.bool("stream") ?? false
        let onDelta: @Sendable (String) async -> Void = { text in await context.progress(["stage": "delta", "text": .string(text)]) }
        var gateway = gateway
        if let model = try params.string("model") {
            guard ["base", "large"].contains(model) else { throw RPCError.invalidParams(params.name("model"), "must be base or large") }
            // The LLM app's abstract models; an OpenAI-compatible server keeps its configured model.
            if gateway?.mode == .grafanaLLMApp { gateway?.model = model }
        }
        switch method {
        case "flamegraph.explain":
            let analysis = try await offload { () throws(RPCError) in try profiles.analysis(params) }
            return try await explainer.explain(.profile(analysis), gateway: gateway, stream: stream, onDelta: onDelta)
        case "flamegraph.explainDiff":
            let diff = try await offload { () throws(RPCError) in try profiles.diffExplanation(params) }
            return try await explainer.explain(.diff(diff), gateway: gateway, stream: stream, onDelta: onDelta)
        case "explain.followUp":
            return try await explainer.followUp(
                id: params.requiredString("conversationId"), question: params.requiredString("question"), gateway: gateway,
                stream: stream, onDelta: onDelta)
        default:
            let cache = self.cache
            return try await offload { () throws(RPCError) in
                try cache.value(ResultCache.key(method: method, params: params)) { () throws(RPCError) in
                    try Self.call(profiles, method, params)
                }
            }
        }
    }

    func initializeResult() -> JSONValue {
        [
            "name": "flamegraph-ai", "version": .string(FlamegraphAI.version),
            "protocolVersion": .string(Self.protocolVersion),
            "methods": .array(Self.methods.map(JSONValue.string)),
            "limits": [
                "maxLineBytes": .int(Int64(config.maxLineBytes)),
                "maxConcurrentRequests": .int(Int64(config.maxConcurrent)),
                "maxInflatedBytes": .int(Int64(config.source.limits.maxInflatedBytes)),
                "maxDecodeMemoryBytes": .int(Int64(config.source.limits.maxDecodeMemoryBytes)),
                "maxFlameGraphNodes": .int(Int64(FlameGraph.maxMaxNodes)),
                "shutdownGraceSeconds": .double(config.graceSeconds),
                "resultCacheBytes": .int(Int64(config.cacheBytes)),
            ],
            "profileInput": config.source.allowedDirectory == nil ? ["pprof"] : ["pprof", "path"],
        ]
    }
}

/// Runs CPU-bound work on a thread of its own, so that a long decode never holds a thread of the
/// cooperative pool that fast requests need. A cancelled request answers at once, and the work sees its
/// `CancellationFlag` set (`WorkCancellation`): its long loops stop at their next check.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws(RPCError) -> T) async throws(RPCError) -> T {
    if Task.isCancelled { throw .cancelled }
    let once = Mutex<CheckedContinuation<Result<T, RPCError>, Never>?>(nil)
    let flag = CancellationFlag()
    let result: Result<T, RPCError> = await withTaskCancellationHandler {
        await withCheckedContinuation { continuation in
            once.withLock { $0 = continuation }
            let thread = Thread {
                let outcome = WorkCancellation.run(with: flag) { Result { () throws(RPCError) -> T in try work() } }
                once.withLock { pending in
                    pending?.resume(returning: outcome)
                    pending = nil
                }
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
    } onCancel: {
        flag.cancel()
        once.withLock { pending in
            pending?.resume(returning: .failure(.cancelled))
            pending = nil
        }
    }
    if Task.isCancelled { throw .cancelled }
    return try result.get()
}
