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
        #expect(recorded == String(decoding: input, as: UTF8.self))
        #expect(answers == r.stdoutText)
        let replay = try runFlamegraphAI(["replay", base + ".requests.jsonl", "--expect", base + ".responses.jsonl"])
        #expect(replay.status == 0)
    }
}
