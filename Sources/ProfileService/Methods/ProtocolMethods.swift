import FlameDiff
import JSONCore
import JSONRPC
import ProtoPprof

/// `initialize`: who we are, every method of the table, the limits, and the profile inputs accepted.
public enum InitializeMethod: ServiceMethod {
    public static let name = "initialize"
    public static let summary = "Server name, version, protocol version, methods, limits and accepted profile inputs."

    /// The profile inputs depend on the request's app settings (a Pyroscope configured there).
    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> SourceParser {
        service.sources(for: params)
    }

    public static func respond(to sources: SourceParser, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> JSONValue {
        let c = service.config
        let names = service.registeredMethods.map { $0.name } + MethodTable.serverNotifications
        return [
            "name": "flamegraph-ai", "version": .string(ServiceInfo.version),
            "protocolVersion": .string(ProfileService.protocolVersion),
            "methods": .array(names.filter { !$0.hasPrefix("debug.") }.map(JSONValue.string)),
            "limits": [
                "maxLineBytes": .int(Int64(c.transport.maxLineBytes)),
                "maxConcurrentRequests": .int(Int64(c.transport.maxConcurrent)),
                "maxInflatedBytes": .int(Int64(c.limits.maxInflatedBytes)),
                "maxDecodeMemoryBytes": .int(Int64(c.limits.maxDecodeMemoryBytes)),
                "maxFlameGraphNodes": .int(Int64(FlameGraph.maxMaxNodes)),
                "shutdownGraceSeconds": .double(c.transport.graceSeconds),
                "resultCacheBytes": .int(Int64(c.cacheBytes)),
            ],
            "profileInput": .array(sources.kinds.map(JSONValue.string)),
            "profileEncodings": .array(SourceParser.encodings.map(JSONValue.string)),
        ]
    }

    public static func json(_ r: JSONValue) -> JSONValue { r }
}

/// The request of a method that takes no parameters.
public struct NoParams: Sendable {
    public init() {}
}

/// The version the executable reports.
public enum ServiceInfo {
    public static let version = "0.1.0"
}

/// `shutdown` (LSP): the server stops admitting requests after it; `exit` then ends the process.
public enum ShutdownMethod: ServiceMethod {
    public static let name = "shutdown"
    public static let summary = "Stop admitting requests; `exit` ends the process."
    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> NoParams { NoParams() }
    public static func respond(to request: NoParams, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> JSONValue { .null }
    public static func json(_ r: JSONValue) -> JSONValue { r }
}

/// Test-only: a request that takes a known time without using a CPU.
public enum DebugSleepMethod: ServiceMethod {
    public static let name = "debug.sleep"
    public static let summary = "Test only: sleep for ms milliseconds."
    public static let testOnly = true
    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> Int64 {
        try params.int("ms", in: 0 ... 60_000) ?? 100
    }
    public static func respond(to ms: Int64, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> Int64 {
        do {
            try await Task.sleep(for: .milliseconds(ms))
        } catch {
            throw .cancelled
        }
        return ms
    }
    public static func json(_ ms: Int64) -> JSONValue { ["slept": .int(ms)] }
}

/// Test-only: the answer a handler bug gets.
public enum DebugFailMethod: ServiceMethod {
    public static let name = "debug.fail"
    public static let summary = "Test only: fail with an internal error."
    public static let testOnly = true
    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> NoParams { NoParams() }
    public static func respond(to request: NoParams, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> JSONValue {
        throw .internalError("debug.fail was called")
    }
    public static func json(_ r: JSONValue) -> JSONValue { r }
}
