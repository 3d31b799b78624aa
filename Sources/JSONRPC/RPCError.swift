import JSONCore

/// A JSON-RPC error object. Domain errors (-32000...-32099) carry `data: {kind, detail}`; the codes below
/// are this project's, the helpers that make them from its modules' errors live with the service.
public struct RPCError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603
    public static let requestCancelledCode = -32800

    // Domain errors.
    public static let badProfileCode = -32001
    public static let limitExceededCode = -32002
    public static let gatewayUnavailableCode = -32003
    public static let overloadedCode = -32004
    public static let badRequestCode = -32005

    public static func parseError(_ detail: String) -> RPCError {
        RPCError(code: parseErrorCode, message: "parse error: \(detail)")
    }

    public static func invalidRequest(_ detail: String) -> RPCError {
        RPCError(code: invalidRequestCode, message: "invalid request: \(detail)")
    }

    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: methodNotFoundCode, message: "method not found: \(method)")
    }

    /// `parameter` names the offending parameter; the message never repeats its value (it may be a secret).
    public static func invalidParams(_ parameter: String, _ problem: String) -> RPCError {
        RPCError(
            code: invalidParamsCode, message: "invalid params: '\(parameter)' \(problem)",
            data: ["parameter": .string(parameter)])
    }

    public static func internalError(_ detail: String) -> RPCError {
        RPCError(code: internalErrorCode, message: "internal error: \(detail)")
    }

    public static let cancelled = RPCError(code: requestCancelledCode, message: "request cancelled")

    public static func domain(_ code: Int, kind: String, _ message: String) -> RPCError {
        RPCError(code: code, message: message, data: ["kind": .string(kind), "detail": .string(message)])
    }

    public static func overloaded(limit: Int) -> RPCError {
        domain(overloadedCode, kind: "overloaded", "server overloaded: \(limit) requests already in flight; retry later")
    }

    /// The process's memory budget had no room for a request, even after a brief wait: -32004 `overloaded`,
    /// with `retryAfterMs` (a hint), the bytes it needed and the budget.
    public static func overloaded(neededBytes: Int, budgetBytes: Int, retryAfterMs: Int = 1000) -> RPCError {
        let message =
            "server overloaded: the memory budget (\(budgetBytes) bytes, --max-memory) has no room for this request now; "
            + "retry in \(retryAfterMs) ms"
        return RPCError(
            code: overloadedCode, message: message,
            data: [
                "kind": "overloaded", "detail": .string(message), "retryAfterMs": .int(Int64(retryAfterMs)),
                "neededBytes": .int(Int64(neededBytes)), "budgetBytes": .int(Int64(budgetBytes)),
            ])
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["code": .int(Int64(code)), "message": .string(message)]
        if let data { o["data"] = data }
        return .object(o)
    }
}
