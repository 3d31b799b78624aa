import Foundation
import JSONCore
import JSONRPC
import ProtoPprof
import Synchronization

/// One method of the service: its wire name, how its params become a typed request, what it does, and how
/// its typed response goes on the wire. `MethodTable` lists every method once; dispatch, `initialize`'s
/// method list, callResource routes and tool listings all read that table, so a method cannot be half-registered.
/// The CLI calls `respond` with a request it builds from flags and prints the typed response.
public protocol ServiceMethod: Sendable {
    associatedtype Request: Sendable
    associatedtype Response: Sendable
    /// The JSON-RPC method name.
    static var name: String { get }
    /// One line for listings (initialize, tools).
    static var summary: String { get }
    /// The callResource route that reaches it (POST, params as the JSON body), if any.
    static var resourcePath: String? { get }
    /// Whether answers may be served from the result cache (keyed by the request's sources).
    static var cacheable: Bool { get }
    /// Only registered when the server runs with test methods.
    static var testOnly: Bool { get }
    static func request(from params: Params, in service: ProfileService) throws(RPCError) -> Request
    static func respond(to request: Request, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> Response
    static func json(_ response: Response) -> JSONValue
}

extension ServiceMethod {
    public static var resourcePath: String? { nil }
    public static var cacheable: Bool { false }
    public static var testOnly: Bool { false }
}

/// A request that reads profiles: its sources key the result cache.
public protocol SourcedRequest: Sendable {
    var sources: [any ProfileSource] { get }
}

/// Every method of the service, once.
public enum MethodTable {
    public static let all: [any ServiceMethod.Type] = [
        InitializeMethod.self, ShutdownMethod.self,
        CheckHealthMethod.self, CallResourceMethod.self, QueryDataMethod.self,
        InfoMethod.self, SampleTypesMethod.self, TopMethod.self, FlamegraphMethod.self, DiffMethod.self, HotPathsMethod.self,
        ExplainMethod.self, ExplainDiffMethod.self, FollowUpMethod.self,
        PyroscopeProfileTypesMethod.self, PyroscopeLabelNamesMethod.self, PyroscopeLabelValuesMethod.self, PyroscopeSeriesMethod.self,
        DebugSleepMethod.self, DebugFailMethod.self,
    ]

    /// Notifications the JSON-RPC server itself handles (not dispatched to the service).
    public static let serverNotifications = ["exit", "$/cancelRequest"]
}

/// The service as a JSON-RPC handler: looks the method up in the table, reads its params into the typed
/// request, answers from the cache where allowed, and writes the typed response.
public struct ServiceHandler: RPCHandler {
    public let service: ProfileService
    let methods: [String: any ServiceMethod.Type]

    public init(service: ProfileService) {
        self.service = service
        var methods: [String: any ServiceMethod.Type] = [:]
        for m in service.registeredMethods { methods[m.name] = m }
        self.methods = methods
    }

    public func handle(_ method: String, _ params: JSONValue?, _ context: RequestContext) async throws(RPCError) -> JSONValue {
        guard let m = methods[method] else { throw .methodNotFound(method) }
        return try await service.withMemoryReservation { () async throws(RPCError) -> JSONValue in
            try await Self.invoke(m, Params(params), service: service, context: context)
        }
    }

    /// Runs a method from JSON params to a JSON result (used by dispatch and callResource).
    static func invoke<M: ServiceMethod>(_ m: M.Type, _ params: Params, service: ProfileService, context: RequestContext?) async throws(RPCError) -> JSONValue {
        let request = try M.request(from: params, in: service)
        let wantsProgress = M.cacheable ? (try params.bool("progress") ?? false) : false
        if wantsProgress { await context?.progress(["stage": "started", "method": .string(M.name)]) }
        let result: JSONValue
        // With the cache off (`--cache-bytes 0`) no key is made: it would hash every inline profile for nothing.
        if M.cacheable, service.cache.maxBytes > 0, let sourced = request as? any SourcedRequest {
            let key = ResultCache.key(method: M.name, params: params, sources: sourced.sources)
            result = try await service.cache.value(key) { () async throws(RPCError) -> JSONValue in
                M.json(try await M.respond(to: request, in: service, context: context))
            }
        } else {
            result = M.json(try await M.respond(to: request, in: service, context: context))
        }
        if wantsProgress { await context?.progress(["stage": "done", "method": .string(M.name)]) }
        return result
    }
}

/// Runs CPU-bound work on a thread of its own, so that a long decode never holds a thread of the
/// cooperative pool that fast requests need. A cancelled request answers at once, and the work sees its
/// `CancellationFlag` set (`WorkCancellation`): its long loops stop at their next check.
public func offload<T: Sendable>(_ work: @escaping @Sendable () throws(RPCError) -> T) async throws(RPCError) -> T {
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
