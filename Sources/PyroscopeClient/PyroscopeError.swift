/// Why a Pyroscope call failed, each case something a user can act on. No case carries a credential, a header or
/// a URL's userinfo: server messages are redacted of every configured secret before they are kept.
public enum PyroscopeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP 401 or 403 (Connect `unauthenticated`, `permission_denied`): the credential is missing, wrong, or
    /// not allowed to read profiles.
    case unauthorized(String)
    /// A multi-tenant server wants `X-Scope-OrgID` (Pyroscope's "no org id"): set a tenant.
    case tenantMissing
    /// The profile type is malformed, or the server holds no such type in the time range; `known` lists the
    /// types it has there (empty when they could not be listed).
    case unknownProfileType(id: String, known: [String])
    /// The query matched no samples: the type exists, the selector or time range holds nothing.
    case emptyResult(profileTypeID: String, labelSelector: String)
    /// HTTP 404 or Connect `not_found`: no Pyroscope query API at this URL, or no such Grafana data source.
    case notFound(String)
    /// No connection: DNS, refused, reset, or closed before an answer.
    case unreachable(String)
    /// The call's deadline passed.
    case timeout
    /// The response is larger than the configured cap (bytes).
    case tooLarge(limit: Int)
    /// The answer is not the message it should be (or not the query API at all, e.g. an HTML login page).
    case malformedResponse(String)
    /// The server rejected the query (Connect `invalid_argument`): a selector that does not parse, a bad range.
    case invalidQuery(String)
    /// Another error status, with the server's message.
    case server(status: Int, message: String)
    /// Configuration that cannot work: no URL, a URL that is not http(s), TLS failures, inconsistent settings.
    case misconfigured(String)
    case cancelled

    public var description: String {
        switch self {
        case .unauthorized(let why): return "Pyroscope refused the credential: \(why)"
        case .tenantMissing:
            return "Pyroscope is multi-tenant and needs a tenant (X-Scope-OrgID): set FLAMEGRAPH_AI_PYROSCOPE_TENANT or the data source's tenant"
        case .unknownProfileType(let id, let known):
            let list = known.isEmpty ? "" : "; known types: " + known.joined(separator: ", ")
            return "unknown profile type '\(id)'\(list)"
        case .emptyResult(let type, let selector):
            return "no samples of \(type) match \(selector.isEmpty ? "{}" : selector) in the time range"
        case .notFound(let why): return "not found: \(why)"
        case .unreachable(let why): return "Pyroscope unreachable: \(why)"
        case .timeout: return "Pyroscope timed out"
        case .tooLarge(let limit): return "Pyroscope's response is larger than \(limit) bytes (raise the response cap or narrow the query)"
        case .malformedResponse(let why): return "malformed Pyroscope response: \(why)"
        case .invalidQuery(let why): return "invalid query: \(why)"
        case .server(let status, let message): return "Pyroscope error (HTTP \(status)): \(message)"
        case .misconfigured(let why): return "Pyroscope misconfigured: \(why)"
        case .cancelled: return "cancelled"
        }
    }

    /// A short stable name for each case (for JSON-RPC error data and logs).
    public var kind: String {
        switch self {
        case .unauthorized: return "unauthorized"
        case .tenantMissing: return "tenantMissing"
        case .unknownProfileType: return "unknownProfileType"
        case .emptyResult: return "emptyResult"
        case .notFound: return "notFound"
        case .unreachable: return "unreachable"
        case .timeout: return "timeout"
        case .tooLarge: return "tooLarge"
        case .malformedResponse: return "malformedResponse"
        case .invalidQuery: return "invalidQuery"
        case .server: return "server"
        case .misconfigured: return "misconfigured"
        case .cancelled: return "cancelled"
        }
    }

    /// Whether another attempt may help: connection failures, 429 and 5xx other than 501.
    var isRetryable: Bool {
        switch self {
        case .unreachable: return true
        case .server(let status, _): return status == 429 || (status >= 500 && status != 501)
        default: return false
        }
    }
}
