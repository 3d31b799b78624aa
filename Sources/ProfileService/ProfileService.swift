import Explain
import FlameDiff
import JSONCore
import JSONRPC
import LLMGateway
import ProtoPprof
import PyroscopeClient

/// The service's settings, fixed at start.
public struct ServiceConfig: Sendable {
    /// Decoding limits for every profile.
    public var limits = DecodeLimits()
    /// The directory `{path}` profiles may come from; nil refuses paths.
    public var allowedDirectory: String?
    /// Registers the test-only methods (`debug.sleep`, `debug.fail`).
    public var testMethods = false
    /// Budget of the result cache in bytes; 0 disables it.
    public var cacheBytes = 256 << 20
    /// The LLM gateway for requests whose pluginContext names none; nil: offline explanations only.
    public var gateway: GatewayConfig?
    /// The Pyroscope for `{pyroscope}` profiles of requests whose pluginContext names none; nil: none.
    public var pyroscope: PyroscopeConfig?
    /// The prompt budget for explanations.
    public var budget = TokenBudget()
    /// The memory that requests may hold together (`--max-memory`, less what the process holds otherwise);
    /// nil: no budget (the CLI, which serves one request).
    public var memoryBudget: MemoryBudget?
    /// The transport's settings, reported by `initialize`.
    public var transport = ServerOptions()

    public init() {}
}

/// The profile and explanation service behind every front door: `serve` (JSON-RPC), the CLI, and the
/// hosts built on them. Stateless apart from the result cache and the conversations.
public final class ProfileService: Sendable {
    public let config: ServiceConfig
    public let sources: SourceParser
    let cache: ResultCache
    let explainer: ExplainService

    public static let protocolVersion = "1.0"

    public init(config: ServiceConfig = ServiceConfig()) {
        self.config = config
        var sources = SourceParser(allowedDirectory: config.allowedDirectory)
        sources.pyroscope = config.pyroscope.map { .success($0) }
        self.sources = sources
        cache = ResultCache(maxBytes: config.cacheBytes)
        explainer = ExplainService(conversations: Conversations(), budget: config.budget)
    }

    /// The methods this instance answers: the table, less the test methods unless enabled.
    public var registeredMethods: [any ServiceMethod.Type] {
        MethodTable.all.filter { !$0.testOnly || config.testMethods }
    }

    /// Runs a method with a typed request (the CLI's way in).
    public func run<M: ServiceMethod>(_ method: M.Type, _ request: M.Request, context: RequestContext? = nil) async throws(RPCError) -> M.Response {
        try await withMemoryReservation { () async throws(RPCError) -> M.Response in try await M.respond(to: request, in: self, context: context) }
    }

    /// Runs one request's work with a reservation of its own against the memory budget (if any, and if the task
    /// has none yet), given back when the request and every thread working for it are done.
    public func withMemoryReservation<T>(_ body: () async throws(RPCError) -> T) async throws(RPCError) -> T {
        guard let budget = config.memoryBudget, MemoryReservation.current == nil else { return try await body() }
        let result: Result<T, RPCError> = await MemoryReservation.$current.withValue(MemoryReservation(budget: budget)) {
            do throws(RPCError) { return .success(try await body()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Explains an analysed subject (the CLI analyses first, then prints a heading, then explains).
    public func explain(
        _ subject: ExplainSubject, gateway: GatewayConfig?, stream: Bool, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(RPCError) -> ExplainResult {
        try await explainer.explain(subject, gateway: gateway, budget: nil, stream: stream, onDelta: onDelta)
    }

    /// Decodes every source, two at a time by default (each on a thread of its own: one per core of a 2-core
    /// host, and no more than two profiles' memory at once; one at a time with `--threads 1`). The first failure
    /// in source order is thrown, whichever finished first, so an error does not depend on timing.
    func profiles(_ sources: [any ProfileSource], parameter: String) async throws(RPCError) -> [Profile] {
        try await decodeAll([(sources, parameter)])[0]
    }

    /// The two sides of a diff, decoded together: the comparison's profiles need not wait for the baseline's.
    func sides(baseline: [any ProfileSource], comparison: [any ProfileSource]) async throws(RPCError) -> (baseline: [Profile], comparison: [Profile]) {
        let decoded = try await decodeAll([(baseline, "baseline"), (comparison, "comparison")])
        return (decoded[0], decoded[1])
    }

    /// How many profiles one request decodes at once: the process's `--threads` (2 by default).
    static var parallelDecodes: Int { Parallelism.threads }

    /// One decoded source of `decodeAll`: its position and its profile or error.
    private struct Decoded: Sendable {
        var job: Int
        var result: Result<Profile, RPCError>
    }

    /// Decodes groups of sources (each named by its parameter), `parallelDecodes` at a time, in order.
    private func decodeAll(_ groups: [(sources: [any ProfileSource], parameter: String)]) async throws(RPCError) -> [[Profile]] {
        var jobs: [(group: Int, source: any ProfileSource, name: String)] = []
        for (g, group) in groups.enumerated() {
            for (i, source) in group.sources.enumerated() {
                jobs.append((g, source, group.sources.count == 1 ? group.parameter : "\(group.parameter)[\(i)]"))
            }
        }
        let limits = config.limits
        let results = await withTaskGroup(of: Decoded.self, returning: [Result<Profile, RPCError>?].self) { taskGroup in
            var results = [Result<Profile, RPCError>?](repeating: nil, count: jobs.count)
            for (k, job) in jobs.enumerated() {
                if k >= Self.parallelDecodes, let done = await taskGroup.next() { results[done.job] = done.result }
                taskGroup.addTask {
                    do throws(RPCError) {
                        return Decoded(job: k, result: .success(try await job.source.profile(limits: limits, parameter: job.name)))
                    } catch {
                        return Decoded(job: k, result: .failure(error))
                    }
                }
            }
            while let done = await taskGroup.next() { results[done.job] = done.result }
            return results
        }
        var out = [[Profile]](repeating: [], count: groups.count)
        for (k, result) in results.enumerated() {
            out[jobs[k].group].append(try result!.get())
        }
        return out
    }

    /// The gateway for a request: the Grafana app settings it carries, else the server's own; `model`
    /// (base/large) picks the LLM app's abstract model.
    func gateway(_ params: Params) throws(RPCError) -> GatewayConfig? {
        var gateway = GrafanaSettings.gatewayConfig(params) ?? config.gateway
        if let model = try params.string("model") {
            guard ["base", "large"].contains(model) else { throw RPCError.invalidParams(params.name("model"), "must be base or large") }
            // The LLM app's abstract models; an OpenAI-compatible server keeps its configured model.
            if gateway?.mode == .grafanaLLMApp { gateway?.model = model }
        }
        return gateway
    }
}
