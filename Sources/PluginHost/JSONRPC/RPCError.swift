import FlameDiff
import LLMGateway
import ProtoPprof

/// A JSON-RPC error object. Domain errors (-32000...-32099) carry `data: {kind, detail}`.
struct RPCError: Error, Sendable, Equatable {
    var code: Int
    var message: String
    var data: JSONValue?

    static let parseErrorCode = -32700
    static let invalidRequestCode = -32600
    static let methodNotFoundCode = -32601
    static let invalidParamsCode = -32602
    static let internalErrorCode = -32603
    static let requestCancelledCode = -32800

    // Domain errors.
    static let badProfileCode = -32001
    static let limitExceededCode = -32002
    static let gatewayUnavailableCode = -32003
    static let overloadedCode = -32004
    static let badRequestCode = -32005

    static func parseError(_ detail: String) -> RPCError {
        RPCError(code: parseErrorCode, message: "parse error: \(detail)")
    }

    static func invalidRequest(_ detail: String) -> RPCError {
        RPCError(code: invalidRequestCode, message: "invalid request: \(detail)")
    }

    static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: methodNotFoundCode, message: "method not found: \(method)")
    }

    /// `parameter` names the offending parameter; the message never repeats its value (it may be a secret).
    static func invalidParams(_ parameter: String, _ problem: String) -> RPCError {
        RPCError(
            code: invalidParamsCode, message: "invalid params: '\(parameter)' \(problem)",
            data: ["parameter": .string(parameter)])
    }

    static func internalError(_ detail: String) -> RPCError {
        RPCError(code: internalErrorCode, message: "internal error: \(detail)")
    }

    static let cancelled = RPCError(code: requestCancelledCode, message: "request cancelled")

    static func domain(_ code: Int, kind: String, _ message: String) -> RPCError {
        RPCError(code: code, message: message, data: ["kind": .string(kind), "detail": .string(message)])
    }

    static func overloaded(limit: Int) -> RPCError {
        domain(overloadedCode, kind: "overloaded", "server overloaded: \(limit) requests already in flight; retry later")
    }

    static func badProfile(_ error: PprofError, parameter: String) -> RPCError {
        let code = error.kind == "limit_exceeded" ? limitExceededCode : badProfileCode
        return domain(code, kind: error.kind, "\(parameter): \(error)")
    }

    static func badRequest(_ error: FlameDiffError) -> RPCError {
        if error == .cancelled { return .cancelled }
        return domain(badRequestCode, kind: "bad_request", error.description)
    }

    /// A gateway failure as a domain error: -32003 `gateway_unavailable` with the typed reason as detail
    /// (gateway errors never carry a key).
    static func gateway(_ error: GatewayError) -> RPCError {
        let reason: String
        switch error {
        case .notConfigured: reason = "not_configured"
        case .unreachable: reason = "unreachable"
        case .timeout: reason = "timeout"
        case .unauthorized: reason = "unauthorized"
        case .rateLimited: reason = "rate_limited"
        case .providerError: reason = "provider_error"
        case .malformedResponse: reason = "malformed_response"
        case .misconfigured: reason = "misconfigured"
        case .cancelled: return .cancelled
        }
        return RPCError(
            code: gatewayUnavailableCode, message: error.description,
            data: ["kind": "gateway_unavailable", "reason": .string(reason), "detail": .string(error.description)])
    }

    var json: JSONValue {
        var o: [String: JSONValue] = ["code": .int(Int64(code)), "message": .string(message)]
        if let data { o["data"] = data }
        return .object(o)
    }
}
