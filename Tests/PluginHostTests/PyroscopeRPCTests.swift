import Foundation
import TestSupport
import Testing

/// `serve` against the Pyroscope test server over real HTTP: every method with a `{pyroscope}` source, the data
/// source from the server's own settings or from the request's pluginContext (basic, bearer, Grafana's proxy),
/// every fault a typed error while serve answers on, and no secret in any answer, log or recording.
@Suite(.serialized) struct PyroscopeRPCTests {
    typealias D = PyroscopeData

    func query(_ selector: String, from: Int64 = D.t0, to: Int64 = D.t1, type: String = D.cpu) -> [String: Any] {
        ["profileTypeID": type, "labelSelector": selector, "from": from, "to": to]
    }

    func result(_ rpc: RPCProcess, _ id: Int, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any] {
        let response = rpc.response(id: id, timeout: 30)
        #expect(response?["error"] == nil, "\(id): \(String(describing: response?["error"]))", sourceLocation: sourceLocation)
        return response?["result"] as? [String: Any] ?? [:]
    }

    func error(_ rpc: RPCProcess, _ id: Int, sourceLocation: SourceLocation = #_sourceLocation) -> (code: Int, kind: String, message: String) {
        let e = rpc.response(id: id, timeout: 30)?["error"] as? [String: Any]
        #expect(e != nil, "\(id) did not fail", sourceLocation: sourceLocation)
        return (e?["code"] as? Int ?? 0, (e?["data"] as? [String: Any])?["kind"] as? String ?? "", e?["message"] as? String ?? "")
    }

    func rows(_ top: [String: Any]) -> Set<D.Row> {
        Set((top["rows"] as? [[String: Any]] ?? []).map { D.Row(name: $0["name"] as! String, flat: Int64($0["flat"] as! Int), cum: Int64($0["cum"] as! Int)) })
    }

    func recording() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("pyro-rec-\(UUID())").path }

    func recorded(_ base: String) throws -> [String] {
        try [".requests.jsonl", ".responses.jsonl"].map { try String(contentsOfFile: base + $0, encoding: .utf8) }
    }

    /// The server's own Pyroscope (serve --pyroscope, the token from the environment) behind every method.
    @Test func everyMethodReadsAPyroscopeSource() throws {
        let token = "tok_RPC_SECRET_5d1e"
        let server = try PyroscopeTestServer(["--token", token])
        let base = recording()
        let rpc = try RPCProcess(
            arguments: ["--pyroscope", server.baseURL, "--record", base, "--log-level", "trace"], environment: D.environment(["TOKEN": token]))
        let checkout = ["pyroscope": query(D.checkout)]
        let expected = try D.merged(D.checkoutFixtures)
        let yesterday = try D.merged(D.checkoutYesterday)

        rpc.request(1, "initialize")
        #expect(result(rpc, 1)["profileInput"] as? [String] == ["pprof", "data", "pyroscope"])
        rpc.request(2, "profile.info", ["profile": checkout])
        #expect(result(rpc, 2)["totals"] as? [Int] == [Int(expected.total)])
        rpc.request(3, "profile.sampleTypes", ["profile": checkout])
        #expect((result(rpc, 3)["sampleTypes"] as? [[String: Any]])?.map { $0["type"] as? String } == ["cpu"])
        rpc.request(4, "profile.top", ["profile": checkout, "limit": 0])
        let top = result(rpc, 4)
        #expect(top["total"] as? Int == Int(expected.total))
        #expect(rows(top) == expected.rows)
        rpc.request(5, "profile.flamegraph", ["profile": checkout, "maxNodes": 64])
        #expect((result(rpc, 5)["flamegraph"] as? [String: Any])?["total"] as? Int == Int(expected.total))
        // Diffs: a preset, the same range given by hand, and two selectors over one range.
        rpc.request(6, "profile.diff", ["comparison": checkout, "vs": "yesterday", "limit": 1])
        rpc.request(7, "profile.diff", ["comparison": checkout, "baseline": ["pyroscope": ["from": D.t0 - D.day, "to": D.t1 - D.day]], "limit": 1])
        for id in [6, 7] {
            let diff = result(rpc, id)
            #expect(diff["leftTicks"] as? Int == Int(yesterday.total) && diff["rightTicks"] as? Int == Int(expected.total))
        }
        rpc.request(8, "profile.diff", ["comparison": checkout, "baseline": ["pyroscope": ["labelSelector": D.cart]], "limit": 1])
        #expect(result(rpc, 8)["leftTicks"] as? Int == Int(try D.merged(["go-cpu-pyroscope.pb.gz"]).total))
        // The same bottleneck as the fixture file the selector matches.
        rpc.request(9, "flamegraph.explain", ["profile": ["pyroscope": query(D.cart)]])
        rpc.request(10, "flamegraph.explain", ["profile": ["pprof": try base64Profile("go-cpu-pyroscope.pb.gz")]])
        let remote = result(rpc, 9)["sections"] as? [String: String]
        #expect(remote?["bottleneck"] != nil && remote == result(rpc, 10)["sections"] as? [String: String])
        rpc.request(11, "flamegraph.explainDiff", ["comparison": checkout, "vs": "yesterday"])
        #expect((result(rpc, 11)["sections"] as? [String: String])?["performanceChange"]?.contains("math/big") == true)
        // Listings.
        rpc.request(12, "pyroscope.profileTypes", ["from": D.t0, "to": D.t1])
        #expect((result(rpc, 12)["profileTypes"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == D.typesInWindow)
        rpc.request(13, "pyroscope.labelNames", ["from": D.from, "to": D.to, "labelSelector": D.checkout])
        #expect(result(rpc, 13)["names"] as? [String] == ["__name__", "__profile_type__", "env", "service_name"])
        rpc.request(14, "pyroscope.labelValues", ["from": String(D.t0), "to": String(D.t1), "name": "service_name", "matchers": ["{env=\"prod\"}"]])
        #expect(result(rpc, 14)["values"] as? [String] == ["cart", "checkout"])
        rpc.request(15, "pyroscope.series", ["from": D.t0, "to": D.t1, "labelSelector": "{service_name=\"search\"}", "labelNames": ["env"]])
        #expect(result(rpc, 15)["series"] as? [[[String: String]]] == [[["name": "env", "value": "staging"]]])
        // Grafana's calls: queryData (its time range fills the query's), callResource, checkHealth.
        let bare: [String: Any] = ["profileTypeID": D.cpu, "labelSelector": D.checkout]
        let range: [String: Any] = ["from": D.t0, "to": D.t1]
        rpc.request(16, "queryData", ["queries": [
            ["refId": "A", "queryType": "flamegraph", "json": ["pyroscope": bare], "timeRange": range],
            ["refId": "B", "queryType": "top", "json": ["pyroscope": bare, "limit": 3], "timeRange": range],
            ["refId": "C", "queryType": "diff", "json": ["pyroscope": bare, "vs": "yesterday"], "timeRange": range],
            ["refId": "D", "queryType": "top", "json": ["pyroscope": bare], "timeRange": ["from": D.t0 - 10 * D.day, "to": D.t1 - 10 * D.day]],
        ]])
        let frames = result(rpc, 16)["results"] as? [String: [String: Any]]
        for ref in ["A", "B", "C"] { #expect(frames?[ref]?["status"] as? Int == 200 && (frames?[ref]?["frames"] as? [Any])?.count == 1, "\(ref)") }
        #expect(frames?["D"]?["status"] as? Int == 502 && (frames?["D"]?["error"] as? String)?.contains("unknown profile type") == true)
        let body = try JSONSerialization.data(withJSONObject: ["profile": checkout, "limit": 1]).base64EncodedString()
        rpc.request(17, "callResource", ["path": "/top", "method": "POST", "body": body])
        let resource = result(rpc, 17)
        #expect(resource["status"] as? Int == 200)
        let topBody = try JSONSerialization.jsonObject(with: Data(base64Encoded: resource["body"] as! String)!) as? [String: Any]
        #expect(topBody?["total"] as? Int == Int(expected.total))
        rpc.request(18, "checkHealth")
        let health = result(rpc, 18)
        let pyroscope = (health["jsonDetails"] as? [String: Any])?["pyroscope"] as? [String: Any]
        #expect(health["status"] as? String == "OK")
        #expect(pyroscope?["configured"] as? Bool == true && pyroscope?["ok"] as? Bool == true && pyroscope?["authOK"] as? Bool == true)
        #expect(pyroscope?["auth"] as? String == "bearer" && pyroscope?["endpoint"] as? String == server.baseURL && pyroscope?["profileTypes"] is Int)
        // The same window in RFC 3339.
        rpc.request(19, "profile.top", ["profile": ["pyroscope": ["profileTypeID": D.cpu, "labelSelector": D.checkout, "from": D.from, "to": D.to]], "limit": 0])
        #expect(rows(result(rpc, 19)) == expected.rows)

        rpc.closeInput()
        let rest = rpc.remainingLines()
        #expect(rpc.waitForExit() == 0)
        D.expectNoSecret(rest + [rpc.stderr] + (try recorded(base)), [token])
        #expect(try recorded(base)[0].split(separator: "\n").count == 19)
    }

    /// The data source from the request's app settings: basic auth with a tenant, a bearer token, Grafana's data
    /// source proxy; wrong and missing settings are typed errors of that request only.
    @Test func settingsFromThePluginContext() throws {
        let password = "glc_SECRET_pw_77"
        let saToken = "glsa_SECRET_sa_77"
        let direct = "tok_SECRET_direct_77"
        let wrong = "glc_WRONG_SECRET_77"
        let server = try PyroscopeTestServer([
            "--basic", "123456:\(password)", "--token", direct, "--tenants", "tenant-a", "--grafana-uid", "pyro-uid", "--grafana-token", saToken,
        ])
        let base = recording()
        let rpc = try RPCProcess(arguments: ["--record", base, "--log-level", "trace"], environment: D.environment([:]))
        func context(_ jsonData: [String: String], _ secure: [String: String]) -> [String: Any] {
            ["orgId": 1, "appInstanceSettings": ["jsonData": jsonData, "decryptedSecureJsonData": secure]]
        }
        let styles: [(auth: String, context: [String: Any])] = [
            ("basic", context(["pyroscopeURL": server.baseURL, "pyroscopeUser": "123456", "pyroscopeTenant": "tenant-a"], ["pyroscopePassword": password])),
            ("bearer", context(["pyroscopeURL": server.baseURL, "pyroscopeTenant": "tenant-a"], ["pyroscopeToken": direct])),
            ("bearer", context(["pyroscopeDatasourceUid": "pyro-uid", "grafanaURL": server.baseURL, "pyroscopeTenant": "tenant-a"], ["pyroscopeToken": saToken])),
        ]
        let checkout = ["pyroscope": query(D.checkout)]
        let expected = try D.merged(D.checkoutFixtures)
        var id = 0
        for style in styles {
            id += 1
            rpc.request(id, "initialize", ["pluginContext": style.context])
            #expect((result(rpc, id)["profileInput"] as? [String])?.contains("pyroscope") == true)
            id += 1
            rpc.request(id, "profile.top", ["pluginContext": style.context, "profile": checkout, "limit": 0])
            #expect(rows(result(rpc, id)) == expected.rows)
            id += 1
            rpc.request(id, "checkHealth", ["pluginContext": style.context])
            let report = (result(rpc, id)["jsonDetails"] as? [String: Any])?["pyroscope"] as? [String: Any]
            #expect(report?["ok"] as? Bool == true && report?["auth"] as? String == style.auth)
            // callResource passes its pluginContext to the routed call.
            id += 1
            let body = try JSONSerialization.data(withJSONObject: ["from": D.t0, "to": D.t1, "name": "env"]).base64EncodedString()
            rpc.request(id, "callResource", ["pluginContext": style.context, "path": "/pyroscope/labelValues", "method": "POST", "body": body])
            let resource = result(rpc, id)
            #expect(resource["status"] as? Int == 200)
            #expect((try JSONSerialization.jsonObject(with: Data(base64Encoded: resource["body"] as! String)!) as? [String: Any])?["values"] as? [String] == ["prod", "staging"])
        }
        // queryData with the settings of its pluginContext.
        rpc.request(100, "queryData", ["pluginContext": styles[2].context, "queries": [["refId": "A", "queryType": "flamegraph", "json": checkout]]])
        #expect(((result(rpc, 100)["results"] as? [String: [String: Any]])?["A"])?["status"] as? Int == 200)
        // Not configured, or configured wrong: typed errors, each of its own request.
        rpc.request(101, "initialize")
        #expect(result(rpc, 101)["profileInput"] as? [String] == ["pprof", "data"])
        rpc.request(102, "profile.top", ["profile": checkout])
        let none = error(rpc, 102)
        #expect(none.code == -32006 && none.kind == "misconfigured" && none.message.contains("no Pyroscope data source is configured"))
        rpc.request(103, "profile.top", ["pluginContext": context(["pyroscopeDatasourceUid": "pyro-uid"], ["pyroscopeToken": saToken]), "profile": checkout])
        #expect(error(rpc, 103).kind == "misconfigured")
        let wrongPassword = context(["pyroscopeURL": server.baseURL, "pyroscopeUser": "123456", "pyroscopeTenant": "tenant-a"], ["pyroscopePassword": wrong])
        rpc.request(104, "profile.top", ["pluginContext": wrongPassword, "profile": checkout])
        let refused = error(rpc, 104)
        #expect(refused.code == -32006 && refused.kind == "unauthorized")
        rpc.request(105, "checkHealth", ["pluginContext": wrongPassword])
        let unhealthy = result(rpc, 105)
        let report = (unhealthy["jsonDetails"] as? [String: Any])?["pyroscope"] as? [String: Any]
        #expect(unhealthy["status"] as? String == "ERROR" && report?["reachable"] as? Bool == true && report?["authOK"] as? Bool == false)
        let noTenant = context(["pyroscopeURL": server.baseURL, "pyroscopeUser": "123456"], ["pyroscopePassword": password])
        rpc.request(106, "pyroscope.profileTypes", ["pluginContext": noTenant])
        #expect(error(rpc, 106).kind == "tenantMissing")
        rpc.request(107, "checkHealth", ["pluginContext": context(["pyroscopeURL": "http://127.0.0.1:9"], [:])])
        let down = (result(rpc, 107)["jsonDetails"] as? [String: Any])?["pyroscope"] as? [String: Any]
        #expect(down?["reachable"] as? Bool == false && down?["errorKind"] as? String == "unreachable")

        rpc.closeInput()
        let rest = rpc.remainingLines()
        #expect(rpc.waitForExit() == 0)
        let basic = ["123456:\(password)", "123456:\(wrong)"].map { Data($0.utf8).base64EncodedString() }
        D.expectNoSecret(rest + [rpc.stderr] + (try recorded(base)), [password, saToken, direct, wrong] + basic)
    }

    /// Every fault of the data source is a typed error (-32006 with the PyroscopeError's kind), a cancelled slow
    /// query answers -32800 at once, and serve answers on.
    @Test func everyFaultIsATypedErrorAndServeServesOn() throws {
        let token = "tok_FAULT_SECRET_rpc"
        let server = try PyroscopeTestServer(["--token", token])
        let rpc = try RPCProcess(arguments: ["--pyroscope", server.baseURL], environment: D.environment(["TOKEN": token]))
        func fault(_ name: String) -> [String: Any] { ["pyroscope": query("{service_name=\"checkout\", __fault__=\"\(name)\"}")] }
        let cases: [(profile: [String: Any], kind: String, says: String)] = [
            (fault("401"), "unauthorized", "refused the credential"),
            (fault("403"), "unauthorized", "profiles:read"),
            (fault("notfound"), "notFound", "no Pyroscope query API"),
            (fault("html"), "malformedResponse", "text/html"),
            (fault("garbage"), "malformedResponse", "malformed"),
            (fault("500"), "server", "HTTP 500"),
            (fault("empty"), "emptyResult", "no samples"),
            (["pyroscope": query("{service_name=checkout}")], "invalidQuery", "invalid query"),
            (["pyroscope": query(D.checkout, type: "process_cpu:cycles:count:cpu:nanoseconds")], "unknownProfileType", "unknown profile type"),
            (["pyroscope": query(D.checkout, from: D.t1, to: D.t0)], "invalidQuery", "the time range is empty"),
        ]
        for (i, c) in cases.enumerated() { rpc.request(i + 1, "profile.top", ["profile": c.profile]) }
        for (i, c) in cases.enumerated() {
            let e = error(rpc, i + 1)
            #expect(e.code == -32006 && e.kind == c.kind && e.message.hasPrefix("profile.pyroscope: ") && e.message.contains(c.says), "\(c.kind): \(e)")
        }
        // The known types come with an unknown one.
        rpc.request(50, "profile.top", ["profile": ["pyroscope": query(D.checkout, type: "process_cpu:cycles:count:cpu:nanoseconds")]])
        let unknown = rpc.response(id: 50, timeout: 30)?["error"] as? [String: Any]
        #expect((unknown?["data"] as? [String: Any])?["knownProfileTypes"] as? [String] == D.typesInWindow)
        // A slow query, cancelled: answered at once.
        rpc.request(60, "profile.top", ["profile": fault("slow=20000")])
        usleep(300_000)
        let started = Date()
        rpc.notify("$/cancelRequest", ["id": 60])
        #expect(error(rpc, 60).code == -32800)
        #expect(Date().timeIntervalSince(started) < 5)
        // And serve answers on.
        rpc.request(70, "profile.top", ["profile": ["pyroscope": query(D.checkout)], "limit": 1])
        #expect(result(rpc, 70)["total"] as? Int == Int(try D.merged(D.checkoutFixtures).total))
        rpc.closeInput()
        let rest = rpc.remainingLines()
        #expect(rpc.waitForExit() == 0)
        D.expectNoSecret(rest + [rpc.stderr], [token])
    }
}
