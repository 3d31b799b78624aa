/// How requests are encoded. Connect answers in the request's codec.
public enum PyroscopeCodec: String, Sendable, CaseIterable {
    /// `application/proto`: binary protobuf, the pprof arrives as bytes (the default).
    case binary
    /// `application/json`: protojson; a pprof arrives as JSON and is encoded back to protobuf here.
    case json
}

extension RetryPolicy {
    /// One attempt, no retry.
    static let none = RetryPolicy(maxAttempts: 1)

    /// The wait before retry `attempt` (1-based): a server's Retry-After in full when it gives one, else
    /// exponential backoff with jitter (the gateway's rule; its own `delay` is internal to LLMGateway).
    func backoff(attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return retryAfter }
        let exponential = baseDelay * (1 << min(attempt - 1, 16))
        return min(exponential, maxDelay) * Double.random(in: 0.5 ... 1.0)
    }
}

/// Everything a `PyroscopeClient` needs. Secrets are `Secret`s; the description shows none of them.
public struct PyroscopeConfig: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    public var endpoint: PyroscopeEndpoint
    public var auth: PyroscopeAuth
    public var codec: PyroscopeCodec
    public var connectTimeout: Duration
    /// Bounds a whole call: retries, waits and the fallback request included.
    public var requestTimeout: Duration
    /// Connection failures, 429 and 5xx (not 501) are retried; Retry-After is waited in full or not at all.
    public var retry: RetryPolicy
    /// The largest response accepted, after gzip is undone (default 256 MiB).
    public var maxResponseBytes: Int

    public static let defaultMaxResponseBytes = 256 << 20

    /// `retry` nil: `RetryPolicy()`. A URL with userinfo (`https://user:pass@host`) gives basic auth when `auth`
    /// has no credential; the URL is kept without it either way.
    public init(
        endpoint: PyroscopeEndpoint, auth: PyroscopeAuth = .none, codec: PyroscopeCodec = .binary,
        connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(60),
        retry: RetryPolicy? = nil, maxResponseBytes: Int = PyroscopeConfig.defaultMaxResponseBytes
    ) {
        var auth = auth
        if auth.credential == .none, let info = endpoint.userinfo, !info.user.isEmpty {
            auth.credential = .basic(user: info.user, password: Secret(info.password))
        }
        self.endpoint = endpoint.normalized
        self.auth = auth
        self.codec = codec
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.retry = retry ?? RetryPolicy()
        self.maxResponseBytes = max(1, maxResponseBytes)
    }

    public var description: String { "Pyroscope at \(endpoint) (auth: \(auth), codec: \(codec.rawValue))" }
    public var customMirror: Mirror { Mirror(self, children: ["config": description]) }

    /// Every form in which a configured secret could appear in a text (the password or token, the encoded basic
    /// credential), for a recorder's scrub list. Never print them.
    public var secretForms: [String] { auth.secretForms }

    /// Replaces every configured secret, in any form it could come back in, wherever it appears in a text from
    /// outside (an error body that echoes the Authorization header).
    public func redact(_ text: String) -> String {
        var out = text
        // Longest first, so a secret inside another form is not cut in two.
        for secret in auth.secretForms.sorted(by: { $0.count > $1.count }) { out = out.replacingAll(secret, with: "<redacted>") }
        return out
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

// MARK: - Configuration sources

extension PyroscopeConfig {
    /// Environment variables (CLI):
    /// - `FLAMEGRAPH_AI_PYROSCOPE_URL`: Pyroscope's URL; with `FLAMEGRAPH_AI_PYROSCOPE_DATASOURCE_UID`, Grafana's URL.
    /// - `FLAMEGRAPH_AI_PYROSCOPE_DATASOURCE_UID`: the Pyroscope data source's uid, to go through Grafana's proxy.
    /// - `FLAMEGRAPH_AI_PYROSCOPE_TENANT`: sent as `X-Scope-OrgID`.
    /// - `FLAMEGRAPH_AI_PYROSCOPE_USERNAME` + `FLAMEGRAPH_AI_PYROSCOPE_PASSWORD` (or `…_TOKEN` as the password):
    ///   basic auth (Grafana Cloud: stack id + access-policy token).
    /// - `FLAMEGRAPH_AI_PYROSCOPE_TOKEN` alone: `Authorization: Bearer` (a Grafana service-account token).
    /// nil when no URL is set; a password without a user name is an error.
    public static func fromEnvironment(_ env: [String: String]) throws(PyroscopeError) -> PyroscopeConfig? {
        func value(_ key: String) -> String? {
            env["FLAMEGRAPH_AI_PYROSCOPE_" + key].map { $0.trimmingWhitespace() }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let url = value("URL") else { return nil }
        let endpoint: PyroscopeEndpoint = value("DATASOURCE_UID").map { .grafana(url: url, datasourceUID: $0) } ?? .direct(url: url)
        let credential = try credential(
            user: value("USERNAME"), password: value("PASSWORD"), token: value("TOKEN"),
            names: ("FLAMEGRAPH_AI_PYROSCOPE_USERNAME", "FLAMEGRAPH_AI_PYROSCOPE_PASSWORD"))
        let config = PyroscopeConfig(endpoint: endpoint, auth: PyroscopeAuth(credential: credential, tenant: value("TENANT")))
        try config.validate()
        return config
    }

    /// Grafana app instance settings (the plugin's `jsonData` and `decryptedSecureJsonData`):
    /// - `jsonData.pyroscopeDatasourceUid` + `jsonData.grafanaURL`: through Grafana's data source proxy, with
    ///   `secure.pyroscopeToken` (a service-account token) as Bearer.
    /// - otherwise `jsonData.pyroscopeURL`: Pyroscope directly; `jsonData.pyroscopeUser` + `secure.pyroscopePassword`
    ///   (or `secure.pyroscopeToken` as the password) for basic auth, `secure.pyroscopeToken` alone for Bearer.
    /// - `jsonData.pyroscopeTenant`: `X-Scope-OrgID`.
    /// nil when neither a data source uid nor a URL is set; a uid without `grafanaURL` is an error.
    public static func fromSettings(jsonData: [String: String], secure: [String: String]) throws(PyroscopeError) -> PyroscopeConfig? {
        func value(_ d: [String: String], _ key: String) -> String? {
            d[key].map { $0.trimmingWhitespace() }.flatMap { $0.isEmpty ? nil : $0 }
        }
        let tenant = value(jsonData, "pyroscopeTenant")
        let config: PyroscopeConfig
        if let uid = value(jsonData, "pyroscopeDatasourceUid") {
            guard let grafana = value(jsonData, "grafanaURL") else {
                throw .misconfigured("pyroscopeDatasourceUid is set but grafanaURL is not")
            }
            let auth = PyroscopeAuth(credential: value(secure, "pyroscopeToken").map { .bearer(Secret($0)) } ?? .none, tenant: tenant)
            config = PyroscopeConfig(endpoint: .grafana(url: grafana, datasourceUID: uid), auth: auth)
        } else if let url = value(jsonData, "pyroscopeURL") {
            let credential = try credential(
                user: value(jsonData, "pyroscopeUser"), password: value(secure, "pyroscopePassword"), token: value(secure, "pyroscopeToken"),
                names: ("pyroscopeUser", "pyroscopePassword"))
            config = PyroscopeConfig(endpoint: .direct(url: url), auth: PyroscopeAuth(credential: credential, tenant: tenant))
        } else {
            return nil
        }
        try config.validate()
        return config
    }

    private static func credential(user: String?, password: String?, token: String?, names: (user: String, password: String)) throws(PyroscopeError)
        -> PyroscopeCredential
    {
        if let user { return .basic(user: user, password: Secret(password ?? token ?? "")) }
        if password != nil { throw .misconfigured("\(names.password) is set without \(names.user)") }
        if let token { return .bearer(Secret(token)) }
        return .none
    }

    /// Checks what can be checked without a request: an http(s) URL with a host.
    public func validate() throws(PyroscopeError) {
        let base = endpoint.baseURL
        let lower = base.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw .misconfigured("the URL must start with http:// or https://")
        }
        guard base.split(separator: "/").count >= 2 else { throw .misconfigured("the URL has no host") }
        if case .grafana(_, let uid) = endpoint, uid.isEmpty { throw .misconfigured("the data source uid is empty") }
    }
}
