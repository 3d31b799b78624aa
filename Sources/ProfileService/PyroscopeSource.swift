import Foundation
import JSONCore
import JSONRPC
import ProtoPprof
import PyroscopeClient

/// A merged profile from Pyroscope's query API (`SelectMergeStacktraces` as pprof, or the older
/// `SelectMergeProfile`), directly or through Grafana's data source proxy; over JSON-RPC
/// `{pyroscope: {profileTypeID, labelSelector, from, to, maxNodes?}}`.
///
/// The query holds absolute times: relative ones (`now-1h`) are resolved when the request is read, before any
/// cache key is made. The cache key names the query, the endpoint and the tenant, and a keyed fingerprint of the
/// credential (a per-process hash, never the secret), so that an answer fetched with one credential is never
/// served to a request with another.
public struct PyroscopeSource: ProfileSource {
    public let query: PyroscopeQuery
    public let config: PyroscopeConfig
    /// The request parameter it came from (`profile.pyroscope`), or what the CLI calls it.
    public let parameter: String

    public init(query: PyroscopeQuery, config: PyroscopeConfig, parameter: String = "pyroscope") {
        self.query = query
        self.config = config
        self.parameter = parameter
    }

    public var cacheKey: String? {
        query.cacheKey + "|" + config.endpoint.description + "|tenant=" + (config.auth.tenant ?? "") + "|auth="
            + Self.fingerprint(config.auth.credential)
    }

    public var label: String {
        "\(query.profileTypeID) \(query.labelSelector) from \(Self.timeText(query.start)) to \(Self.timeText(query.end)) (Pyroscope at \(config.endpoint))"
    }

    public var errorLabel: String? { parameter }

    public func bytes(limits: DecodeLimits) async throws(RPCError) -> [UInt8] {
        do {
            return try await PyroscopeClient(config: config).selectMergeProfile(query)
        } catch {
            throw RPCError.pyroscope(error, parameter: parameter, config: config)
        }
    }

    /// The same query over another time range (the other side of a diff).
    public func over(_ range: PyroscopeTimeRange, parameter: String) -> PyroscopeSource {
        PyroscopeSource(query: query.over(range), config: config, parameter: parameter)
    }

    /// A keyed hash of the credential (the hasher's seed is random per process): tells credentials apart in a
    /// cache key without holding or revealing one.
    static func fingerprint(_ credential: PyroscopeCredential) -> String {
        switch credential {
        case .none: return "none"
        case .basic(let user, let password): return "basic-" + contentHash(Array("basic\u{0}\(user)\u{0}\(password.value)".utf8))
        case .bearer(let token): return "bearer-" + contentHash(Array("bearer\u{0}\(token.value)".utf8))
        }
    }

    /// Milliseconds since the epoch as RFC 3339 in UTC (with milliseconds only when there are some).
    public static func timeText(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = ms % 1000 == 0 ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

extension RPCError {
    /// Errors of a data source (Pyroscope): -32006, `data: {kind: PyroscopeError.kind, detail, source, parameter}`.
    public static let dataSourceCode = -32006

    /// A Pyroscope failure as a domain error whose kind is the `PyroscopeError`'s (`unauthorized`, `tenantMissing`,
    /// `unknownProfileType`, `emptyResult`, `unreachable`, `timeout`, …); a response over the cap is -32002. The
    /// text is redacted of every configured secret (the client already keeps none; this holds if that changes).
    public static func pyroscope(_ error: PyroscopeError, parameter: String, config: PyroscopeConfig?) -> RPCError {
        if error == .cancelled { return .cancelled }
        let text = config?.redact(error.description) ?? error.description
        let code = error.kind == "tooLarge" ? limitExceededCode : dataSourceCode
        var extra: [String: JSONValue] = ["source": "pyroscope", "parameter": .string(parameter)]
        if case .unknownProfileType(_, let known) = error, !known.isEmpty {
            extra["knownProfileTypes"] = .array(known.map(JSONValue.string))
        }
        return domain(code, kind: error.kind, "\(parameter): \(text)").with(extra)
    }
}

/// The Pyroscope settings a request carries in `pluginContext.appInstanceSettings` (jsonData `pyroscopeURL`,
/// `pyroscopeDatasourceUid` + `grafanaURL`, `pyroscopeUser`, `pyroscopeTenant`; decryptedSecureJsonData
/// `pyroscopeToken`, `pyroscopePassword`), else the server's own (`serve --pyroscope`, FLAMEGRAPH_AI_PYROSCOPE_*).
enum PyroscopeSettings {
    static func config(_ params: Params, fallback: PyroscopeConfig?) -> Result<PyroscopeConfig, PyroscopeError>? {
        let settings = params.values["pluginContext"]?["appInstanceSettings"]
        func strings(_ value: JSONValue?) -> [String: String] {
            (value?.objectValue ?? [:]).compactMapValues { $0.stringValue }
        }
        do {
            if let config = try PyroscopeConfig.fromSettings(
                jsonData: strings(settings?["jsonData"]), secure: strings(settings?["decryptedSecureJsonData"]))
            {
                return .success(config)
            }
        } catch {
            return .failure(error)
        }
        return fallback.map { .success($0) }
    }
}

extension ProfileService {
    /// The source parser for one request: its Pyroscope (app settings, else the server's) and its time, so
    /// that both sides of a diff resolve `now` alike.
    public func sources(for params: Params) -> SourceParser {
        var parser = sources
        parser.pyroscope = PyroscopeSettings.config(params, fallback: config.pyroscope)
        parser.now = PyroscopeTime.nowMilliseconds()
        return parser
    }

    /// The request's Pyroscope, for the `pyroscope.*` methods and checkHealth; an error when none is configured.
    func pyroscopeConfig(_ params: Params) throws(RPCError) -> PyroscopeConfig {
        try sources(for: params).pyroscopeConfig(parameter: "pluginContext")
    }
}

extension SourceParser {
    /// Whether `{pyroscope}` profiles can be read (a configuration that works).
    var pyroscopeConfigured: Bool {
        if case .success? = pyroscope { return true }
        return false
    }

    static let notConfigured = PyroscopeError.misconfigured(
        "no Pyroscope data source is configured: set the app's pyroscopeURL (or pyroscopeDatasourceUid and grafanaURL), "
            + "start serve with --pyroscope URL, or set FLAMEGRAPH_AI_PYROSCOPE_URL")

    func pyroscopeConfig(parameter: String) throws(RPCError) -> PyroscopeConfig {
        switch pyroscope {
        case .success(let config)?: return config
        case .failure(let error)?: throw RPCError.pyroscope(error, parameter: parameter, config: nil)
        case nil: throw RPCError.pyroscope(Self.notConfigured, parameter: parameter, config: nil)
        }
    }

    /// `{profileTypeID, labelSelector = "{}", from = "now-1h", to = "now", maxNodes?}`; times are `now`, `now-1h`,
    /// RFC 3339 or milliseconds since the epoch (a number or a string).
    func pyroscopeSource(_ params: Params) throws(RPCError) -> PyroscopeSource {
        let parameter = String(params.path.dropLast())
        let config = try pyroscopeConfig(parameter: parameter)
        let type = try params.requiredString("profileTypeID")
        let selector = try params.string("labelSelector") ?? "{}"
        let range = try Self.timeRange(params, now: now ?? PyroscopeTime.nowMilliseconds(), parameter: parameter)
        let maxNodes = try params.int("maxNodes", in: 1 ... Int64(1 << 20))
        let query = PyroscopeQuery(profileTypeID: type, labelSelector: selector, range: range, maxNodes: maxNodes)
        do throws(PyroscopeError) {
            try query.validate()
        } catch {
            throw RPCError.pyroscope(error, parameter: parameter, config: config)
        }
        return PyroscopeSource(query: query, config: config, parameter: parameter)
    }

    /// `from` (default `now-1h`) and `to` (default `now`) of a params object, resolved against `now`.
    static func timeRange(_ params: Params, now: Int64, parameter: String) throws(RPCError) -> PyroscopeTimeRange {
        func text(_ key: String, _ fallback: String) throws(RPCError) -> String {
            switch params.values[key] {
            case nil, .null?: return fallback
            case .string(let s)?: return s
            case let v?:
                guard let ms = v.intValue else { throw RPCError.invalidParams(params.name(key), "must be a time: now-1h, RFC 3339 or ms since the epoch") }
                return String(ms)
            }
        }
        let from = try text("from", "now-1h")
        let to = try text("to", "now")
        do throws(PyroscopeError) {
            return try PyroscopeTimeRange.resolve(from: from, to: to, now: now)
        } catch {
            throw RPCError.pyroscope(error, parameter: parameter, config: nil)
        }
    }

    /// The two sides of a diff, `baseline` and `comparison`, each a profile or an array of profiles. With
    /// Pyroscope sources a side may leave out what it shares with the other (`baseline: {pyroscope: {from, to}}`
    /// takes the comparison's profile type and selector: two time ranges; or two selectors over one range), and
    /// `vs: "yesterday" | "last-week"` instead of a baseline compares with the same query a day or a week earlier.
    public func sides(_ params: Params) throws(RPCError) -> (baseline: [any ProfileSource], comparison: [any ProfileSource]) {
        if let presetName = try params.string("vs") {
            guard let preset = PyroscopeDiffPreset(name: presetName) else {
                throw RPCError.invalidParams(params.name("vs"), "must be yesterday or last-week")
            }
            guard !params.has("baseline") else { throw RPCError.invalidParams(params.name("vs"), "and 'baseline' exclude each other") }
            let comparison = try sources(params, "comparison")
            guard comparison.count == 1, let side = comparison[0] as? PyroscopeSource else {
                throw RPCError.invalidParams(params.name("vs"), "needs one {pyroscope} comparison")
            }
            return ([side.over(preset.baseline(for: side.query.range), parameter: params.name("vs"))], comparison)
        }
        // The baseline's Pyroscope query takes what it leaves out from the comparison's (one way only: a comparison
        // without `to` means "now", whatever the baseline's end).
        var values = params.values
        if case .object(var base)? = values["baseline"], case .object(var baseQuery)? = base["pyroscope"],
            case .object(let cmp)? = values["comparison"], case .object(let cmpQuery)? = cmp["pyroscope"]
        {
            for key in ["profileTypeID", "labelSelector", "from", "to", "maxNodes"] where baseQuery[key] == nil {
                baseQuery[key] = cmpQuery[key]
            }
            base["pyroscope"] = .object(baseQuery)
            values["baseline"] = .object(base)
        }
        let filled = try Params(.object(values), path: params.path)
        return (try sources(filled, "baseline"), try sources(filled, "comparison"))
    }
}
