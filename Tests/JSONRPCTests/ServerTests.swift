import Foundation
import JSONCore
import JSONRPC
import Testing

/// A handler that knows nothing of profiles: echo, a slow method, and a failing one.
struct EchoHandler: RPCHandler {
    func handle(_ method: String, _ params: JSONValue?, _ context: RequestContext) async throws(RPCError) -> JSONValue {
        switch method {
        case "echo": return params ?? .null
        case "progress":
            await context.progress(["stage": "half"])
            return "done"
        case "sleep":
            do { try await Task.sleep(for: .seconds(10)) } catch { throw .cancelled }
            return "slept"
        case "fail": throw .invalidParams("x", "is wrong")
        default: throw .methodNotFound(method)
        }
    }
}

/// The JSON-RPC library in process: framing, errors, batches, progress, cancellation per protocol.
@Suite struct ServerTests {
    @Test func requestsErrorsAndBatches() async throws {
        let c = LocalConnection(handler: EchoHandler())
        c.request(1, "echo", ["a": 1])
        #expect(await c.response(1)?["result"] == ["a": 1])
        c.request(2, "nope")
        #expect(await c.response(2)?["error"]?["code"] == .int(-32601))
        c.request(3, "fail")
        #expect(await c.response(3)?["error"]?["data"]?["parameter"] == "x")
        c.send("{not json")
        #expect(await c.nextMessage()?["error"]?["code"] == .int(-32700))
        c.send(#"[{"jsonrpc":"2.0","id":4,"method":"echo","params":[1]},{"jsonrpc":"2.0","id":5,"method":"nope"},{"jsonrpc":"1.0","id":6,"method":"echo"}]"#)
        let batch = await c.nextMessage()?.arrayValue ?? []
        #expect(batch.count == 3)
        #expect(batch.contains { $0["id"] == .int(4) && $0["result"] == [1] })
        #expect(batch.contains { $0["id"] == .int(6) && $0["error"]?["code"] == .int(-32600) })
        #expect(await c.close() == 0)
    }

    @Test func progressIsTiedToTheRequest() async throws {
        let c = LocalConnection(handler: EchoHandler())
        c.request(7, "progress")
        let note = await c.nextMessage()
        #expect(note?["method"] == "$/progress")
        #expect(note?["params"]?["id"] == .int(7))
        #expect(await c.response(7)?["result"] == "done")
        #expect(await c.close() == 0)
    }

    /// LSP style (`serve`): a cancelled request is answered -32800.
    @Test func cancelledRequestsAreAnsweredInLSPStyle() async throws {
        let c = LocalConnection(handler: EchoHandler())
        c.request(8, "sleep")
        try await Task.sleep(for: .milliseconds(100))
        c.notify("$/cancelRequest", ["id": 8])
        #expect(await c.response(8, timeout: 2)?["error"]?["code"] == .int(-32800))
        #expect(await c.close() == 0)
    }

    /// MCP style: `notifications/cancelled {requestId}` and no answer at all.
    @Test func cancelledRequestsGetNoAnswerInMCPStyle() async throws {
        var options = ServerOptions()
        options.cancelMethod = "notifications/cancelled"
        options.cancelIDKey = "requestId"
        options.answerCancelled = false
        options.lspLifecycle = false
        let c = LocalConnection(options: options, handler: EchoHandler())
        c.request(9, "sleep")
        try await Task.sleep(for: .milliseconds(100))
        c.notify("notifications/cancelled", ["requestId": 9, "reason": "user"])
        c.request(10, "echo", ["after"])
        let next = await c.nextMessage(timeout: 3)
        #expect(next?["id"] == .int(10), "the cancelled request must not be answered")
        #expect(await c.nextMessage(timeout: 0.5) == nil)
        #expect(await c.close() == 0)
    }

    @Test func overloadIsRefusedAtOnce() async throws {
        var options = ServerOptions()
        options.maxConcurrent = 1
        let c = LocalConnection(options: options, handler: EchoHandler())
        c.request(11, "sleep")
        c.request(12, "echo", [1])
        let refused = await c.response(12)
        #expect(refused?["error"]?["data"]?["kind"] == "overloaded", "\(String(describing: refused))")
        c.notify("$/cancelRequest", ["id": 11])
        #expect(await c.response(11)?["error"]?["code"] == .int(-32800))
        #expect(await c.close() == 0)
    }

    /// The framer holds at most the limit of one line, across chunk boundaries, and drops CR and blank lines.
    @Test func framingAcrossChunks() {
        var f = LineFramer(maxLineBytes: 8)
        func feed(_ s: String) -> [InputEvent] { Array(s.utf8).withUnsafeBytes { f.feed($0) } }
        var lines: [[UInt8]] = []
        var oversized: [Int] = []
        for e in feed("ab") + feed("c\r\n\n  \ndefghijklmn") + feed("op\nxy\n") {
            switch e {
            case .line(let l): lines.append(l)
            case .oversized(let n): oversized.append(n)
            case .end: break
            }
        }
        #expect(lines == [Array("abc".utf8), Array("xy".utf8)])
        #expect(oversized == [13])
    }

    /// The recorder's structural redaction: secure settings and credential headers, nothing else.
    @Test func recordingRedactsSecrets() {
        var found: Set<String> = []
        let value: JSONValue = [
            "params": [
                "pluginContext": ["appInstanceSettings": ["decryptedSecureJsonData": ["llmApiKey": "sk-1"], "jsonData": ["llmURL": "http://x"]]],
                "headers": ["Authorization": ["Bearer t"], "Accept": ["*/*"]],
            ]
        ]
        let clean = TrafficRecorder.redact(value, found: &found)
        #expect(found == ["sk-1", "Bearer t"])
        #expect(clean["params"]?["pluginContext"]?["appInstanceSettings"]?["jsonData"]?["llmURL"] == "http://x")
        #expect(clean["params"]?["headers"]?["Accept"] == ["*/*"])
        #expect(!String(decoding: clean.encoded(), as: UTF8.self).contains("sk-1"))
    }
}
