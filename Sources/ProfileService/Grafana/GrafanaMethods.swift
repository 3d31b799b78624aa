import Explain
import FlameDiff
import Foundation
import JSONCore
import JSONRPC
import LLMGateway
import ProtoPprof
import PyroscopeClient

/// The Grafana app settings a request carries in `pluginContext.appInstanceSettings`.
enum GrafanaSettings {
    /// The LLM gateway configured there, if any: jsonData `llmMode`, `llmURL`, `llmModel`;
    /// decryptedSecureJsonData `llmApiKey` (never echoed).
    static func gatewayConfig(_ params: Params) -> GatewayConfig? {
        let settings = params.values["pluginContext"]?["appInstanceSettings"]
        func strings(_ value: JSONValue?) -> [String: String] {
            (value?.objectValue ?? [:]).compactMapValues { $0.stringValue }
        }
        return GatewayConfig.fromSettings(
            jsonData: strings(settings?["jsonData"]), secure: strings(settings?["decryptedSecureJsonData"]))
    }

    /// The token budget configured there, if any: jsonData `llmContextTokens` (the configuration page stores a
    /// number; a numeric string is taken too) and `llmAnswerTokens`. nil when neither is set; a value that is
    /// not a whole number, or a context too small for even the compact prompt, is a settings error.
    static func budget(_ params: Params) throws(RPCError) -> TokenBudget? {
        let jsonData = params.values["pluginContext"]?["appInstanceSettings"]?["jsonData"]
        func number(_ key: String) throws(RPCError) -> Int? {
            guard let value = jsonData?[key], value != .null else { return nil }
            if let i = value.intValue, let n = Int(exactly: i) { return n }
            if let text = value.stringValue {
                if text.isEmpty { return nil }
                if let n = Int(text) { return n }
            }
            throw settingsError("jsonData.\(key) must be a whole number of tokens")
        }
        let context = try number("llmContextTokens")
        let answer = try number("llmAnswerTokens")
        if context == nil && answer == nil { return nil }
        do {
            return try TokenBudget.checked(contextTokens: context ?? TokenBudget().contextTokens, answerTokens: answer)
        } catch {
            throw settingsError("jsonData.llmContextTokens: \(error.description)")
        }
    }

    /// A problem with the app's settings: invalid params, kind `settings`, the message naming the key.
    static func settingsError(_ message: String) -> RPCError {
        RPCError.domain(RPCError.invalidParamsCode, kind: "settings", "the app's LLM settings are not usable: \(message)")
    }
}

/// `checkHealth` (Grafana's CheckHealth): decodes a bundled profile as a self-test and reports the LLM gateway and,
/// when one is configured, the Pyroscope data source.
public enum CheckHealthMethod: ServiceMethod {
    public static let name = "checkHealth"
    public static let summary = "Grafana CheckHealth: a decoder self-test, the LLM gateway's health and the Pyroscope data source's."

    /// A real profile (go-cpu-benchmark from the fixtures, 1.1 KB) decoded on every health check.
    static let selfTestTotal: Int64 = 1_310_000_000
    static let selfTestProfile: [UInt8]? = Bundle.module.url(forResource: "self-test", withExtension: "pb.gz")
        .flatMap { try? Data(contentsOf: $0) }.map { [UInt8]($0) }

    public struct Request: Sendable {
        var gateway: GatewayConfig?
        var pyroscope: Result<PyroscopeConfig, PyroscopeError>?
        /// The token budget explanations will use, or why the settings give none.
        var budget: Result<TokenBudget, RPCError> = .success(TokenBudget())
    }

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> Request {
        var budget: Result<TokenBudget, RPCError>
        do {
            budget = .success(try GrafanaSettings.budget(params) ?? service.config.budget)
        } catch {
            budget = .failure(error)
        }
        return Request(gateway: GrafanaSettings.gatewayConfig(params), pyroscope: service.sources(for: params).pyroscope, budget: budget)
    }

    public static func respond(to request: Request, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> JSONValue {
        let decoder = try await offload { () throws(RPCError) -> JSONValue in selfTest() }
        let withGateway = await addGatewayHealth(to: decoder, gateway: request.gateway, budget: request.budget)
        return await PyroscopeGrafana.addHealth(to: withGateway, request.pyroscope)
    }

    public static func json(_ r: JSONValue) -> JSONValue { r }

    /// Like Grafana's CheckHealthResult: status OK, ERROR or UNKNOWN, a message, and details.
    static func selfTest() -> JSONValue {
        let started = ContinuousClock.now
        var details: [String: JSONValue] = [:]
        var status = "OK"
        var message = "flamegraph-ai is ready: the pprof decoder passed its self-test"
        do {
            guard let bytes = selfTestProfile else { throw PprofError.empty }
            let profile = try Profile.decode(bytes)
            let tree = try CallTree(profile: profile)
            details["decoder"] = ["ok": true, "samples": .int(Int64(profile.sampleCount)), "total": .int(tree.totalValue)]
            if tree.totalValue != selfTestTotal {
                status = "ERROR"
                message = "decoder self-test computed a wrong total"
            }
        } catch {
            status = "ERROR"
            message = "decoder self-test failed: \(error)"
            details["decoder"] = ["ok": false]
        }
        details["elapsedMs"] = .double(Double((ContinuousClock.now - started).components.attoseconds) / 1e15)
        return ["status": .string(status), "message": .string(message), "jsonDetails": .object(details)]
    }

    /// Adds the gateway's health to a decoder health result. The plugin works without a model (explanations
    /// fall back to the offline analysis), so a failing gateway is reported, not turned into ERROR.
    /// The token budget is checked here too: settings that cannot work make the status ERROR with the reason, and a
    /// context larger than the one the server reports (llama-server's `meta.n_ctx`) is named in the message.
    static func addGatewayHealth(
        to result: JSONValue, gateway config: GatewayConfig?, budget: Result<TokenBudget, RPCError> = .success(TokenBudget())
    ) async -> JSONValue {
        guard case .object(var o) = result, case .object(var details)? = o["jsonDetails"] else { return result }
        var problems: [String] = []
        switch budget {
        case .success(let b):
            details["tokenBudget"] = [
                "contextTokens": .int(Int64(b.contextTokens)), "answerTokens": .int(Int64(b.answerTokens)),
                "prompt": .string(PromptTemplate.variant(for: b) == .compact ? "compact" : "standard"),
            ]
        case .failure(let error):
            details["tokenBudget"] = ["error": .string(error.message)]
            o["status"] = "ERROR"
            problems.append(error.message)
        }
        guard let config else {
            details["llmGateway"] = ["configured": false]
            o["jsonDetails"] = .object(details)
            if !problems.isEmpty, case .string(let message)? = o["message"] { o["message"] = .string(message + "; " + problems.joined(separator: "; ")) }
            return .object(o)
        }
        let health = await ChatClient(config: config).health()
        var gateway: [String: JSONValue] = [
            "configured": true, "mode": .string(config.mode.rawValue), "model": .string(config.model),
            "reachable": .bool(health.reachable), "ok": .bool(health.ok),
        ]
        if let ms = health.latencyMs { gateway["latencyMs"] = .double(ms) }
        if let error = health.error { gateway["error"] = .string(config.redact(error)) }
        if let models = health.models { gateway["models"] = .array(models.prefix(50).map { .string(config.redact($0)) }) }
        if let n = health.serverContextTokens {
            gateway["serverContextTokens"] = .int(Int64(n))
            if case .success(let b) = budget, b.contextTokens > n {
                problems.append("the context tokens setting (\(b.contextTokens)) is larger than the server's context (\(n)): long prompts will be refused; set llmContextTokens to \(n)")
            }
        }
        if let text = health.details, let parsed = try? JSONParser.parse(Array(text.utf8)) { gateway["llmApp"] = parsed }
        details["llmGateway"] = .object(gateway)
        o["jsonDetails"] = .object(details)
        if !health.ok {
            problems.insert("LLM gateway not healthy (\(config.redact(health.error ?? "unknown")); explanations fall back to the offline analysis)", at: 0)
        }
        if !problems.isEmpty, case .string(let message)? = o["message"] {
            o["message"] = .string(message + "; " + problems.joined(separator: "; "))
        }
        return .object(o)
    }
}

/// `callResource` (Grafana's CallResource): `{path, method, url, headers, body (base64)}` ->
/// `{status, headers, body (base64)}`. Every method with a `resourcePath` in the table is a POST route.
public enum CallResourceMethod: ServiceMethod {
    public static let name = "callResource"
    public static let summary = "Grafana CallResource: POST a method's params as JSON to its route (/top, /flamegraph, /explain, ...)."

    public struct Request: Sendable {
        var path: String
        var method: String
        var body: String?
        /// The outer request's params: its pluginContext applies to the routed call.
        var outer: Params
    }

    /// The routes: each method's resource path.
    public static func routes(_ service: ProfileService) -> [String: any ServiceMethod.Type] {
        var r: [String: any ServiceMethod.Type] = [:]
        for m in service.registeredMethods { if let path = m.resourcePath { r[path] = m } }
        return r
    }

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> Request {
        let rawPath = try params.string("path") ?? ""
        let path = "/" + String(rawPath.split(separator: "?", maxSplits: 1).first ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return Request(path: path, method: (try params.string("method") ?? "GET").uppercased(), body: try params.string("body"), outer: params)
    }

    public static func respond(to request: Request, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> JSONValue {
        let routes = routes(service)
        guard let target = routes[request.path] else {
            return response(404, ["error": .string("no resource at \(request.path)"), "routes": .array(routes.keys.sorted().map(JSONValue.string))])
        }
        guard request.method == "POST" else {
            return response(405, ["error": .string("\(request.path) takes POST with a JSON body")], extraHeaders: ["Allow": ["POST"]])
        }
        var body: JSONValue = .object([:])
        if let encoded = request.body, !encoded.isEmpty {
            guard let data = Data(base64Encoded: encoded) else { throw RPCError.invalidParams(request.outer.name("body"), "is not valid base64") }
            do {
                body = try JSONParser.parse([UInt8](data))
            } catch {
                return response(400, ["error": .string("body is not JSON: \(error)")])
            }
        }
        // The routed call sees the outer pluginContext (its LLM settings), unless the body brings its own.
        if case .object(var o) = body, o["pluginContext"] == nil, let context = request.outer.values["pluginContext"] {
            o["pluginContext"] = context
            body = .object(o)
        }
        do throws(RPCError) {
            return response(200, try await ServiceHandler.invoke(target, try Params(body), service: service, context: context))
        } catch {
            let status: Int
            switch error.code {
            case RPCError.limitExceededCode: status = 413
            case RPCError.internalErrorCode: status = 500
            case RPCError.dataSourceCode: status = 502
            case RPCError.requestCancelledCode: throw error
            default: status = 400
            }
            var payload: [String: JSONValue] = ["error": .string(error.message)]
            if let kind = error.data?["kind"] { payload["kind"] = kind }
            return response(status, .object(payload))
        }
    }

    public static func json(_ r: JSONValue) -> JSONValue { r }

    static func response(_ status: Int, _ body: JSONValue, extraHeaders: [String: JSONValue] = [:]) -> JSONValue {
        var headers: [String: JSONValue] = ["Content-Type": ["application/json"]]
        headers.merge(extraHeaders) { _, new in new }
        return [
            "status": .int(Int64(status)), "headers": .object(headers),
            "body": .string(Data(body.encoded()).base64EncodedString()),
        ]
    }
}

/// `queryData` (Grafana's QueryData): `{queries: [{refId, queryType, json}]}` -> `{results: {refId: {frames, status, error?}}}`.
public enum QueryDataMethod: ServiceMethod {
    public static let name = "queryData"
    public static let summary = "Grafana QueryData: flamegraph, top or diff data frames per refId."

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> [Params] {
        guard case .array(let queries)? = params.values["queries"] else {
            throw RPCError.invalidParams(params.name("queries"), "must be an array of queries")
        }
        var out: [Params] = []
        for (i, raw) in queries.enumerated() {
            out.append(try Params(PyroscopeGrafana.prepare(raw, pluginContext: params.values["pluginContext"]), path: "queries[\(i)]."))
        }
        return out
    }

    public static func respond(to queries: [Params], in service: ProfileService, context: RequestContext?) async throws(RPCError) -> JSONValue {
        var results: [String: JSONValue] = [:]
        for query in queries {
            let refID = try query.string("refId") ?? "A"
            let queryType = try query.string("queryType") ?? "flamegraph"
            do throws(RPCError) {
                let json = try query.nested("json")
                let frame: JSONValue
                switch queryType {
                case "flamegraph":
                    var p = json.values
                    p["format"] = "dataframe"
                    frame = try await ServiceHandler.invoke(FlamegraphMethod.self, Params(.object(p), path: json.path), service: service, context: nil)["frame"]!
                case "diff":
                    var p = json.values
                    p["format"] = "dataframe"
                    frame = try await ServiceHandler.invoke(DiffMethod.self, Params(.object(p), path: json.path), service: service, context: nil)["frame"]!
                case "top":
                    frame = topFrame(try await ServiceHandler.invoke(TopMethod.self, json, service: service, context: nil))
                default:
                    throw RPCError.invalidParams(query.name("queryType"), "must be flamegraph, top or diff")
                }
                results[refID] = ["frames": [frame], "status": 200]
            } catch {
                if error.code == RPCError.requestCancelledCode { throw error }
                let status = error.code == RPCError.limitExceededCode ? 413 : error.code == RPCError.dataSourceCode ? 502 : 400
                results[refID] = ["error": .string(error.message), "status": .int(Int64(status))]
            }
        }
        return ["results": .object(results)]
    }

    public static func json(_ r: JSONValue) -> JSONValue { r }

    /// The top table as a Grafana data frame: function, flat, flat%, cum, cum%.
    static func topFrame(_ top: JSONValue) -> JSONValue {
        let rows = top["rows"]?.arrayValue ?? []
        let unit = grafanaUnit(top["sampleType"]?["unit"]?.stringValue ?? "")
        func field(_ name: String, _ type: String, _ frameType: String, unit: String? = nil) -> JSONValue {
            var f: [String: JSONValue] = ["name": .string(name), "type": .string(type), "typeInfo": ["frame": .string(frameType)]]
            if let unit { f["config"] = ["unit": .string(unit)] }
            return .object(f)
        }
        return [
            "schema": [
                "name": "top", "meta": ["preferredVisualisationType": "table"],
                "fields": [
                    field("function", "string", "string"), field("flat", "number", "int64", unit: unit),
                    field("flat%", "number", "float64", unit: "percent"), field("cum", "number", "int64", unit: unit),
                    field("cum%", "number", "float64", unit: "percent"),
                ],
            ],
            "data": [
                "values": .array(["name", "flat", "flatPercent", "cum", "cumPercent"].map { key in .array(rows.map { $0[key] ?? .null }) })
            ],
        ]
    }
}
