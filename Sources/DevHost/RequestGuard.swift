import FlyingFox
import Foundation

/// The host's rules for who may talk to it (it is a web server on someone's machine, reachable by every web
/// page the browser opens and every local program):
///
/// 1. `Host` must be `localhost`, `127.0.0.1` or `[::1]` (or a name given with `--listen`/`--allowed-host`) with
///    the host's port: a DNS-rebinding page (`http://evil.test:PORT` resolved to 127.0.0.1) sends its own name and
///    is refused.
/// 2. A token made at start: given once in the printed URL (`?token=`), then kept in an HttpOnly, SameSite=Strict
///    cookie named after the port. Every request needs it (the page, its files, the API); `--no-token` turns this
///    off for scripts.
/// 3. POST (every costly or state-changing route) needs `Origin` equal to the page's own (`http://` + Host), and
///    `Sec-Fetch-Site: same-origin` when the browser sends that header. No CORS headers are ever sent, so no other
///    origin can read an answer.
public struct RequestGuard: Sendable {
    public let port: Int
    /// Lowercased `name:port` values accepted in `Host`.
    public let allowedHosts: Set<String>
    public let token: String?
    public var cookieName: String { "flamegraph_ai_token_\(port)" }

    public init(port: Int, extraHostNames: [String], token: String?) {
        self.port = port
        var hosts: Set<String> = []
        for name in ["localhost", "127.0.0.1", "[::1]"] + extraHostNames {
            var n = name.lowercased()
            if n.contains(":") && !n.hasPrefix("[") { n = "[\(n)]" }  // an IPv6 literal
            hosts.insert("\(n):\(port)")
        }
        self.allowedHosts = hosts
        self.token = token
    }

    /// Why a request is refused (403), or nil.
    public func refuseHost(_ request: HTTPRequest) -> String? {
        guard let host = request.headers[.host]?.lowercased(), !host.isEmpty else {
            return "the request has no Host header"
        }
        if allowedHosts.contains(host) { return nil }
        return "Host is not one this server answers to (localhost, 127.0.0.1 or [::1] on port \(port); see --allowed-host)"
    }

    /// The token from the cookie, compared in constant time. True when tokens are off.
    public func hasTokenCookie(_ request: HTTPRequest) -> Bool {
        guard let token else { return true }
        for header in request.headers.values(for: .cookie) {
            for part in header.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2, kv[0] == cookieName, Self.constantTimeEqual(kv[1], token) { return true }
            }
        }
        return false
    }

    /// True when the URL's `?token=` is the token.
    public func hasTokenQuery(_ request: HTTPRequest) -> Bool {
        guard let token else { return false }
        return request.query.contains { $0.name == "token" && Self.constantTimeEqual($0.value, token) }
    }

    /// The cookie that keeps the token after the first visit.
    public var setCookie: String? {
        token.map { "\(cookieName)=\($0); Path=/; HttpOnly; SameSite=Strict" }
    }

    /// Why a POST is refused (403), or nil: it must come from the page itself.
    public func refuseCrossSite(_ request: HTTPRequest) -> String? {
        let host = request.headers[.host]?.lowercased() ?? ""
        guard let origin = request.headers[HTTPHeader("Origin")] else {
            return "POST needs the page's own Origin header"
        }
        guard origin.lowercased() == "http://" + host else {
            return "cross-site request refused: Origin is not this page's"
        }
        if let site = request.headers[HTTPHeader("Sec-Fetch-Site")], site.lowercased() != "same-origin" {
            return "cross-site request refused: Sec-Fetch-Site is \(site == "same-site" ? "same-site" : "not same-origin")"
        }
        return nil
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    /// A token: 32 random bytes from the system's generator, as hex.
    public static func makeToken() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", rng.next() as UInt64) }.joined()
    }

    /// Headers on every answer: no sniffing, no framing, the page's CSP, no referrer, nothing cached.
    public static let securityHeaders: [(String, String)] = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", csp),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Cache-Control", "no-store"),
    ]

    public static let csp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
}
