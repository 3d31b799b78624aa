/// Where the query API is: Pyroscope itself, or a Grafana data source of type Pyroscope reached through Grafana's
/// data source proxy (what profilecli and mcp-grafana do).
public enum PyroscopeEndpoint: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// Pyroscope's base URL (`http://pyroscope:4040`, Grafana Cloud's `https://profiles-prod-…grafana.net`).
    case direct(url: String)
    /// Grafana's URL and the Pyroscope data source's uid: calls go to
    /// `<grafana>/api/datasources/proxy/uid/<uid>/querier.v1.QuerierService/<Method>`.
    case grafana(url: String, datasourceUID: String)

    /// The base every method path is appended to, without a trailing slash or userinfo.
    public var baseURL: String {
        switch self {
        case .direct(let url): return URLParts(url).withoutUserinfo
        case .grafana(let url, let uid):
            return URLParts(url).withoutUserinfo + "/api/datasources/proxy/uid/" + Self.escapePathSegment(uid)
        }
    }

    /// The URL of one QuerierService method.
    public func methodURL(_ method: String) -> String { baseURL + "/querier.v1.QuerierService/" + method }

    /// The base URL, safe to show (userinfo, query and fragment left out).
    public var description: String { baseURL }

    /// `dump` shows the base URL without userinfo.
    public var customMirror: Mirror { Mirror(self, children: ["baseURL": baseURL]) }

    /// The same endpoint with userinfo, query and fragment dropped from its URL.
    var normalized: PyroscopeEndpoint {
        switch self {
        case .direct: return .direct(url: baseURL)
        case .grafana(let url, let uid): return .grafana(url: URLParts(url).withoutUserinfo, datasourceUID: uid)
        }
    }

    /// Userinfo written into the URL (`https://user:pass@host`), to be used as basic auth and never shown.
    var userinfo: (user: String, password: String)? { URLParts(rawURL).userinfo }

    private var rawURL: String {
        switch self {
        case .direct(let url), .grafana(let url, _): return url
        }
    }

    /// A data source uid as one path segment: unreserved characters stay, the rest is percent-encoded.
    static func escapePathSegment(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "A") ... UInt8(ascii: "Z"),
                UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return out
    }
}

/// A URL split just enough to drop its userinfo, query and fragment (no Foundation: the rules are few).
struct URLParts {
    var scheme: String = ""
    var userinfo: (user: String, password: String)?
    var hostAndPath: String = ""

    init(_ url: String) {
        var rest = Substring(url.trimmingWhitespace())
        if let range = rest.range(of: "://") {
            scheme = String(rest[..<range.upperBound])
            rest = rest[range.upperBound...]
        }
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") {
            let info = rest[..<at]
            let user = info.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            userinfo = (Self.percentDecode(String(user[0])), user.count > 1 ? Self.percentDecode(String(user[1])) : "")
            rest = rest[rest.index(after: at)...]
        }
        while rest.hasSuffix("/") { rest.removeLast() }
        hostAndPath = String(rest)
    }

    var withoutUserinfo: String { scheme + hostAndPath }

    static func percentDecode(_ s: String) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// The credential for the query API.
public enum PyroscopeCredential: Sendable, Equatable {
    case none
    /// Basic auth. Grafana Cloud: user = the stack's numeric id, password = an access-policy token.
    case basic(user: String, password: Secret)
    /// `Authorization: Bearer <token>`: a Grafana service-account token (through the data source proxy), or a
    /// token an auth proxy in front of Pyroscope expects.
    case bearer(Secret)
}

/// A credential and, for multi-tenant servers, the tenant sent as `X-Scope-OrgID`.
public struct PyroscopeAuth: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var credential: PyroscopeCredential
    public var tenant: String?

    public init(credential: PyroscopeCredential = .none, tenant: String? = nil) {
        self.credential = credential
        self.tenant = tenant.flatMap { $0.isEmpty ? nil : $0 }
    }

    public static let none = PyroscopeAuth()
    public static func basic(user: String, password: Secret, tenant: String? = nil) -> PyroscopeAuth {
        PyroscopeAuth(credential: .basic(user: user, password: password), tenant: tenant)
    }
    public static func bearer(_ token: Secret, tenant: String? = nil) -> PyroscopeAuth {
        PyroscopeAuth(credential: .bearer(token), tenant: tenant)
    }

    /// The request headers: Authorization and X-Scope-OrgID.
    var headers: [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        switch credential {
        case .none: break
        case .basic(let user, let password):
            out.append(("Authorization", "Basic " + Base64.encode(Array("\(user):\(password.value)".utf8))))
        case .bearer(let token): out.append(("Authorization", "Bearer \(token.value)"))
        }
        if let tenant { out.append(("X-Scope-OrgID", tenant)) }
        return out
    }

    /// Every form in which a secret could come back in a server's text: the password or token itself and the
    /// encoded basic credential. Even a short secret is listed: a mangled message is better than a leaked one.
    var secretForms: [String] {
        switch credential {
        case .none: return []
        case .basic(let user, let password):
            return [password.value, Base64.encode(Array("\(user):\(password.value)".utf8))].filter { !$0.isEmpty }
        case .bearer(let token): return [token.value].filter { !$0.isEmpty }
        }
    }

    public var description: String {
        let tenantText = tenant.map { ", tenant: \($0)" } ?? ""
        switch credential {
        case .none: return "none" + tenantText
        case .basic(let user, _): return "basic(user: \(user), password: <redacted>)" + tenantText
        case .bearer: return "bearer(<redacted>)" + tenantText
        }
    }

    public var debugDescription: String { description }
    /// `dump` shows the redacted text, not the fields.
    public var customMirror: Mirror { Mirror(self, children: ["auth": description]) }
}

enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(table[Int(n >> 18 & 63)])
            out.append(table[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? table[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? table[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
