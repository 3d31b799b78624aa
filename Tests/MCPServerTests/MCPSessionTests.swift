import Foundation
import JSONCore
import MCPServer
import TestSupport
import Testing

/// The built executable's `mcp` command, driven over its pipes as an MCP client drives it.
@Suite(.serialized) struct MCPSessionTests {
    static func initialize(_ version: String = "2025-11-25") -> JSONValue {
        ["protocolVersion": .string(version), "capabilities": [:], "clientInfo": ["name": "swift-test", "version": "1"]]
    }

    static let allTools: Set<String> = [
        "profile_info", "top_functions", "hot_paths", "flame_graph", "diff_profiles", "explain_profile", "explain_diff",
        "explain_follow_up", "debug_sleep",
    ]

    /// Checks a successful tool result against the tool's listing: text content, structured content valid
    /// under the output schema, and both within the budget (the stated default when none was given).
    func validate(_ result: JSONValue?, _ tool: JSONValue, _ arguments: JSONValue, _ what: String) {
        guard let result else {
            Issue.record("\(what): no answer")
            return
        }
        #expect(result["isError"] == false, "\(what): \(result["content"]?.arrayValue?.first?["text"]?.stringValue ?? "")")
        let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(result["content"]?.arrayValue?.first?["type"] == "text", "\(what)")
        guard let structured = result["structuredContent"] else {
            Issue.record("\(what): no structured content")
            return
        }
        let problems = SchemaValidator.validate(structured, against: tool["outputSchema"] ?? .null)
        #expect(problems.isEmpty, "\(what): \(problems)")
        let budget = Int(arguments["maxOutputTokens"]?.intValue ?? tool["inputSchema"]?["properties"]?["maxOutputTokens"]?["default"]?.intValue ?? 0)
        let bound = Int(structured["budget"]?["tokenBound"]?.intValue ?? .max)
        #expect(budget > 0 && bound <= budget && text.utf8.count <= budget, "\(what): \(bound) / \(text.utf8.count) over \(budget)")
        #expect(structured.encoded().count <= budget + 64, "\(what): structured content over the budget \(budget)")
    }

    /// initialize → tools/list → every tool → cancel a slow call → end of input; every result validated.
    @Test func aWholeSession() async throws {
        let p = try MCPProcess(["--allow-dir", Fixtures.root.path, "--test-methods"])
        let initialized = await p.call(1, "initialize", Self.initialize())?["result"]
        #expect(initialized?["protocolVersion"] == "2025-11-25")
        #expect(initialized?["serverInfo"]?["name"] == "flamegraph-ai")
        #expect(initialized?["capabilities"]?["tools"] != nil)
        #expect(initialized?["instructions"]?.stringValue?.contains(Fixtures.root.path) == true)
        p.notify("notifications/initialized")
        #expect(await p.call(2, "ping")?["result"] == [:])

        let listed = await p.call(3, "tools/list")?["result"]?["tools"]?.arrayValue ?? []
        var tools: [String: JSONValue] = [:]
        for t in listed { tools[t["name"]?.stringValue ?? ""] = t }
        #expect(Set(tools.keys) == Self.allTools)
        for t in listed {
            #expect(t["inputSchema"]?["type"] == "object" && t["outputSchema"]?["type"] == "object" && t["title"] != nil)
            #expect(t["annotations"]?["readOnlyHint"] == true)
        }

        let fib: JSONValue = ["path": "profiles/go-cpu-fib.pb.gz"]
        let regex: JSONValue = ["path": "interpret/regex-compile-in-loop.pb.gz"]
        let sides: [String: JSONValue] = ["baseline": ["path": "interpret/service-base.pb.gz"], "comparison": ["path": "interpret/service-regex.pb.gz"]]
        let calls: [(String, JSONValue)] = [
            ("profile_info", ["profile": fib]),
            ("top_functions", ["profile": fib, "limit": 5, "sampleType": "1"]),
            ("top_functions", ["profile": fib, "key": "function+line", "limit": 300, "maxOutputTokens": 800]),
            ("hot_paths", ["profile": fib]),
            ("hot_paths", ["profile": ["path": "profiles/go-cpu-large.pb.gz"], "maxPaths": 500, "maxOutputTokens": 1000]),
            ("hot_paths", ["profile": fib, "maxOutputTokens": 600, "key": "function+line", "maxFrames": 4]),
            ("flame_graph", ["profile": fib, "maxNodes": 30]),
            ("flame_graph", ["profile": ["path": "profiles/go-cpu-large.pb.gz"], "maxNodes": 3000, "maxOutputTokens": 5000]),
            ("diff_profiles", .object(sides.merging(["limit": 3]) { a, _ in a })),
            ("explain_profile", ["profile": regex]),
            ("explain_profile", ["profile": regex, "maxOutputTokens": 1000]),
            ("explain_diff", .object(sides)),
            ("debug_sleep", ["ms": 1]),
            ("top_functions", ["profile": ["data": .string(Data("main;work;hot 7\nmain;other 3\n".utf8).base64EncodedString()), "encoding": "folded"]]),
        ]
        var results: [String: JSONValue] = [:]
        for (i, (name, arguments)) in calls.enumerated() {
            let problems = SchemaValidator.validate(arguments, against: tools[name]?["inputSchema"] ?? .null)
            #expect(problems.isEmpty, "test arguments for \(name): \(problems)")
            let result = await p.tool(100 + i, name, arguments)
            validate(result, tools[name] ?? .null, arguments, "\(name) \(arguments)")
            if results[name] == nil { results[name] = result }
            if arguments["profile"]?["encoding"] == "folded" {
                #expect(result?["structuredContent"]?["rows"]?.arrayValue?.first?["name"] == "hot", "another input format")
            }
        }
        // The answers say what the profile says.
        let oracle = try Fixtures.referenceRows().first { $0.file == "go-cpu-fib.pb.gz" && $0.sampleTypeIndex == 1 }
        let top = results["top_functions"]?["structuredContent"]
        #expect(top?["rows"]?.arrayValue?.first?["name"]?.stringValue == oracle?.topFunction)
        #expect(top?["rows"]?.arrayValue?.first?["flat"]?.intValue == oracle?.topValue)
        #expect(top?["total"]?.intValue == oracle?.total)
        let explained = results["explain_profile"]
        #expect(explained?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("main.matchWithFreshRegexp") == true)
        #expect(explained?["structuredContent"]?["analysis"]?["culprit"] == "main.matchWithFreshRegexp")
        #expect(explained?["structuredContent"]?["quality"]?["grounded"] == true)
        #expect(results["explain_diff"]?["structuredContent"]?["analysis"]?["culprit"] == "main.parseRequest")
        #expect(results["hot_paths"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("> math/big.addVV") == true)
        let conversation = explained?["structuredContent"]?["conversationId"] ?? ""
        let followUp: JSONValue = ["conversationId": conversation, "question": "What should I change first?"]
        validate(await p.tool(200, "explain_follow_up", followUp), tools["explain_follow_up"] ?? .null, followUp, "explain_follow_up")

        // Progress: only with a token, increasing, all before the answer.
        let progressed = await p.tool(300, "hot_paths", ["profile": fib], meta: ["progressToken": "tok-1"])
        #expect(progressed?["isError"] == false)
        let events = p.notifications("notifications/progress")
        #expect(events.count >= 4)
        #expect(events.allSatisfy { $0["params"]?["progressToken"] == "tok-1" && $0["params"]?["message"]?.stringValue != nil })
        let values = events.compactMap { $0["params"]?["progress"] }.map { v -> Double in if case .double(let d) = v { d } else { Double(v.intValue ?? 0) } }
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 < $1 })
        let lines = p.lines
        let answerLine = lines.lastIndex { $0.contains("\"id\":300") } ?? -1
        let lastProgress = lines.lastIndex { $0.contains("tok-1") } ?? .max
        #expect(lastProgress < answerLine)
        _ = await p.tool(301, "debug_sleep", ["ms": 1])
        #expect(p.notifications("notifications/progress").isEmpty)

        // Cancellation: the slow call stops, gets no answer, and the server goes on.
        p.request(400, "tools/call", ["name": "debug_sleep", "arguments": ["ms": 30_000], "_meta": ["progressToken": 9]])
        try await Task.sleep(for: .milliseconds(300))
        p.notify("notifications/cancelled", ["requestId": 400, "reason": "test"])
        let started = Date()
        #expect(await p.call(401, "ping", timeout: 10)?["result"] == [:])
        validate(await p.tool(402, "debug_sleep", ["ms": 5]), tools["debug_sleep"] ?? .null, ["ms": 5], "after cancel")
        #expect(await p.response(400, timeout: 1) == nil)
        #expect(Date().timeIntervalSince(started) < 25, "the cancelled 30 s call held the server")

        // End of input: the process exits 0 and stdout held nothing but JSON-RPC messages.
        p.closeInput()
        #expect(await p.waitForExit() == 0)
        #expect(await p.response(400, timeout: 0.1) == nil)
        for line in p.lines {
            let m = try? JSONParser.parse(Array(line.utf8))
            #expect(m?["jsonrpc"] == "2.0", "not a JSON-RPC message on stdout: \(line.prefix(200))")
        }
    }

    /// A CPU-bound call (decoding and analysing a 1.2 MB profile) cancelled in flight gets no answer, and the
    /// server says so in its log.
    @Test func aCPUBoundCallIsCancelled() async throws {
        let p = try MCPProcess(["--allow-dir", Fixtures.root.path, "--log-level", "debug"])
        #expect(await p.call(1, "initialize", Self.initialize())?["result"] != nil)
        p.request(2, "tools/call", ["name": "explain_profile", "arguments": ["profile": ["path": "profiles/go-cpu-large.pb.gz"]]])
        try await Task.sleep(for: .milliseconds(100))
        p.notify("notifications/cancelled", ["requestId": 2, "reason": "test"])
        #expect(await p.tool(3, "profile_info", ["profile": ["path": "profiles/go-cpu-fib.pb.gz"]])?["isError"] == false)
        #expect(await p.response(2, timeout: 3) == nil)
        p.closeInput()
        #expect(await p.waitForExit() == 0)
        #expect(p.stderr.contains("code=-32800"), "the call was not cancelled in flight: \(p.stderr.suffix(500))")
    }

    /// Malformed calls are JSON-RPC errors; hostile arguments are isError results; the server keeps serving.
    @Test func hostileCallsAndArguments() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(Fixtures.bytes("go-cpu-fib.pb.gz")).write(to: dir.appendingPathComponent("inside.pb.gz"))
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("escape").path, withDestinationPath: "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("escape-dir").path, withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(
            atPath: dir.appendingPathComponent("outside.pb.gz").path, withDestinationPath: Fixtures.profile("go-cpu-fib.pb.gz").path)
        let p = try MCPProcess(["--allow-dir", dir.path, "--max-line-bytes", "1048576", "--max-inflated-bytes", "1000000"])

        // Before initialize, tools are refused; a bad initialize is an error too.
        #expect(await p.call(1, "tools/list")?["error"]?["code"] == -32600)
        #expect(await p.call(2, "initialize", ["capabilities": [:]])?["error"]?["code"] == -32602)
        #expect(await p.call(3, "initialize", Self.initialize())?["result"]?["protocolVersion"] == "2025-11-25")
        #expect(await p.call(4, "initialize", Self.initialize())?["error"]?["code"] == -32600)
        p.notify("notifications/initialized")

        // Malformed calls: JSON-RPC errors.
        p.write(Array("{not json\n".utf8))
        #expect(await p.wait(timeout: 10) { $0["error"]?["code"] == -32700 }?["id"] == .null)
        #expect(await p.call(10, "tools/call", ["arguments": [:]])?["error"]?["code"] == -32602)
        let unknown = await p.call(11, "tools/call", ["name": "rm_rf", "arguments": [:]])?["error"]
        #expect(unknown?["code"] == -32602 && unknown?["message"] == "Unknown tool: rm_rf")
        #expect(await p.call(12, "tools/call", ["name": "profile_info", "arguments": [1, 2]])?["error"]?["code"] == -32602)
        #expect(await p.call(13, "tools/call", .array([1]))?["error"]?["code"] == -32602)
        #expect(await p.call(14, "resources/list")?["error"]?["code"] == -32601)
        // A message over --max-line-bytes is skipped without being buffered.
        p.write(Array("{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"tools/call\",\"params\":{\"name\":\"profile_info\",\"arguments\":{\"profile\":{\"pprof\":\"".utf8)
            + [UInt8](repeating: 0x41, count: 2 << 20) + Array("\"}}}}\n".utf8))
        #expect(await p.wait(timeout: 20) { $0["error"]?["code"] == -32600 && $0["id"] == .null } != nil)

        // Hostile arguments: results with isError and a message that says what is wrong.
        let bomb = try gzipBomb()
        let hostile: [(String, JSONValue, String)] = [
            ("profile_info", ["profile": ["path": "/etc/passwd"]], "outside the allowed directory"),
            ("profile_info", ["profile": ["path": "../../../../etc/passwd"]], "outside the allowed directory"),
            ("profile_info", ["profile": ["path": "escape"]], "outside the allowed directory"),
            ("profile_info", ["profile": ["path": "escape-dir/passwd"]], "outside the allowed directory"),
            ("profile_info", ["profile": ["path": "outside.pb.gz"]], "outside the allowed directory"),
            ("profile_info", ["profile": ["path": "."]], "not a regular file"),
            ("profile_info", ["profile": ["pprof": .string(String(repeating: "QUJD", count: 200_000))]], "bad_profile"),
            ("profile_info", ["profile": ["pprof": .string(bomb)]], "limit_exceeded"),
            ("profile_info", ["profile": ["pprof": "%%%"]], "not valid base64"),
            ("profile_info", ["profile": [:]], "exactly one of: data, path, pprof"),
            ("profile_info", ["profile": ["path": "inside.pb.gz", "pprof": "AAAA"]], "exactly one of"),
            ("profile_info", ["profile": ["path": "inside.pb.gz", "encoding": "jpeg"]], "must be one of"),
            ("profile_info", ["profile": "inside.pb.gz"], "must be an object"),
            ("profile_info", [:], "'profile' is required"),
            ("top_functions", ["profile": ["path": "inside.pb.gz"], "limit": "ten"], "must be an integer"),
            ("top_functions", ["profile": ["path": "inside.pb.gz"], "limit": -1], "at least 1"),
            ("top_functions", ["profile": ["path": "inside.pb.gz"], "key": "address"], "must be one of"),
            ("top_functions", ["profile": ["path": "inside.pb.gz"], "focus": "(a"], "invalid regular expression"),
            ("top_functions", ["profile": ["path": "inside.pb.gz"], "format": "svg"], "not a known property"),
            ("flame_graph", ["profile": ["path": "inside.pb.gz"], "maxNodes": 1_000_000], "at most 10000"),
            ("hot_paths", ["profile": ["path": "inside.pb.gz"], "maxOutputTokens": 10], "at least 600"),
            ("diff_profiles", ["baseline": ["path": "inside.pb.gz"]], "'comparison' is required"),
            ("explain_follow_up", ["conversationId": "nope", "question": "why?"], "unknown_conversation"),
            ("explain_follow_up", ["conversationId": "x", "question": .string(String(repeating: "?", count: 4001))], "at most 4000"),
        ]
        for (i, (name, arguments, says)) in hostile.enumerated() {
            let result = await p.tool(100 + i, name, arguments)
            let text = result?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            #expect(result?["isError"] == true && text.contains(says), "\(name) \(String(describing: arguments).prefix(80)): \(text)")
            #expect(result?["structuredContent"] == nil)
            #expect(!text.contains("root:"), "the file's content leaked")
        }
        // Still serving, by path inside and by base64.
        #expect(await p.tool(200, "profile_info", ["profile": ["path": "inside.pb.gz"]])?["isError"] == false)
        let b64 = Data(try Fixtures.bytes("go-cpu-fib.pb.gz")).base64EncodedString()
        #expect(await p.tool(201, "top_functions", ["profile": ["pprof": .string(b64)], "limit": 1])?["isError"] == false)
        p.closeInput()
        #expect(await p.waitForExit() == 0)
    }

    /// A gzip stream that inflates to 8 MiB of zeros, as base64.
    func gzipBomb() throws -> String {
        let bomb = gzip([UInt8](repeating: 0, count: 8 << 20))
        return Data(bomb).base64EncodedString()
    }

    /// Older revisions: the server answers with the client's version and leaves out what it lacks.
    @Test func negotiatesDownAndLeavesOutWhatOlderRevisionsLack() async throws {
        for (asked, expected) in [
            ("2025-06-18", "2025-06-18"), ("2025-03-26", "2025-03-26"), ("2024-11-05", "2024-11-05"), ("2099-01-01", "2025-11-25"),
        ] {
            let p = try MCPProcess(["--allow-dir", Fixtures.root.path])
            #expect(await p.call(1, "initialize", Self.initialize(asked))?["result"]?["protocolVersion"] == .string(expected))
            p.notify("notifications/initialized")
            let tools = await p.call(2, "tools/list")?["result"]?["tools"]?.arrayValue ?? []
            let structured = MCPVersion.hasStructuredOutput(expected)
            #expect(tools.count == 8, "debug_sleep only with --test-methods")
            #expect(tools.allSatisfy { ($0["outputSchema"] != nil) == structured && ($0["title"] != nil) == structured }, "\(asked)")
            #expect(tools.allSatisfy { ($0["annotations"] != nil) == (expected >= "2025-03-26") }, "\(asked)")
            let result = await p.tool(3, "top_functions", ["profile": ["path": "profiles/go-cpu-fib.pb.gz"], "limit": 1])
            #expect((result?["structuredContent"] != nil) == structured, "\(asked)")
            #expect(result?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("math/big.addVV") == true)
            p.closeInput()
            #expect(await p.waitForExit() == 0)
        }
    }
}
