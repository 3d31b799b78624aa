import Foundation
import TestSupport
import Testing

@Suite struct ReplayTests {
    let requests = Fixtures.root.appendingPathComponent("replay/session.jsonl").path
    let expected = Fixtures.root.appendingPathComponent("replay/session.expected.jsonl").path

    @Test func recordedSessionReplaysIdentically() throws {
        let r = try runFlamegraphAI(["replay", requests, "--expect", expected])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("all 16 answers match"))
    }

    @Test func aChangedAnswerFailsTheReplay() throws {
        let original = try String(contentsOfFile: expected, encoding: .utf8)
        let tampered = original.replacingOccurrences(of: "\"total\":1310000000", with: "\"total\":1310000001")
        #expect(tampered != original)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tampered-\(UUID()).jsonl")
        try tampered.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let r = try runFlamegraphAI(["replay", requests, "--expect", url.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("differs"))
    }

    @Test func serveRecordsWhatReplayReads() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rec-\(UUID())").path
        let input = Data("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}\n".utf8)
        let r = try runFlamegraphAI(["serve", "--record", base], stdin: input)
        #expect(r.status == 0)
        let recorded = try String(contentsOfFile: base + ".requests.jsonl", encoding: .utf8)
        let answers = try String(contentsOfFile: base + ".responses.jsonl", encoding: .utf8)
        #expect(try JSONSerialization.jsonObject(with: Data(recorded.utf8)) as? NSDictionary
            == JSONSerialization.jsonObject(with: input) as? NSDictionary)
        #expect(answers == r.stdoutText)
        let replay = try runFlamegraphAI(["replay", base + ".requests.jsonl", "--expect", base + ".responses.jsonl"])
        #expect(replay.status == 0)
    }

    /// `--record` writes no secret: Grafana's secure settings, credential headers and any line that echoes
    /// them are redacted, and both files are readable by their owner only.
    @Test func recordingsHoldNoSecretsAndArePrivate() throws {
        let secret = "sk-record-\(UUID().uuidString)"
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rec-\(UUID())").path
        // An old world-readable file at the same path must not keep its mode.
        FileManager.default.createFile(atPath: base + ".requests.jsonl", contents: Data(), attributes: [.posixPermissions: 0o644])
        let context: [String: Any] = [
            "appInstanceSettings": [
                "jsonData": ["llmURL": "http://127.0.0.1:9", "llmMode": "openai", "pyroscopeURL": "http://127.0.0.1:9", "pyroscopeUser": "u"],
                "decryptedSecureJsonData": ["llmApiKey": secret, "other": secret + "-2", "pyroscopePassword": secret + "-3"],
            ]
        ]
        let lines: [[String: Any]] = [
            ["jsonrpc": "2.0", "id": 1, "method": "checkHealth", "params": ["pluginContext": context]],
            ["jsonrpc": "2.0", "id": 2, "method": "callResource", "params": [
                "pluginContext": context, "path": "/nope", "method": "GET",
                "headers": ["Authorization": ["Bearer " + secret], "X-Grafana-Org-Id": ["1"]],
            ]],
            ["jsonrpc": "2.0", "id": 3, "method": "profile.top", "params": [
                "pluginContext": context, "profile": ["pyroscope": ["profileTypeID": "process_cpu:cpu:nanoseconds:cpu:nanoseconds"]],
            ]],
        ]
        var input = Data()
        for line in lines {
            input.append(try JSONSerialization.data(withJSONObject: line))
            input.append(0x0A)
        }
        // A line that does not parse but repeats the key seen earlier.
        input.append(Data("{\"broken\": \"\(secret)\"\n".utf8))
        let r = try runFlamegraphAI(["serve", "--record", base, "--log-level", "trace"], stdin: input)
        #expect(r.status == 0)
        for suffix in [".requests.jsonl", ".responses.jsonl"] {
            let text = try String(contentsOfFile: base + suffix, encoding: .utf8)
            #expect(!text.contains(secret), "\(suffix) holds the secret")
            #expect(!text.contains(Data("u:\(secret)-3".utf8).base64EncodedString()), "\(suffix) holds the basic credential")
            let mode = try FileManager.default.attributesOfItem(atPath: base + suffix)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(suffix) has mode \(String(mode ?? 0, radix: 8))")
        }
        let recorded = try String(contentsOfFile: base + ".requests.jsonl", encoding: .utf8)
        #expect(recorded.contains("<redacted>"))
        #expect(recorded.contains("X-Grafana-Org-Id"))
        #expect(recorded.split(separator: "\n").count == 4)
        #expect(!r.stderr.contains(secret))
    }
}
