import JSONCore
import JSONRPC
import PyroscopeClient

/// What the `pyroscope.*` methods ask: the data source, a time range, selectors, and for label values the name.
public struct PyroscopeLookup: Sendable {
    public var config: PyroscopeConfig
    public var range: PyroscopeTimeRange
    /// Label selectors the series must match (`{service_name="checkout"}`); none: every series.
    public var matchers: [String]
    /// `pyroscope.labelValues`: the label; `pyroscope.series`: the labels to keep (none: all).
    public var labelNames: [String]

    public init(config: PyroscopeConfig, range: PyroscopeTimeRange, matchers: [String] = [], labelNames: [String] = []) {
        self.config = config
        self.range = range
        self.matchers = matchers
        self.labelNames = labelNames
    }

    /// `{from = "now-1h", to = "now", labelSelector? | matchers?: [..]}` with the request's data source.
    static func read(_ params: Params, _ service: ProfileService) throws(RPCError) -> PyroscopeLookup {
        let parser = service.sources(for: params)
        let config = try parser.pyroscopeConfig(parameter: "pluginContext")
        let range = try SourceParser.timeRange(params, now: parser.now ?? PyroscopeTime.nowMilliseconds(), parameter: "params")
        var matchers = try params.strings("matchers")
        if let selector = try params.string("labelSelector") { matchers.append(selector) }
        return PyroscopeLookup(config: config, range: range, matchers: matchers)
    }

    func run<T>(_ call: (PyroscopeClient) async throws(PyroscopeError) -> T) async throws(RPCError) -> T {
        do {
            return try await call(PyroscopeClient(config: config))
        } catch {
            throw RPCError.pyroscope(error, parameter: "pyroscope", config: config)
        }
    }
}

/// `pyroscope.profileTypes`: the profile types the data source holds in the range.
public enum PyroscopeProfileTypesMethod: ServiceMethod {
    public static let name = "pyroscope.profileTypes"
    public static let summary = "Profile types the configured Pyroscope holds in a time range (from, to)."
    public static let resourcePath: String? = "/pyroscope/profileTypes"

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> PyroscopeLookup {
        try PyroscopeLookup.read(params, service)
    }

    public static func respond(to request: PyroscopeLookup, in service: ProfileService, context: RequestContext?) async throws(RPCError)
        -> [PyroscopeProfileType]
    {
        try await request.run { client throws(PyroscopeError) in try await client.profileTypes(range: request.range) }
    }

    public static func json(_ types: [PyroscopeProfileType]) -> JSONValue {
        [
            "profileTypes": .array(types.map { t in
                ["id": .string(t.id), "name": .string(t.name), "sampleType": .string(t.sampleType), "sampleUnit": .string(t.sampleUnit),
                 "periodType": .string(t.periodType), "periodUnit": .string(t.periodUnit)]
            })
        ]
    }
}

/// `pyroscope.labelNames`: label names of the series matching the selectors.
public enum PyroscopeLabelNamesMethod: ServiceMethod {
    public static let name = "pyroscope.labelNames"
    public static let summary = "Label names in the configured Pyroscope (matchers or labelSelector, from, to)."
    public static let resourcePath: String? = "/pyroscope/labelNames"

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> PyroscopeLookup {
        try PyroscopeLookup.read(params, service)
    }

    public static func respond(to request: PyroscopeLookup, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> [String] {
        try await request.run { client throws(PyroscopeError) in try await client.labelNames(matchers: request.matchers, range: request.range) }
    }

    public static func json(_ names: [String]) -> JSONValue { ["names": .array(names.map(JSONValue.string))] }
}

/// `pyroscope.labelValues`: the values of one label.
public enum PyroscopeLabelValuesMethod: ServiceMethod {
    public static let name = "pyroscope.labelValues"
    public static let summary = "Values of one label (name) in the configured Pyroscope (matchers or labelSelector, from, to)."
    public static let resourcePath: String? = "/pyroscope/labelValues"

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> PyroscopeLookup {
        var lookup = try PyroscopeLookup.read(params, service)
        lookup.labelNames = [try params.requiredString("name")]
        return lookup
    }

    public static func respond(to request: PyroscopeLookup, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> [String] {
        try await request.run { client throws(PyroscopeError) in
            try await client.labelValues(name: request.labelNames[0], matchers: request.matchers, range: request.range)
        }
    }

    public static func json(_ values: [String]) -> JSONValue { ["values": .array(values.map(JSONValue.string))] }
}

/// `pyroscope.series`: the distinct label sets, each cut to `labelNames` when given.
public enum PyroscopeSeriesMethod: ServiceMethod {
    public static let name = "pyroscope.series"
    public static let summary = "Series (label sets) in the configured Pyroscope (matchers or labelSelector, labelNames, from, to)."
    public static let resourcePath: String? = "/pyroscope/series"

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> PyroscopeLookup {
        var lookup = try PyroscopeLookup.read(params, service)
        lookup.labelNames = try params.strings("labelNames")
        return lookup
    }

    public static func respond(to request: PyroscopeLookup, in service: ProfileService, context: RequestContext?) async throws(RPCError)
        -> [PyroscopeSeries]
    {
        try await request.run { client throws(PyroscopeError) in
            try await client.series(matchers: request.matchers, labelNames: request.labelNames, range: request.range)
        }
    }

    public static func json(_ series: [PyroscopeSeries]) -> JSONValue {
        ["series": .array(series.map { s in .array(s.labels.map { ["name": .string($0.name), "value": .string($0.value)] }) })]
    }
}

// MARK: - The Grafana adapter's part

/// Pyroscope in Grafana's calls: checkHealth's report and queryData's `{pyroscope}` queries.
enum PyroscopeGrafana {
    /// Adds `jsonDetails.pyroscope` to a health result when a data source is configured: the endpoint, the tenant,
    /// the kind of credential, and whether it is reachable, accepts the credential, and how many profile types it
    /// holds in the last hour. A configured data source that fails makes the status ERROR.
    static func addHealth(to result: JSONValue, _ configured: Result<PyroscopeConfig, PyroscopeError>?) async -> JSONValue {
        guard let configured, case .object(var o) = result, case .object(var details)? = o["jsonDetails"] else { return result }
        var report: [String: JSONValue] = ["configured": true]
        var problem: String?
        switch configured {
        case .failure(let error):
            report["ok"] = false
            report["error"] = .string(error.description)
            report["errorKind"] = .string(error.kind)
            problem = error.description
        case .success(let config):
            let health = await PyroscopeClient(config: config).health()
            report["endpoint"] = .string(config.endpoint.description)
            if case .grafana = config.endpoint { report["via"] = "grafana-datasource-proxy" }
            if let tenant = config.auth.tenant { report["tenant"] = .string(tenant) }
            switch config.auth.credential {
            case .none: report["auth"] = "none"
            case .basic: report["auth"] = "basic"
            case .bearer: report["auth"] = "bearer"
            }
            report["ok"] = .bool(health.ok)
            report["reachable"] = .bool(health.reachable)
            report["authOK"] = .bool(health.authOK)
            if let n = health.profileTypeCount { report["profileTypes"] = .int(Int64(n)) }
            if let ms = health.latencyMs { report["latencyMs"] = .double(ms) }
            if let error = health.error {
                let text = config.redact(error)
                report["error"] = .string(text)
                problem = text
            }
            if let kind = health.errorKind { report["errorKind"] = .string(kind) }
        }
        details["pyroscope"] = .object(report)
        o["jsonDetails"] = .object(details)
        if let problem {
            o["status"] = "ERROR"
            if case .string(let message)? = o["message"] { o["message"] = .string(message + "; Pyroscope not healthy: " + problem) }
        }
        return .object(o)
    }

    /// One queryData query made ready for its method: the outer pluginContext goes into `json` (the data source
    /// settings), and `json.pyroscope` becomes the profile (`flamegraph`, `top`) or the comparison (`diff`), its
    /// `from`/`to` taken from the query's `timeRange` when it names none.
    static func prepare(_ query: JSONValue, pluginContext: JSONValue?) -> JSONValue {
        guard case .object(var q) = query, case .object(var json)? = q["json"] else { return query }
        if json["pluginContext"] == nil, let pluginContext { json["pluginContext"] = pluginContext }
        if case .object(var pyroscope)? = json["pyroscope"] {
            if case .object(let range)? = q["timeRange"] {
                if pyroscope["from"] == nil { pyroscope["from"] = range["from"] }
                if pyroscope["to"] == nil { pyroscope["to"] = range["to"] }
            }
            let key = q["queryType"]?.stringValue == "diff" ? "comparison" : "profile"
            if json[key] == nil {
                json[key] = ["pyroscope": .object(pyroscope)]
                json["pyroscope"] = nil
            }
        }
        q["json"] = .object(json)
        return .object(q)
    }
}
