import Foundation
import TestSupport
import Testing

/// JSON-RPC 2.0 over the real executable's pipes.
@Suite(.serialized) struct ProtocolTests {
    func error(_ message: [String: Any]?) -> (code: Int, message: String, data: [String: Any]?)? {
        guard let e = message?["error"] as? [String: Any] else { return nil }
        return (e["code"] as! Int, e["message"] as! String, e["data"] as? [String: Any])
    }

    @Test func initializeListsMethodsAndLimits() throws {
        let rpc = try RPCProcess()
        rpc.request(1, "initialize")
        let result = rpc.response(id: 1)?["result"] as? [String: Any]
        #expect(result?["name"] as? String == "flamegraph-ai")
        #expect((result?["methods"] as? [String])?.contains("profile.flamegraph") == true)
        #expect((result?["limits"] as? [String: Any])?["maxLineBytes"] as? Int == 64 << 20)
    }

    @Test func everyErrorCode() throws {
        let rpc = try RPCProcess(arguments: ["--max-line-bytes", "4096"])
        rpc.send("{not json")
        #expect(error(rpc.next() as? [String: Any])?.code == -32700)
        rpc.send(#"{"jsonrpc":"1.0","id":3,"method":"initialize"}"#)
        let invalid = rpc.next() as? [String: Any]
        #expect(error(invalid)?.code == -32600)
        #expect(invalid?["id"] as? Int == 3)
        rpc.send("[]")
        #expect(error(rpc.next() as? [String: Any])?.code == -32600)
        rpc.request("m", "no.such.method")
        #expect(error(rpc.response(id: "m"))?.code == -32601)
        rpc.request(4, "profile.top", ["profile": ["pprof": 42]])
        let params = error(rpc.response(id: 4))
        #expect(params?.code == -32602)
        #expect(params?.message.contains("'profile.pprof'") == true)
        rpc.request(5, "debug.fail")
        #expect(error(rpc.response(id: 5))?.code == -32603)
        rpc.request(6, "profile.top", ["profile": ["pprof": try base64Profile("broken-truncated-gzip.pb.gz")]])
        let bad = error(rpc.response(id: 6))
        #expect(bad?.code == -32001)
        #expect(bad?.data?["kind"] as? String == "bad_profile")
        #expect((bad?.data?["detail"] as? String)?.contains("corrupt or truncated gzip") == true)
        rpc.request(7, "debug.sleep", ["ms": 20_000])
        rpc.notify("$/cancelRequest", ["id": 7])
        #expect(error(rpc.response(id: 7))?.code == -32800)
        rpc.send(String(repeating: "x", count: 10_000))
        let oversized = rpc.next() as? [String: Any]
        #expect(error(oversized)?.code == -32600)
        #expect(error(oversized)?.message.contains("exceeds the limit of 4096 bytes") == true)
        // ...and the server goes on.
        rpc.request(8, "initialize")
        #expect(rpc.response(id: 8)?["result"] != nil)
    }

    @Test func limitExceededAndOverloadedAreDomainErrors() throws {
        let rpc = try RPCProcess(arguments: ["--max-inflated-bytes", "1000", "--max-concurrent", "2"])
        rpc.request(1, "profile.top", ["profile": ["pprof": try base64Profile("go-cpu-fib.pb.gz")]])
        let limit = error(rpc.response(id: 1))
        #expect(limit?.code == -32002)
        #expect(limit?.data?["kind"] as? String == "limit_exceeded")
        rpc.request(2, "debug.sleep", ["ms": 1500])
        rpc.request(3, "debug.sleep", ["ms": 1500])
        rpc.request(4, "initialize")
        let overloaded = error(rpc.response(id: 4))
        #expect(overloaded?.code == -32004)
        #expect(overloaded?.data?["kind"] as? String == "overloaded")
        #expect(rpc.response(id: 2)?["result"] != nil)
        #expect(rpc.response(id: 3)?["result"] != nil)
    }

    @Test func aClientWithinTheBoundIsNeverRefused() throws {
        // A client that waits for an answer before sending more keeps at most `limit` in flight; the slot
        // must be free when the answer arrives, not a moment later.
        let rpc = try RPCProcess(arguments: ["--max-concurrent", "2"])
        rpc.request(0, "initialize")
        rpc.request(1, "initialize")
        var refused = 0
        for i in 2 ..< 400 {
            guard let answer = rpc.next() as? [String: Any] else { break }
            if answer["error"] != nil { refused += 1 }
            rpc.request(i, "initialize")
        }
        #expect(refused == 0)
    }

    @Test func idsMayBeStringsNumbersOrNull() throws {
        let rpc = try RPCProcess()
        rpc.send(#"{"jsonrpc":"2.0","id":null,"method":"initialize"}"#)
        let null = rpc.next() as? [String: Any]
        #expect(null?["id"] is NSNull)
        #expect(null?["result"] != nil)
        rpc.send(#"{"jsonrpc":"2.0","id":"abc","method":"initialize"}"#)
        #expect((rpc.next() as? [String: Any])?["id"] as? String == "abc")
        rpc.send(#"{"jsonrpc":"2.0","id":-17,"method":"initialize"}"#)
        #expect((rpc.next() as? [String: Any])?["id"] as? Int == -17)
    }

    @Test func batchesAndNotifications() throws {
        let rpc = try RPCProcess()
        let profile = try base64Profile("go-cpu-fib.pb.gz")
        let batch: [[String: Any]] = [
            ["jsonrpc": "2.0", "id": 1, "method": "profile.info", "params": ["profile": ["pprof": profile]]],
            ["jsonrpc": "2.0", "method": "initialize"],  // a notification: no answer
            ["jsonrpc": "2.0", "id": 2, "method": "nope"],
            ["bogus": true],
        ]
        rpc.send(String(decoding: try JSONSerialization.data(withJSONObject: batch), as: UTF8.self))
        let answer = rpc.next() as? [[String: Any]]
        #expect(answer?.count == 3)
        let ids = Set(answer?.compactMap { $0["id"] as? Int } ?? [])
        #expect(ids == [1, 2])
        // A batch of notifications only: no answer at all.
        rpc.send(#"[{"jsonrpc":"2.0","method":"initialize"}]"#)
        rpc.notify("initialize")
        rpc.request(9, "initialize")
        let next = rpc.next() as? [String: Any]
        #expect(next?["id"] as? Int == 9)
    }

    @Test func slowRequestsDoNotHoldBackFastOnes() throws {
        let rpc = try RPCProcess()
        rpc.request(1, "debug.sleep", ["ms": 1000])
        rpc.request(2, "profile.top", ["profile": ["pprof": try base64Profile("go-cpu-fib.pb.gz")]])
        let first = rpc.next() as? [String: Any]
        #expect(first?["id"] as? Int == 2)
        let second = rpc.next() as? [String: Any]
        #expect(second?["id"] as? Int == 1)
    }

    @Test func cancellationAnswersQuickly() throws {
        let rpc = try RPCProcess()
        rpc.request("slow", "debug.sleep", ["ms": 30_000])
        Thread.sleep(forTimeInterval: 0.1)
        let started = Date()
        rpc.notify("$/cancelRequest", ["id": "slow"])
        let answer = rpc.response(id: "slow", timeout: 5)
        #expect(error(answer)?.code == -32800)
        #expect(Date().timeIntervalSince(started) < 1)
    }

    @Test func endOfInputFinishesRequestsInFlight() throws {
        let rpc = try RPCProcess()
        rpc.request(1, "debug.sleep", ["ms": 500])
        rpc.closeInput()
        #expect(rpc.response(id: 1)?["result"] != nil)
        #expect(rpc.waitForExit() == 0)
    }

    @Test func sigtermFinishesRequestsInFlight() throws {
        let rpc = try RPCProcess()
        // Serving first (a loaded machine can take longer than the sleep below to start a process).
        rpc.request(0, "initialize")
        #expect(rpc.response(id: 0)?["result"] != nil)
        rpc.request(1, "debug.sleep", ["ms": 500])
        Thread.sleep(forTimeInterval: 0.2)
        rpc.process.terminate()
        #expect(rpc.response(id: 1)?["result"] != nil)
        #expect(rpc.waitForExit() == 0)
    }

    @Test func gracePeriodIsBounded() throws {
        let rpc = try RPCProcess(arguments: ["--grace-seconds", "0.5"])
        rpc.request(1, "debug.sleep", ["ms": 30_000])
        rpc.closeInput()
        let started = Date()
        #expect(error(rpc.response(id: 1))?.code == -32800)
        #expect(rpc.waitForExit() == 0)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func shutdownThenExit() throws {
        let rpc = try RPCProcess()
        rpc.request(1, "shutdown")
        #expect(rpc.response(id: 1).map { $0["result"] is NSNull } == true)
        rpc.request(2, "initialize")
        #expect(error(rpc.response(id: 2))?.code == -32600)
        rpc.notify("exit")
        #expect(rpc.waitForExit() == 0)
        let abrupt = try RPCProcess()
        abrupt.notify("exit")
        #expect(abrupt.waitForExit() == 1)
    }

    @Test func invalidUTF8IsAParseError() throws {
        let rpc = try RPCProcess()
        var bytes = Data(#"{"jsonrpc":"2.0","id":1,"method":"init"#.utf8)
        bytes.append(contentsOf: [0xff, 0xfe])
        bytes.append(contentsOf: Data("\"}\n".utf8))
        rpc.write(bytes)
        #expect(error(rpc.next() as? [String: Any])?.code == -32700)
        rpc.request(2, "initialize")
        #expect(rpc.response(id: 2)?["result"] != nil)
    }

    @Test func thousandPipelinedRequestsEachAnsweredOnce() throws {
        let rpc = try RPCProcess()
        var payload = Data()
        for i in 0 ..< 1000 {
            payload.append(contentsOf: Data("{\"jsonrpc\":\"2.0\",\"id\":\(i),\"method\":\"initialize\"}\n".utf8))
        }
        rpc.write(payload)
        rpc.closeInput()
        let lines = rpc.remainingLines()
        var seen: [Int: Int] = [:]
        for line in lines {
            let message = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            seen[message["id"] as! Int, default: 0] += 1
        }
        #expect(seen.count == 1000)
        #expect(seen.values.allSatisfy { $0 == 1 })
        #expect(rpc.waitForExit() == 0)
    }

    @Test func theResultCacheNeverChangesAnAnswer() throws {
        let cached = try RPCProcess()
        let cold = try RPCProcess(arguments: ["--cache-bytes", "0"])
        let fib = try base64Profile("go-cpu-fib.pb.gz")
        let params: [[String: Any]] = [
            ["profile": ["pprof": fib], "maxNodes": 20], ["profile": ["pprof": fib], "maxNodes": 20],
            ["profile": ["pprof": fib], "maxNodes": 21], ["profile": ["pprof": try base64Profile("go-cpu-benchmark.pb.gz")], "maxNodes": 20],
        ]
        var answers: [String] = []
        for (i, p) in params.enumerated() {
            cached.request(i, "profile.flamegraph", p)
            cold.request(i, "profile.flamegraph", p)
            let a = try JSONSerialization.data(withJSONObject: cached.response(id: i)!["result"]!, options: .sortedKeys)
            let b = try JSONSerialization.data(withJSONObject: cold.response(id: i)!["result"]!, options: .sortedKeys)
            #expect(a == b, "request \(i)")
            answers.append(String(decoding: a, as: UTF8.self))
        }
        #expect(answers[0] == answers[1])
        #expect(answers[0] != answers[2])
        #expect(answers[0] != answers[3])
    }

    @Test func progressNotificationsCarryTheRequestID() throws {
        let rpc = try RPCProcess()
        rpc.request("p1", "profile.top", ["profile": ["pprof": try base64Profile("go-cpu-fib.pb.gz")], "progress": true])
        let answer = rpc.response(id: "p1")
        #expect(answer?["result"] != nil)
        let progress = rpc.skipped.filter { $0["method"] as? String == "$/progress" }
        #expect(progress.count == 2)
        #expect(progress.allSatisfy { ($0["params"] as? [String: Any])?["id"] as? String == "p1" })
    }

    @Test func stdoutCarriesOnlyProtocolMessages() throws {
        let rpc = try RPCProcess(arguments: ["--log-level", "trace"])
        rpc.request(1, "profile.flamegraph", ["profile": ["pprof": try base64Profile("go-cpu-fib.pb.gz")]])
        rpc.send("garbage")
        rpc.closeInput()
        let lines = rpc.remainingLines()
        #expect(lines.count == 2)
        for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil) }
        #expect(rpc.waitForExit() == 0)
        #expect(rpc.stderr.contains("serving JSON-RPC on stdio"))
        // The allocator policy took effect before any thread: one malloc arena (see MallocPolicy).
        #expect(rpc.stderr.contains("malloc arenas: 1"))
    }
}

/// The host goes away: it closes its end of our stdout. SIGPIPE used to kill serve (status -13, nothing
/// logged); now the failed write is logged once, the work in flight is cancelled, and serve exits 0.
@Suite struct HostGoneTests {
    @Test func aHostThatClosesStdoutEndsServeCleanly() throws {
        let process = Process()
        process.executableURL = Fixtures.executable
        process.arguments = ["serve", "--test-methods"]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        try output.fileHandleForReading.close()  // the host stops listening
        let line = Data(#"{"jsonrpc":"2.0","id":1,"method":"debug.sleep","params":{"ms":50}}"#.utf8 + [0x0A])
        input.fileHandleForWriting.write(line)
        input.fileHandleForWriting.write(Data(#"{"jsonrpc":"2.0","id":2,"method":"debug.sleep","params":{"ms":30000}}"#.utf8 + [0x0A]))
        let started = Date()
        while process.isRunning && Date().timeIntervalSince(started) < 10 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!process.isRunning, "serve kept running after its stdout was closed")
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // One line says why, once (not once per failed write).
        #expect(log.split(separator: "\n").filter { $0.contains("EPIPE") }.count == 1, "\(log)")
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
