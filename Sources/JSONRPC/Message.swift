import JSONCore

/// A JSON-RPC request id: a string, a number or null.
public enum RequestID: Hashable, Sendable, CustomStringConvertible {
    case string(String)
    case number(Int64)
    case fractional(Double)
    case null

    public init?(_ value: JSONValue) {
        switch value {
        case .string(let s): self = .string(s)
        case .int(let i): self = .number(i)
        case .double(let d): self = .fractional(d)
        case .null: self = .null
        default: return nil
        }
    }

    public var json: JSONValue {
        switch self {
        case .string(let s): return .string(s)
        case .number(let i): return .int(i)
        case .fractional(let d): return .double(d)
        case .null: return .null
        }
    }

    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .number(let i): return String(i)
        case .fractional(let d): return String(d)
        case .null: return "null"
        }
    }
}

/// One element of an incoming line, classified.
public enum IncomingMessage: Sendable {
    /// A request (with id) or a notification (id nil).
    case call(method: String, params: JSONValue?, id: RequestID?)
    /// Not a valid request; the id is kept when it could be read, so the error reaches its caller.
    case invalid(RPCError, id: RequestID)

    public init(_ value: JSONValue) {
        guard case .object(let o) = value else {
            self = .invalid(.invalidRequest("a request must be a JSON object"), id: .null)
            return
        }
        var id: RequestID? = nil
        if let rawID = o["id"] {
            guard let parsed = RequestID(rawID) else {
                self = .invalid(.invalidRequest("'id' must be a string, a number or null"), id: .null)
                return
            }
            id = parsed
        }
        guard o["jsonrpc"] == .string("2.0") else {
            self = .invalid(.invalidRequest("'jsonrpc' must be \"2.0\""), id: id ?? .null)
            return
        }
        guard case .string(let method)? = o["method"] else {
            self = .invalid(.invalidRequest("'method' must be a string"), id: id ?? .null)
            return
        }
        if let params = o["params"] {
            switch params {
            case .object, .array: break
            default:
                self = .invalid(.invalidRequest("'params' must be an object or an array"), id: id ?? .null)
                return
            }
        }
        self = .call(method: method, params: o["params"], id: id)
    }
}

public enum Responses {
    public static func result(_ result: JSONValue, id: RequestID) -> JSONValue {
        ["jsonrpc": "2.0", "id": id.json, "result": result]
    }

    public static func error(_ error: RPCError, id: RequestID) -> JSONValue {
        ["jsonrpc": "2.0", "id": id.json, "error": error.json]
    }

    public static func notification(_ method: String, params: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "method": .string(method), "params": params]
    }
}
