import Explain
import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

/// Real answers of a real OpenAI-compatible server (llama.cpp's llama-server with SmolLM2-135M-Instruct),
/// recorded by scripts/record-llm-answers into Tests/Fixtures/llm/recorded/ (see its README), run
/// through the gate: every recorded answer gets the verdict and the failing checks expected.tsv gives it,
/// and every answer that loops or has none of the template's titles is repaired or rejected with those
/// checks named.
@Suite struct RecordedAnswersTests {
    static let dir = QualitySubjects.llmFixtures.appendingPathComponent("recorded")

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var base: String
        var comparison: String
        var contextTokens: Int
        var answerTokens: Int
        var variant: String
        var description: String { name }
    }

    struct Expected: Sendable {
        var verdict: String
        var failed: [String]
        var modelSections: [String]
    }

    static func tsv(_ file: String) -> [[String]] {
        let text = (try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst()
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    static let cases: [Case] = tsv("cases.tsv").map {
        Case(name: $0[0], base: $0[1], comparison: $0[2], contextTokens: Int($0[3])!, answerTokens: Int($0[4])!, variant: $0[5])
    }

    /// expected.tsv: name, mode (json or sse), verdict, failed checks, sections kept from the model.
    static let expected: [String: Expected] = Dictionary(uniqueKeysWithValues: tsv("expected.tsv").map { f in
        func list(_ i: Int) -> [String] { i < f.count ? f[i].split(separator: ",").map(String.init) : [] }
        return ("\(f[0]).\(f[1])", Expected(verdict: f[2], failed: list(3), modelSections: list(4)))
    })

    /// A streamed answer as the server sent it: content deltas (one per token for llama-server), the last
    /// finish_reason, and usage when the server sent it.
    struct Stream {
        var deltas: [String] = []
        var finishReason: String?
        var completionTokens: Int?
        var done = false
    }

    static func parseSSE(_ bytes: Data) throws -> Stream {
        var s = Stream()
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        for event in text.components(separatedBy: "\n\n") {
            for line in event.split(separator: "\n") where line.hasPrefix("data:") {
                let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
                if payload == "[DONE]" {
                    s.done = true
                    continue
                }
                let chunk = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any])
                if let choice = (chunk["choices"] as? [[String: Any]])?.first {
                    if let content = (choice["delta"] as? [String: Any])?["content"] as? String, !content.isEmpty { s.deltas.append(content) }
                    if let reason = choice["finish_reason"] as? String { s.finishReason = reason }
                }
                if let usage = chunk["usage"] as? [String: Any] { s.completionTokens = usage["completion_tokens"] as? Int }
            }
        }
        return s
    }

    static func context(_ c: Case, promptText: String) throws -> QualityContext {
        let budget = TokenBudget(contextTokens: c.contextTokens, answerTokens: c.answerTokens)
        let variant: PromptTemplate.Variant = c.variant == "compact" ? .compact : .standard
        // A retry case ("strict:CHECKS") was asked with the retry prompt after an answer that failed CHECKS.
        let retryAfter: QualityVerdict? = c.variant.hasPrefix("strict:")
            ? QualityVerdict(verdict: .reject, checks: c.variant.dropFirst(7).split(separator: ",").map { QualityCheck(name: String($0), passed: false, detail: "") }, sections: [:])
            : nil
        let root = Fixtures.packageRoot
        var context: QualityContext
        if c.comparison.isEmpty {
            let a = try CompactPromptTests.analysis(root.appendingPathComponent(c.base))
            let prompt = try retryAfter.map { try PromptBuilder.retry(a, after: $0, budget: budget) }
                ?? PromptBuilder.explain(a, budget: budget, template: try PromptTemplate.load(.explain, variant: variant))
            context = QualityContext.explain(a, prompt: prompt)
        } else {
            let d = try CompactPromptTests.diff(root.appendingPathComponent(c.base), root.appendingPathComponent(c.comparison))
            let prompt = try retryAfter.map { try PromptBuilder.retry(d, after: $0, budget: budget) }
                ?? PromptBuilder.diff(d, budget: budget, template: try PromptTemplate.load(.diff, variant: variant))
            context = QualityContext.diff(d, prompt: prompt)
        }
        // The prompt as it was sent (a later template change does not change what the model saw).
        context.promptText = promptText
        return context
    }

    static func sentPrompt(_ name: String) throws -> String {
        let request = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("\(name).request.json"))) as? [String: Any])
        let messages = try #require(request["messages"] as? [[String: Any]])
        return messages.compactMap { $0["content"] as? String }.joined(separator: "\n")
    }

    /// Independent of the gate: a sentence of 5+ words written 3 times, or none of the titles anywhere.
    static func obviouslyBroken(_ text: String, _ context: QualityContext) -> (loops: Bool, noTitles: Bool) {
        var counts: [String: Int] = [:]
        for s in text.lowercased().split(whereSeparator: { ".!?\n".contains($0) }) {
            let key = s.split(separator: " ").joined(separator: " ")
            if key.split(separator: " ").count >= 5 { counts[key, default: 0] += 1 }
        }
        let lower = text.lowercased()
        let noTitles = !context.sectionTitles.contains { lower.contains($0.title.lowercased()) }
        return (counts.values.contains { $0 >= 3 }, noTitles)
    }

    @Test func thereAreRecordingsOfEveryKind() {
        #expect(Self.cases.count >= 6)
        #expect(Self.cases.contains { !$0.comparison.isEmpty })
        #expect(Self.cases.contains { $0.variant == "compact" } && Self.cases.contains { $0.variant == "standard" })
        #expect(Self.cases.contains { $0.variant.hasPrefix("strict:") })
        for c in Self.cases {
            #expect(Self.expected["\(c.name).json"] != nil, "\(c.name).json")
            #expect(Self.expected["\(c.name).sse"] != nil, "\(c.name).sse")
        }
    }

    @Test(arguments: cases)
    func nonStreamedAnswers(_ c: Case) throws {
        let body = try Data(contentsOf: Self.dir.appendingPathComponent("\(c.name).response.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let choice = try #require((json["choices"] as? [[String: Any]])?.first)
        let content = try #require((choice["message"] as? [String: Any])?["content"] as? String)
        let finish = choice["finish_reason"] as? String
        let context = try Self.context(c, promptText: try Self.sentPrompt(c.name))
        let gated = AnswerQuality.evaluate(content, finishReason: finish, context: context)
        let kept = gated.quality.sections.values.filter { $0 == .model }.count
        print("recorded \(c.name).json: \(gated.quality.verdict.rawValue), failed \(gated.quality.failedChecks), sections from the model \(kept)/\(gated.quality.sections.count), finish_reason \(finish ?? "-")")
        try check(gated, key: "\(c.name).json", text: content, context: context)
    }

    @Test(arguments: cases)
    func streamedAnswersThroughTheMonitor(_ c: Case) throws {
        let stream = try Self.parseSSE(try Data(contentsOf: Self.dir.appendingPathComponent("\(c.name).sse")))
        #expect(stream.done, "the stream ends with [DONE]")
        var monitor = StreamQualityMonitor()
        var used = 0
        for delta in stream.deltas {
            used += 1
            if case .stop = monitor.feed(delta) { break }
        }
        let context = try Self.context(c, promptText: try Self.sentPrompt(c.name))
        let gated = monitor.finish(finishReason: monitor.stoppedBy == nil ? stream.finishReason : nil, context: context)
        let kept = gated.quality.sections.values.filter { $0 == .model }.count
        defer { try? check(gated, key: "\(c.name).sse", text: stream.deltas.joined(), context: context) }
        print("recorded \(c.name).sse: \(gated.quality.verdict.rawValue), failed \(gated.quality.failedChecks), sections from the model \(kept)/\(gated.quality.sections.count), tokens \(stream.deltas.count) (usage \(stream.completionTokens.map(String.init) ?? "-")), stopped after \(used), saved \(stream.deltas.count - used)")
        if monitor.stoppedBy != nil { #expect(used < stream.deltas.count) }
    }

    func check(_ gated: GatedAnswer, key: String, text: String, context: QualityContext) throws {
        let expected = try #require(Self.expected[key], "no expectation for \(key)")
        #expect(gated.quality.verdict.rawValue == expected.verdict, "\(key): \(gated.quality.checks.filter { !$0.passed })")
        #expect(gated.quality.failedChecks == AnswerQuality.checkNames.filter { expected.failed.contains($0) }, "\(key): \(gated.quality.checks.filter { !$0.passed })")
        #expect(gated.quality.sections.filter { $0.value == .model }.map(\.key).sorted() == expected.modelSections.sorted(), "\(key)")
        let broken = Self.obviouslyBroken(text, context)
        if broken.loops {
            #expect(gated.quality.verdict != .accept && gated.quality.failedChecks.contains("repetition"), "\(key) loops")
        }
        if broken.noTitles {
            #expect(gated.quality.verdict != .accept && gated.quality.failedChecks.contains("sections"), "\(key) has no titles")
        }
    }
}
