import FlameDiff
import JSONCore
import JSONRPC
import LLMGateway
import ProtoPprof

/// The service's own errors as JSON-RPC domain errors (-32001...-32005, `data: {kind, detail}`).
extension RPCError {
    /// A profile that could not be decoded: -32001 `bad_profile` (or -32002 when a limit was hit).
    public static func badProfile(_ error: PprofError, parameter: String) -> RPCError {
        let code = error.kind == "limit_exceeded" ? limitExceededCode : badProfileCode
        return domain(code, kind: error.kind, "\(parameter): \(error)")
    }

    /// A valid profile that cannot answer the request (unknown sample type, bad filter): -32005.
    public static func badRequest(_ error: FlameDiffError) -> RPCError {
        if error == .cancelled { return .cancelled }
        return domain(badRequestCode, kind: "bad_request", error.description)
    }

    /// A gateway failure as a domain error: -32003 `gateway_unavailable` with the typed reason as detail
    /// (gateway errors never carry a key).
    public static func gateway(_ error: GatewayError) -> RPCError {
        if error == .cancelled { return .cancelled }
        return domain(gatewayUnavailableCode, kind: "gateway_unavailable", error.description)
            .with(["reason": .string(GatewayError.reasonCode(error))])
    }

    func with(_ extra: [String: JSONValue]) -> RPCError {
        var copy = self
        if case .object(var o)? = data {
            o.merge(extra) { _, new in new }
            copy.data = .object(o)
        }
        return copy
    }
}

extension GatewayError {
    /// The short reason a fallback reports (`unreachable`, `timeout`, …).
    static func reasonCode(_ error: GatewayError) -> String {
        switch error {
        case .notConfigured: return "not_configured"
        case .unreachable: return "unreachable"
        case .timeout: return "timeout"
        case .unauthorized: return "unauthorized"
        case .rateLimited: return "rate_limited"
        case .providerError: return "provider_error"
        case .malformedResponse: return "malformed_response"
        case .misconfigured: return "misconfigured"
        case .cancelled: return "cancelled"
        }
    }
}
