import FlameDiff
import Foundation
import LLMGateway
import ProtoPprof

/// Grafana's backend-plugin services over JSON-RPC: CheckHealth, CallResource and QueryData.
struct GrafanaMethods: Sendable {
    let profiles: ProfileMethods

    /// A real profile (go-cpu-benchmark from the fixtures, 1.1 KB) decoded on every health check.
    static let selfTestProfile = "H4sIAAAAAAAE/7STS4wUVRSGre6q7tvVU11numd6zgyvohheQ6hiSkCNoglsXBk2bnQx1FTf6elQj05VV4RdJ2pAovKIYoKYaJSoiRJIYKEQhchmFhg3imFhom5MWPhINFGjMffeuQztyl6466nv/v/5z2Mev3br93NLR9/7oKmrRIGCrpIiqPvfP376a+0p/vtA/8PvVNskCh577vuKzV7tAGWGEAU01KySbZICXnyeowIQjgpQxrJFbCBFPHbtOrE1UoRPFc6KUMGKpdtAVFy6yZkK1wucqVDFqqXXDVChf+mFhq4qhSIrruEXsvhOUOoGGNBf+nuPrmqCl/DN82eJrRINytxJgxEcsQzbJGW8IKUeKPUaFKB/+0ZF10ploSV4+d4HBhShf+Tdmq4SwSt4W/JdvLYG/W/vTOhqRXAdT0q+Y4DrglfxG8kdzivQf/XXGV2tCj6CfzzLp6eAy7nsfURwA/8a5DKfIXgN70gu/JcbVGuCm/iZrC9mJ/1NwQF/k3pRX+pB8FH8SupF/wT6P5zapKujgtfxJcnv5/lL0H/589W6WmccSANvHTtNbI2U4GyBL6cENaxZpt0kY3jqxkm2tzI0bI0QuDzNX5QBEKzRGUII1LFuNWwg43jk6nFia6QCr1T4qwqM4RhnTTz3MWc6/CxOUIdxHLcadQPK0L9yYb2uNsbGm7ZJJvCijMvuwbjb7gSLaxLEtySf5e0owP4DdBUFn8R3JB/UTwo+hTclHxz3lOCr8MfBcctzWiX4anxN6sU5yXWsFnwNfiS5qC/HvUbwtXhVcrEO6b9W8HV4RnLRnzyHdYJbeF5y4S/1luDr8ZfB/DLfesFt/FLqWf81OT+tZLMHQDbgT0f5PVThSIHvsQpNbFqmDWQaX2T3wC7h0jSfvky3YZpvbyP2pbuYjtzuRmZukk34huSiO5luE+NNshlvnDyxcnAjcKrBI4zABE7wU9qCpy+cILZGDPhzjDMDEJGzrXj1Cmc1eLvJWQ0mcZKzGTyz9DrTmfBJgTMTpnDKWnXPCBqbt2ydsU2yDa/IlGzG98xoW6GoTqlEeVDx7vPKmR91Q5p5WpDkcc8rBt3cq8Z+nGQ0SOJW5j3U7vQW83knSCJ3gYadQ23qtpPt3TRZ6IQ03R4nPZq59JAfMR836OZOkETdvEe9p90nM5pmLpc5bdrJaNxKaLpAU7eduFkauO1hzd3I78ROO/H2DS119tI4WIz89OCcTHjg/0o416NZj8UcZT86cdvZMrN3q5Pm8RPeI26epW6YBH7o7qNh6PNpzDqzu5zdbtiZp4dowIezLHXnZW5m2Fj+KgxDP4+DRW8szeNeJ6KOnx2Og/0ppVG35z32Xwstq92uEM75UWv3TifzRpeBww6i14norLdnWM/scDbX8tNnxNbg347eo8MashxzcbLgH6RsHjXpmB3OoiT2HhjWr5smATMypVGU9fy0N7viLD6s/J1nIaXdlaEvdOJWmsexPx/SlQ6zYJG28pCu6Lrs9CLPuFso8MPQe3jYwH4WzflRa/dOJ/snAAD//zDZIUBcCQAA"
    static let selfTestTotal: Int64 = 1_310_000_000

    /// Like Grafana's CheckHealthResult: status OK, ERROR or UNKNOWN, a message, and details.
    func checkHealth(_ params: Params) -> JSONValue {
        let started = ContinuousClock.now
        var details: [String: JSONValue] = [:]
        var status = "OK"
        var message = "flamegraph-ai is ready: the pprof decoder passed its self-test"
        do {
            let bytes = [UInt8](Data(base64Encoded: Self.selfTestProfile)!)
            let profile = try Profile.decode(bytes)
            let tree = try CallTree(profile: profile)
            details["decoder"] = ["ok": true, "samples": .int(Int64(profile.sampleCount)), "total": .int(tree.totalValue)]
            if tree.totalValue != Self.selfTestTotal {
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

    /// The LLM gateway configured in `pluginContext.appInstanceSettings`, if any: jsonData `llmMode`,
    /// `llmURL`, `llmModel`; decryptedSecureJsonData `llmApiKey` (never echoed).
    static func gatewayConfig(_ params: Params) -> GatewayConfig? {
        let settings = params.values["pluginContext"]?["appInstanceSettings"]
        func strings(_ value: JSONValue?) -> [String: String] {
            (value?.objectValue ?? [:]).compactMapValues { $0.stringValue }
        }
        return GatewayConfig.fromSettings(
            jsonData: strings(settings?["jsonData"]), secure: strings(settings?["decryptedSecureJsonData"]))
    }

    /// Adds the gateway's health to a decoder health result. The plugin works without a model (explanations
    /// fall back to the offline analysis), so a failing gateway is reported, not turned into ERROR.
    static func addGatewayHealth(to result: JSONValue, params: Params) async -> JSONValue {
        guard case .object(var o) = result, case .object(var details)? = o["jsonDetails"] else { return result }
        guard let config = gatewayConfig(params) else {
            details["llmGateway"] = ["configured": false]
            o["jsonDetails"] = .object(details)
            return .object(o)
        }
        let health = await ChatClient(config: config).health()
        var gateway: [String: JSONValue] = [
            "configured": true, "mode": .string(config.mode.rawValue), "model": .string(config.model),
            "reachable": .bool(health.reachable), "ok": .bool(health.ok),
        ]
        if let ms = health.latencyMs { gateway["latencyMs"] = .double(ms) }
        if let error = health.error { gateway["error"] = .string(config.redact(error)) }
        if let text = health.details, let parsed = try? JSONParser.parse(Array(text.utf8)) { gateway["llmApp"] = parsed }
        details["llmGateway"] = .object(gateway)
        o["jsonDetails"] = .object(details)
        if !health.ok, case .string(let message)? = o["message"] {
            o["message"] = .string(message + "; LLM gateway not healthy (\(config.redact(health.error ?? "unknown")); explanations fall back to the offline analysis)")
        }
        return .object(o)
    }

    /// The routes of the resource API; each takes a POST with the method's params as a JSON body.
    static let routes = [
        "/info": "profile.info", "/top": "profile.top", "/flamegraph": "profile.flamegraph", "/diff": "profile.diff",
        "/explain": "flamegraph.explain", "/explainDiff": "flamegraph.explainDiff", "/explain/followUp": "explain.followUp",
    ]

    /// CallResource: `{path, method, url, headers, body (base64)}` -> `{status, headers, body (base64)}`.
    func callResource(
        _ params: Params, handle: (String, Params) async throws(RPCError) -> JSONValue
    ) async throws(RPCError) -> JSONValue {
        let rawPath = try params.string("path") ?? ""
        let path = "/" + String(rawPath.split(separator: "?", maxSplits: 1).first ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let method = (try params.string("method") ?? "GET").uppercased()
        guard let target = Self.routes[path] else {
            return Self.response(404, ["error": .string("no resource at \(path)"), "routes": .array(Self.routes.keys.sorted().map(JSONValue.string))])
        }
        guard method == "POST" else {
            return Self.response(405, ["error": .string("\(path) takes POST with a JSON body")], extraHeaders: ["Allow": ["POST"]])
        }
        var body: JSONValue = .object([:])
        if let encoded = try params.string("body"), !encoded.isEmpty {
            guard let data = Data(base64Encoded: encoded) else { throw RPCError.invalidParams(params.name("body"), "is not valid base64") }
            do {
                body = try JSONParser.parse([UInt8](data))
            } catch {
                return Self.response(400, ["error": .string("body is not JSON: \(error)")])
            }
        }
        do throws(RPCError) {
            return Self.response(200, try await handle(target, try Params(body)))
        } catch {
            let status: Int
            switch error.code {
            case RPCError.limitExceededCode: status = 413
            case RPCError.internalErrorCode: status = 500
            default: status = 400
            }
            var payload: [String: JSONValue] = ["error": .string(error.message)]
            if let kind = error.data?["kind"] { payload["kind"] = kind }
            return Self.response(status, .object(payload))
        }
    }

    static func response(_ status: Int, _ body: JSONValue, extraHeaders: [String: JSONValue] = [:]) -> JSONValue {
        var headers: [String: JSONValue] = ["Content-Type": ["application/json"]]
        headers.merge(extraHeaders) { _, new in new }
        return [
            "status": .int(Int64(status)), "headers": .object(headers),
            "body": .string(Data(body.encoded()).base64EncodedString()),
        ]
    }

    /// QueryData: `{queries: [{refId, queryType, json}]}` -> `{results: {refId: {frames, status, error?}}}`.
    func queryData(_ params: Params) throws(RPCError) -> JSONValue {
        guard case .array(let queries)? = params.values["queries"] else {
            throw RPCError.invalidParams(params.name("queries"), "must be an array of queries")
        }
        var results: [String: JSONValue] = [:]
        for (i, raw) in queries.enumerated() {
            let query = try Params(raw, path: "queries[\(i)].")
            let refID = try query.string("refId") ?? "A"
            let queryType = try query.string("queryType") ?? "flamegraph"
            do throws(RPCError) {
                let json = try query.nested("json")
                let frame: JSONValue
                switch queryType {
                case "flamegraph":
                    var p = json.values
                    p["format"] = "dataframe"
                    frame = try profiles.flamegraph(Params(.object(p), path: json.path))["frame"]!
                case "diff":
                    var p = json.values
                    p["format"] = "dataframe"
                    frame = try profiles.diff(Params(.object(p), path: json.path))["frame"]!
                case "top":
                    frame = Self.topFrame(try profiles.top(json))
                default:
                    throw RPCError.invalidParams(query.name("queryType"), "must be flamegraph, top or diff")
                }
                results[refID] = ["frames": [frame], "status": 200]
            } catch {
                results[refID] = ["error": .string(error.message), "status": error.code == RPCError.limitExceededCode ? 413 : 400]
            }
        }
        return ["results": .object(results)]
    }

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
