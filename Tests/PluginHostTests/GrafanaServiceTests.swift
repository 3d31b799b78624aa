import Foundation
import TestSupport
import Testing

/// CheckHealth, CallResource, QueryData and profile input rules, over the real executable.
@Suite(.serialized) struct GrafanaServiceTests {
    static let secret = "glsa_SUPERSECRET_token_5f2c"

    var pluginContext: [String: Any] {
        [
            "orgId": 1, "user": ["login": "admin"],
            "appInstanceSettings": [
                "jsonData": ["mode": "openai"], "decryptedSecureJsonData": ["apiKey": Self.secret, "token": Self.secret],
            ],
        ]
    }

    func body(_ response: [String: Any]?) throws -> [String: Any] {
        let result = response?["result"] as! [String: Any]
        let data = Data(base64Encoded: result["body"] as! String)!
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test func checkHealthRunsTheDecoderSelfTest() throws {
        let rpc = try RPCProcess()
        rpc.request(1, "checkHealth", ["pluginContext": pluginContext])
        let result = rpc.response(id: 1)?["result"] as? [String: Any]
        #expect(result?["status"] as? String == "OK")
        let details = result?["jsonDetails"] as? [String: Any]
        #expect((details?["decoder"] as? [String: Any])?["total"] as? Int == 1_310_000_000)
    }

    @Test(arguments: ["grafana-llm-app", "openai"])
    func checkHealthReportsTheGateway(_ mode: String) throws {
        let llm = try LLMTestServer(token: Self.secret)
        let rpc = try RPCProcess(arguments: ["--log-level", "trace"])
        func context(key: String) -> [String: Any] {
            ["orgId": 1, "appInstanceSettings": [
                "jsonData": ["llmMode": mode, "llmURL": llm.baseURL], "decryptedSecureJsonData": ["llmApiKey": key],
            ]]
        }
        rpc.request(1, "checkHealth", ["pluginContext": context(key: Self.secret)])
        let ok = rpc.response(id: 1)?["result"] as? [String: Any]
        let gateway = (ok?["jsonDetails"] as? [String: Any])?["llmGateway"] as? [String: Any]
        #expect(gateway?["configured"] as? Bool == true)
        #expect(gateway?["ok"] as? Bool == true)
        #expect(gateway?["latencyMs"] != nil)
        #expect(ok?["status"] as? String == "OK")
        // A wrong key: the server echoes it in its 401 body; it must not come back to us.
        let wrong = "sk-WRONG-key-\(mode)-1234"
        rpc.request(2, "checkHealth", ["pluginContext": context(key: wrong)])
        let bad = rpc.response(id: 2)?["result"] as? [String: Any]
        let badGateway = (bad?["jsonDetails"] as? [String: Any])?["llmGateway"] as? [String: Any]
        #expect(badGateway?["ok"] as? Bool == false)
        #expect((badGateway?["error"] as? String)?.contains("refused the credential") == true)
        rpc.closeInput()
        let rest = rpc.remainingLines().joined()
        #expect(rpc.waitForExit() == 0)
        let answer = try String(decoding: JSONSerialization.data(withJSONObject: bad ?? [:]), as: UTF8.self)
        for leaked in [wrong, Self.secret] {
            #expect(!answer.contains(leaked))
            #expect(!rest.contains(leaked))
            #expect(!rpc.stderr.contains(leaked))
        }
    }

    @Test func callResourceRoutes() throws {
        let rpc = try RPCProcess()
        let params: [String: Any] = ["profile": ["pprof": try base64Profile("go-cpu-fib.pb.gz")], "limit": 1]
        let encoded = try JSONSerialization.data(withJSONObject: params).base64EncodedString()
        rpc.request(1, "callResource", ["pluginContext": pluginContext, "path": "/top", "method": "POST", "url": "/top", "headers": [:], "body": encoded])
        let ok = rpc.response(id: 1)
        #expect((ok?["result"] as? [String: Any])?["status"] as? Int == 200)
        #expect(((try body(ok))["rows"] as? [[String: Any]])?.first?["name"] as? String == "math/big.addVV")

        rpc.request(2, "callResource", ["path": "/nowhere", "method": "POST", "body": encoded])
        #expect((rpc.response(id: 2)?["result"] as? [String: Any])?["status"] as? Int == 404)

        rpc.request(3, "callResource", ["path": "/flamegraph", "method": "GET"])
        let wrongMethod = rpc.response(id: 3)?["result"] as? [String: Any]
        #expect(wrongMethod?["status"] as? Int == 405)
        #expect((wrongMethod?["headers"] as? [String: Any])?["Allow"] as? [String] == ["POST"])

        let broken = try JSONSerialization.data(withJSONObject: ["profile": ["pprof": try base64Profile("broken-truncated-gzip.pb.gz")]]).base64EncodedString()
        rpc.request(4, "callResource", ["path": "/info", "method": "POST", "body": broken])
        let bad = rpc.response(id: 4)
        #expect((bad?["result"] as? [String: Any])?["status"] as? Int == 400)
        #expect((try body(bad))["kind"] as? String == "bad_profile")
    }

    @Test func explainOfflineOverRPCAndResource() throws {
        let rpc = try RPCProcess()
        let profile = ["pprof": try base64Profile("java-cpu-jfr-kafka.pb.gz")]
        rpc.request(1, "flamegraph.explain", ["profile": profile])
        let result = rpc.response(id: 1)?["result"] as? [String: Any]
        #expect(result?["source"] as? String == "offline")
        let sections = result?["sections"] as? [String: String]
        #expect(sections?["rootCause"]?.contains("regular-expression") == true)
        #expect((result?["markdown"] as? String)?.hasPrefix("##### Performance bottleneck") == true)
        let body = try JSONSerialization.data(withJSONObject: ["profile": profile]).base64EncodedString()
        rpc.request(2, "callResource", ["path": "/explain", "method": "POST", "body": body])
        #expect((rpc.response(id: 2)?["result"] as? [String: Any])?["status"] as? Int == 200)
    }

    @Test func queryDataReturnsFramesPerRefID() throws {
        let rpc = try RPCProcess()
        let profile = ["pprof": try base64Profile("go-cpu-fib.pb.gz")]
        rpc.request(1, "queryData", [
            "pluginContext": pluginContext,
            "queries": [
                ["refId": "A", "queryType": "flamegraph", "json": ["profile": profile, "maxNodes": 50]],
                ["refId": "B", "queryType": "top", "json": ["profile": profile, "limit": 3]],
                ["refId": "C", "queryType": "diff", "json": ["baseline": profile, "comparison": ["pprof": try base64Profile("go-cpu-benchmark.pb.gz")]]],
                ["refId": "D", "queryType": "flamegraph", "json": ["profile": ["pprof": "AAAA"]]],
            ],
        ])
        let results = (rpc.response(id: 1)?["result"] as? [String: Any])?["results"] as? [String: [String: Any]]
        let a = (results?["A"]?["frames"] as? [[String: Any]])?.first
        let fieldsA = ((a?["schema"] as? [String: Any])?["fields"] as? [[String: Any]])?.map { $0["name"] as! String }
        #expect(fieldsA == ["level", "value", "self", "label"])
        let b = (results?["B"]?["frames"] as? [[String: Any]])?.first
        let values = (b?["data"] as? [String: Any])?["values"] as? [[Any]]
        #expect(values?.first?.first as? String == "math/big.addVV")
        let c = (results?["C"]?["frames"] as? [[String: Any]])?.first
        let fieldsC = ((c?["schema"] as? [String: Any])?["fields"] as? [[String: Any]])?.map { $0["name"] as! String }
        #expect(fieldsC == ["level", "label", "value", "self", "valueRight", "selfRight"])
        #expect(results?["D"]?["status"] as? Int == 400)
        #expect(results?["D"]?["error"] != nil)
    }

    @Test func pathsOnlyInsideTheAllowedDirectory() throws {
        let dir = Fixtures.root.appendingPathComponent("profiles").path
        let open = try RPCProcess()
        open.request(1, "profile.info", ["profile": ["path": dir + "/go-cpu-fib.pb.gz"]])
        #expect(((open.response(id: 1)?["error"] as? [String: Any])?["message"] as? String)?.contains("--allow-dir") == true)

        let rpc = try RPCProcess(arguments: ["--allow-dir", dir])
        rpc.request(2, "profile.info", ["profile": ["path": dir + "/go-cpu-fib.pb.gz"]])
        #expect((rpc.response(id: 2)?["result"] as? [String: Any])?["samples"] as? Int == 120)
        rpc.request(3, "profile.info", ["profile": ["path": dir + "/../../Fixtures/profiles/../../../Package.swift"]])
        #expect((rpc.response(id: 3)?["error"] as? [String: Any])?["code"] as? Int == -32602)
        rpc.request(4, "profile.info", ["profile": ["path": "/etc/passwd"]])
        #expect(((rpc.response(id: 4)?["error"] as? [String: Any])?["message"] as? String)?.contains("outside the allowed directory") == true)
    }

    /// The secret sits where the gateway really reads it (`decryptedSecureJsonData.llmApiKey`), aimed at an LLM
    /// server that refuses it and echoes it back in its 401 body, and every path that can answer is walked:
    /// health, explanations (direct, through callResource, follow-up, diff), decode errors, bad params,
    /// unknown methods, with trace logging. The same secret is the Pyroscope data source's token, refused and
    /// echoed back by the Pyroscope test server: health, every method with a `{pyroscope}` source, listings.
    @Test func secretsNeverLeave() throws {
        let llm = try LLMTestServer(token: "another-token")
        let pyroscope = try PyroscopeTestServer(["--token", "another-token"])
        let context: [String: Any] = [
            "orgId": 1,
            "appInstanceSettings": [
                "jsonData": ["llmMode": "openai", "llmURL": llm.baseURL, "pyroscopeURL": pyroscope.baseURL],
                "decryptedSecureJsonData": ["llmApiKey": Self.secret, "pyroscopeToken": Self.secret],
            ],
        ]
        let rpc = try RPCProcess(arguments: ["--log-level", "trace"])
        let profile = try base64Profile("go-cpu-fib.pb.gz")
        rpc.request(1, "checkHealth", ["pluginContext": context])
        rpc.request(2, "profile.top", ["pluginContext": context, "profile": ["pprof": Self.secret]])
        rpc.request(3, "callResource", ["pluginContext": context, "path": "/top", "method": "POST", "body": Data("{\"profile\":{\"pprof\":\"\(Self.secret)\"}}".utf8).base64EncodedString()])
        rpc.request(4, "queryData", ["pluginContext": context, "queries": [["refId": "A", "json": ["profile": ["path": Self.secret]]]]])
        rpc.request(5, "profile.top", ["profile": ["pprof": 1], "sampleType": Self.secret])
        rpc.send("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"\(Self.secret.prefix(4))x\",\"params\":{\"k\":\"\(Self.secret)\"}}")
        rpc.request(7, "flamegraph.explain", ["pluginContext": context, "profile": ["pprof": profile]])
        rpc.request(8, "flamegraph.explain", ["pluginContext": context, "profile": ["pprof": profile], "stream": true])
        rpc.request(9, "callResource", ["pluginContext": context, "path": "/explain", "method": "POST", "body": Data("{\"profile\":{\"pprof\":\"\(profile)\"}}".utf8).base64EncodedString()])
        rpc.request(10, "flamegraph.explainDiff", ["pluginContext": context, "baseline": ["pprof": profile], "comparison": ["pprof": profile]])
        let first = rpc.response(id: 7)
        let conversation = (first?["result"] as? [String: Any])?["conversationId"] as? String ?? "none"
        #expect((first?["result"] as? [String: Any])?["source"] as? String == "offline")
        rpc.request(11, "explain.followUp", ["pluginContext": context, "conversationId": conversation, "question": "why is it slow?"])
        let query: [String: Any] = ["profileTypeID": "process_cpu:cpu:nanoseconds:cpu:nanoseconds", "from": 1_767_225_600_000, "to": 1_767_229_200_000]
        rpc.request(12, "profile.top", ["pluginContext": context, "profile": ["pyroscope": query]])
        rpc.request(13, "flamegraph.explainDiff", ["pluginContext": context, "comparison": ["pyroscope": query], "vs": "yesterday"])
        rpc.request(14, "pyroscope.labelNames", ["pluginContext": context])
        rpc.request(15, "queryData", ["pluginContext": context, "queries": [["refId": "A", "json": ["pyroscope": query]]]])
        rpc.closeInput()
        let output = rpc.remainingLines().joined(separator: "\n")
        #expect(rpc.waitForExit() == 0)
        #expect(!output.contains(Self.secret))
        #expect(!rpc.stderr.contains(Self.secret))
        // The refusal was real: the fallback says the gateway refused the credential.
        #expect(output.contains("unauthorized"))
        #expect(output.contains("\"id\":11"))
        #expect(output.contains("Pyroscope refused the credential: invalid credential: Bearer <redacted>"))
        #expect(output.contains("\"id\":15"))
    }
}
