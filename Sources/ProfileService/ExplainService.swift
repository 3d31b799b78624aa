import Explain
import FlameDiff
import Foundation
import JSONCore
import JSONRPC
import LLMGateway
import ProtoPprof

/// What is explained: one profile's analysis, or a diff's.
public enum ExplainSubject: Sendable {
    case profile(Analysis)
    case diff(DiffExplanation)

    /// Every percentage the analysis computed: what the offline text's numbers are checked against.
    var statedNumbers: [Double] {
        switch self {
        case .profile(let a): return a.statedNumbers
        case .diff(let d): return d.statedNumbers
        }
    }

    /// The offline explanation: its sections by key, and the same as Markdown.
    public var offline: (sections: [String: String], markdown: String) {
        switch self {
        case .profile(let a):
            let e = Explanation(a)
            return (["bottleneck": e.bottleneck, "rootCause": e.rootCause, "fix": e.fix], e.markdown)
        case .diff(let d):
            return (
                ["performanceChange": d.performanceChange, "functionImpact": d.functionImpact, "potentialCauses": d.potentialCauses],
                d.markdown)
        }
    }

    var functions: Set<String> {
        switch self {
        case .profile(let a): return a.functionNames
        case .diff(let d): return d.functionNames
        }
    }

    var files: Set<String> {
        switch self {
        case .profile(let a): return a.fileNames
        case .diff: return []
        }
    }

    var titles: [String: String] {
        switch self {
        case .profile: return AnswerSections.explainTitles
        case .diff: return AnswerSections.diffTitles
        }
    }

    /// The prompt for a budget: the compact templates for contexts up to `PromptTemplate.compactContextLimit`
    /// tokens, the standard ones above.
    public func prompt(budget: TokenBudget) throws -> ChatPrompt {
        switch self {
        case .profile(let a): return PromptBuilder.explain(a, budget: budget, template: try PromptTemplate.load(.explain, for: budget))
        case .diff(let d): return PromptBuilder.diff(d, budget: budget, template: try PromptTemplate.load(.diff, for: budget))
        }
    }

    /// What the quality gate checks an answer to `prompt` against.
    func qualityContext(_ prompt: ChatPrompt) -> QualityContext {
        switch self {
        case .profile(let a): return .explain(a, prompt: prompt)
        case .diff(let d): return .diff(d, prompt: prompt)
        }
    }

    var analysisJSON: JSONValue {
        switch self {
        case .profile(let a):
            return [
                "sampleType": InfoMethod.json(a.sampleType), "total": .int(a.total), "language": .string(a.language),
                "bottleneck": .string(a.bottleneck), "bottleneckPercent": .double(a.bottleneckShare),
                "userCaller": a.userCaller.map(JSONValue.string) ?? .null, "culprit": a.culprit.map(JSONValue.string) ?? .null,
                "hotPath": .array(a.hotPath.map(JSONValue.string)),
                "findings": .array(a.findings.map { f in
                    ["category": .string(f.category), "title": .string(f.title), "percent": .double(f.share),
                     "functions": .array(f.functions.map(JSONValue.string)), "callers": .array(f.callers.map(JSONValue.string)),
                     "confidence": .double(f.confidence)]
                }),
            ]
        case .diff(let d):
            return [
                "sampleType": InfoMethod.json(d.sampleType), "leftTotal": .int(d.leftTotal), "rightTotal": .int(d.rightTotal),
                "language": .string(d.language), "culprit": d.culprit.map(JSONValue.string) ?? .null,
                "functions": .array(d.functions.map(JSONValue.string)),
                "categoryChanges": .array(d.categoryChanges.map { c in
                    ["category": .string(c.category), "title": .string(c.title), "leftPercent": .double(c.leftShare),
                     "rightPercent": .double(c.rightShare), "delta": .double(c.delta),
                     "functions": .array(c.functions.map(JSONValue.string)), "callers": .array(c.callers.map(JSONValue.string))]
                }),
            ]
        }
    }
}

/// What an explanation answers: where the text came from, the text and its sections, how it was checked,
/// and what the prompt carried. `json` is its wire form.
public struct ExplainResult: Sendable {
    public enum Source: String, Sendable { case llm, offline }
    public var source: Source
    public var model: String?
    public var markdown: String
    public var sections: [String: String]?
    public var grounding: Grounding
    /// Why the offline analysis answered although a model may have been configured.
    public var fallback: (reason: String, detail: String)?
    public var usage: ChatUsage?
    public var prompt: ChatPrompt?
    public var analysis: JSONValue?
    public var conversationId: String
    public var note: String?
    /// The quality gate's verdict on the model's answer (nil when no model answered).
    public var quality: QualityVerdict?

    /// Grounded: it cites a function of the profile, and every cited name and number holds.
    public var grounded: Bool { grounding.grounded }

    public var json: JSONValue {
        var result: [String: JSONValue] = [
            "conversationId": .string(conversationId), "source": .string(source.rawValue), "markdown": .string(markdown),
            "grounding": ExplainService.json(grounding),
        ]
        if let model { result["model"] = .string(model) }
        if let sections { result["sections"] = .object(sections.mapValues(JSONValue.string)) }
        if let fallback { result["fallback"] = ["reason": .string(fallback.reason), "detail": .string(fallback.detail)] }
        if let usage { result["usage"] = ["promptTokens": .int(Int64(usage.promptTokens)), "completionTokens": .int(Int64(usage.completionTokens))] }
        if let prompt {
            result["prompt"] = [
                "templateVersion": .string(prompt.templateVersion), "tokenBound": .int(Int64(prompt.tokenBound)),
                "tokenBudget": .int(Int64(prompt.budget)), "functionsIncluded": .int(Int64(prompt.functionsIncluded)),
                "functionsAvailable": .int(Int64(prompt.functionsAvailable)), "pathsIncluded": .int(Int64(prompt.pathsIncluded)),
                "pathsAvailable": .int(Int64(prompt.pathsAvailable)),
            ]
        }
        if let analysis { result["analysis"] = analysis }
        if let note { result["note"] = .string(note) }
        if let quality { result["quality"] = ExplainService.json(quality) }
        return .object(result)
    }
}

/// Explanations with an LLM when one is configured and answers, the offline analysis otherwise.
/// Every answer is grounded against the profile; conversations are kept for follow-up questions.
public struct ExplainService: Sendable {
    let conversations: Conversations
    var budget = TokenBudget()

    public static let maxQuestionBytes = 4000

    /// `onDelta` receives streamed text as it arrives (only when `stream`). Every model answer goes through
    /// the quality gate (`AnswerQuality`): accepted as it is, repaired (failed sections from the offline
    /// analysis, marked), or rejected (the offline answer, fallback reason `low_quality`); a streamed answer
    /// that loops is stopped early and the upstream request cancelled, and a streamed answer that is
    /// repaired or rejected is followed by a notice delta and the text that replaces it. No second attempt
    /// is made with the stricter retry prompt: on the recorded small-model answers it did not help.
    /// `budget` overrides the service's (a request's own settings).
    public func explain(
        _ subject: ExplainSubject, gateway: GatewayConfig?, budget: TokenBudget? = nil, stream: Bool,
        onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(RPCError) -> ExplainResult {
        let budget = budget ?? self.budget
        let prompt: ChatPrompt
        do {
            prompt = try subject.prompt(budget: budget)
        } catch {
            throw RPCError.internalError("the prompt templates could not be read")
        }
        var messages = [ChatMessage(role: "system", content: prompt.system), ChatMessage(role: "user", content: prompt.user)]
        let answer: Result<Answer, FallbackReason>
        if gateway != nil, prompt.tokenBound > prompt.budget {
            // Even the compact prompt, cut to its minimum, does not fit: a server would refuse it.
            answer = .failure(FallbackReason(
                reason: "context_too_small",
                detail: "the prompt needs up to \(prompt.tokenBound) tokens but the context of \(budget.contextTokens) leaves \(prompt.budget) after \(budget.answerTokens) for the answer; raise the context tokens setting or lower the answer tokens"))
        } else {
            answer = await ask(messages, gateway: gateway, budget: budget, stream: stream, onDelta: onDelta)
        }
        if Task.isCancelled { throw .cancelled }
        var result: ExplainResult
        switch answer {
        case .success(let reply):
            let gated = AnswerQuality.evaluate(
                reply.response.content, finishReason: reply.response.finishReason, context: subject.qualityContext(prompt),
                stoppedEarly: reply.stoppedBy)
            if stream, let epilogue = gated.streamEpilogue { await onDelta(epilogue) }
            if gated.quality.verdict == .reject {
                result = Self.offline(subject, reason: FallbackReason(reason: QualityVerdict.fallbackReason, detail: gated.quality.fallbackDetail))
                result.model = reply.response.model ?? gateway?.model
            } else {
                result = ExplainResult(
                    source: .llm, model: reply.response.model ?? gateway?.model ?? "", markdown: gated.markdown,
                    sections: gated.sections, grounding: gated.grounding, conversationId: "")
            }
            result.usage = reply.response.usage
            result.quality = gated.quality
            // The conversation goes on from what the reader was given, not from a rejected answer.
            messages.append(ChatMessage(role: "assistant", content: result.markdown))
        case .failure(let reason):
            result = Self.offline(subject, reason: reason)
            messages.append(ChatMessage(role: "assistant", content: result.markdown))
        }
        result.prompt = prompt
        result.analysis = subject.analysisJSON
        result.conversationId = await conversations.start(Conversation(
            subject: subject, messages: messages, aliases: prompt.aliases, numbers: prompt.numbers))
        return result
    }

    /// A question about an earlier explanation. The answer goes through the gate as a follow-up (no
    /// sections, no citation required): a rejected one is replaced by the offline analysis and is not
    /// kept in the conversation.
    public func followUp(
        id: String, question: String, gateway: GatewayConfig?, budget: TokenBudget? = nil, stream: Bool,
        onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(RPCError) -> ExplainResult {
        let budget = budget ?? self.budget
        guard question.utf8.count <= Self.maxQuestionBytes else {
            throw RPCError.invalidParams("question", "is longer than \(Self.maxQuestionBytes) bytes")
        }
        guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RPCError.invalidParams("question", "is empty")
        }
        guard let conversation = await conversations.get(id) else {
            throw RPCError.domain(
                RPCError.badRequestCode, kind: "unknown_conversation",
                "conversation \(id) is unknown or expired (conversations last \(Int(Conversations.ttl.components.seconds / 60)) minutes); start again with flamegraph.explain")
        }
        var messages = Conversations.bounded(conversation.messages + [ChatMessage(role: "user", content: question)], budget: budget)
        let answer = await ask(messages, gateway: gateway, budget: budget, stream: stream, onDelta: onDelta)
        if Task.isCancelled { throw .cancelled }
        switch answer {
        case .success(let reply):
            let subject = conversation.subject
            let context = QualityContext.followUp(
                functions: subject.functions, files: subject.files, aliases: conversation.aliases, numbers: conversation.numbers,
                offlineMarkdown: subject.offline.markdown, promptText: messages.first?.content ?? "")
            let gated = AnswerQuality.evaluate(
                reply.response.content, finishReason: reply.response.finishReason, context: context, stoppedEarly: reply.stoppedBy)
            if stream, let epilogue = gated.streamEpilogue { await onDelta(epilogue) }
            var result: ExplainResult
            if gated.quality.verdict == .reject {
                result = Self.offline(subject, reason: FallbackReason(reason: QualityVerdict.fallbackReason, detail: gated.quality.fallbackDetail))
                result.model = reply.response.model ?? gateway?.model
                result.note = "the model's answer to the question failed the quality checks; this is the offline analysis of the same profile"
            } else {
                messages.append(ChatMessage(role: "assistant", content: gated.markdown))
                await conversations.update(id, messages: messages)
                result = ExplainResult(
                    source: .llm, model: reply.response.model ?? gateway?.model ?? "", markdown: gated.markdown, grounding: gated.grounding,
                    conversationId: id)
            }
            result.conversationId = id
            result.usage = reply.response.usage
            result.quality = gated.quality
            return result
        case .failure(let reason):
            // Without a model the analysis is all there is: answer with it, and say why.
            var result = Self.offline(conversation.subject, reason: reason)
            result.conversationId = id
            result.note = "follow-up questions need an LLM; this is the offline analysis of the same profile"
            return result
        }
    }

    /// A model's reply: the response, and the loop the stream monitor stopped it for.
    struct Answer {
        var response: ChatResponse
        var stoppedBy: RepetitionDetector.Loop?
    }

    /// The completion, or why there is none (a reason safe to show: gateway errors never carry the key).
    /// Streamed, each delta is passed on and fed to a `StreamQualityMonitor`; when it sees a loop the stream
    /// is left, which cancels the transfer (the connection closes; the server stops generating).
    private func ask(
        _ messages: [ChatMessage], gateway: GatewayConfig?, budget: TokenBudget, stream: Bool,
        onDelta: @escaping @Sendable (String) async -> Void
    ) async -> Result<Answer, FallbackReason> {
        guard let gateway else { return .failure(FallbackReason(reason: "not_configured", detail: "no LLM gateway is configured")) }
        let client = ChatClient(config: gateway)
        // Usage in a stream must be asked for; the LLM app's proxy is left as it is.
        let request = ChatRequest(
            messages: messages, temperature: 0.2, maxTokens: budget.answerTokens, streamUsage: gateway.mode == .openai)
        if Task.isCancelled { return .failure(FallbackReason(reason: "cancelled", detail: "request cancelled")) }
        do {
            if stream {
                var monitor = StreamQualityMonitor()
                var finishReason: String?
                var usage: ChatUsage?
                var attempt = request
                while true {
                    do {
                        reading: for try await event in client.events(attempt) {
                            switch event {
                            case .delta(let text):
                                await onDelta(text)
                                if case .stop = monitor.feed(text) { break reading }
                            case .finish(let reason):
                                finishReason = reason
                            case .usage(let u):
                                usage = u
                            }
                        }
                        break
                    } catch GatewayError.providerError(400, _) where attempt.streamUsage && monitor.text.isEmpty {
                        // A server that does not know stream_options refuses the request: ask again without it.
                        attempt.streamUsage = false
                    }
                }
                return .success(Answer(
                    response: ChatResponse(content: monitor.text, finishReason: finishReason, model: gateway.model, usage: usage),
                    stoppedBy: monitor.stoppedBy))
            }
            return .success(Answer(response: try await client.complete(request)))
        } catch let error as GatewayError {
            return .failure(FallbackReason(error, config: gateway))
        } catch {
            return .failure(FallbackReason(reason: "unreachable", detail: gateway.redact(String(describing: error))))
        }
    }

    struct FallbackReason: Error {
        var reason: String
        var detail: String

        init(reason: String, detail: String) {
            self.reason = reason
            self.detail = detail
        }

        init(_ error: GatewayError, config: GatewayConfig) {
            reason = GatewayError.reasonCode(error)
            detail = config.redact(error.description)
        }
    }

    private static func offline(_ subject: ExplainSubject, reason: FallbackReason) -> ExplainResult {
        let (offlineSections, markdown) = subject.offline
        let grounding = Grounding(answer: markdown, functions: subject.functions, files: subject.files, numbers: subject.statedNumbers)
        return ExplainResult(
            source: .offline, markdown: markdown, sections: offlineSections, grounding: grounding,
            fallback: (reason.reason, reason.detail), conversationId: "")
    }

    /// `{verdict, checks: [{name, passed, detail}], sections: {key: "model"|"offlineRepair"}}`.
    static func json(_ q: QualityVerdict) -> JSONValue {
        [
            "verdict": .string(q.verdict.rawValue),
            "checks": .array(q.checks.map { ["name": .string($0.name), "passed": .bool($0.passed), "detail": .string($0.detail)] }),
            "sections": .object(q.sections.mapValues { .string($0.rawValue) }),
        ]
    }

    static func json(_ g: Grounding) -> JSONValue {
        func list(_ a: [String]) -> JSONValue { .array(a.map(JSONValue.string)) }
        return [
            "cited": list(g.cited), "verified": list(g.verified), "unverified": list(g.unverified),
            "numbers": ["cited": list(g.numbersCited), "verified": list(g.numbersVerified), "unverified": list(g.numbersUnverified)],
            "grounded": .bool(g.grounded),
        ]
    }
}

/// One explanation's context, kept for follow-ups.
struct Conversation: Sendable {
    var subject: ExplainSubject
    var messages: [ChatMessage]
    var aliases: [String: String]
    var numbers: [Double]
    var lastUsed = ContinuousClock.now
}

/// Conversations for `explain.followUp`: at most `capacity`, each expiring `ttl` after its last use;
/// the least recently used goes first when full.
actor Conversations {
    static let ttl = Duration.seconds(30 * 60)
    static let capacity = 64
    /// Follow-up turns kept besides the first question and answer.
    static let maxTurns = 6

    private var items: [String: Conversation] = [:]

    func start(_ conversation: Conversation) -> String {
        expire()
        if items.count >= Self.capacity, let oldest = items.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            items[oldest] = nil
        }
        let id = UUID().uuidString.lowercased()
        items[id] = conversation
        return id
    }

    func get(_ id: String) -> Conversation? {
        expire()
        guard var c = items[id] else { return nil }
        c.lastUsed = .now
        items[id] = c
        return c
    }

    func update(_ id: String, messages: [ChatMessage]) {
        items[id]?.messages = messages
        items[id]?.lastUsed = .now
    }

    private func expire() {
        let now = ContinuousClock.now
        items = items.filter { now - $0.value.lastUsed < Self.ttl }
    }

    /// The system prompt, the first question (the profile data) and its answer, then the most recent turns
    /// that fit the budget (at most `maxTurns`); the newest question is always kept.
    static func bounded(_ messages: [ChatMessage], budget: TokenBudget) -> [ChatMessage] {
        guard messages.count > 4 else { return messages }
        let head = Array(messages.prefix(3))
        var turns = Array(messages.dropFirst(3).dropLast())
        let question = messages.last!
        if turns.count > 2 * maxTurns { turns = Array(turns.suffix(2 * maxTurns)) }
        while !turns.isEmpty, TokenBudget.upperBound((head + turns + [question]).map(\.content)) > budget.promptTokens {
            turns.removeFirst(min(2, turns.count))
        }
        return head + turns + [question]
    }
}
