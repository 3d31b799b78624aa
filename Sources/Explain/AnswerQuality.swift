import Foundation

/// One quality check on a model's answer.
public struct QualityCheck: Sendable, Codable, Equatable {
    /// One of `AnswerQuality.checkNames`.
    public var name: String
    public var passed: Bool
    /// What was found, in words (which sections, what repeats, the measured shares).
    public var detail: String

    public init(name: String, passed: Bool, detail: String) {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// Where a section of the final answer comes from.
public enum SectionSource: String, Sendable, Codable {
    case model
    /// The model's section was missing or failed a check; the offline analysis' section stands in, marked.
    case offlineRepair
}

/// The gate's decision, in the shape results and the CLI show as `quality`:
/// `{"verdict": "accept"|"repair"|"reject", "checks": [{"name", "passed", "detail"}], "sections": {key: "model"|"offlineRepair"}}`.
public struct QualityVerdict: Sendable, Codable, Equatable {
    public enum Verdict: String, Sendable, Codable {
        /// Every check passed: the model's answer stands as it is.
        case accept
        /// Some sections failed or were missing: they come from the offline analysis, marked; the rest is the model's.
        case repair
        /// Nothing usable (no good section, wrong language, no function of the profile cited, an empty or
        /// refusing answer): the offline analysis answers, with fallback reason `low_quality`.
        case reject
    }

    public var verdict: Verdict
    /// Every check, in a fixed order (`AnswerQuality.checkNames`).
    public var checks: [QualityCheck]
    /// Each section's source (explain and diff answers; a follow-up has the one key "answer").
    public var sections: [String: SectionSource]

    public init(verdict: Verdict, checks: [QualityCheck], sections: [String: SectionSource]) {
        self.verdict = verdict
        self.checks = checks
        self.sections = sections
    }

    public var failedChecks: [String] { checks.filter { !$0.passed }.map(\.name) }

    /// The fallback reason for a rejected answer.
    public static let fallbackReason = "low_quality"

    /// The fallback detail for a rejected answer: which checks failed and why.
    public var fallbackDetail: String {
        "the model's answer failed the quality checks: "
            + checks.filter { !$0.passed }.map { "\($0.name) (\($0.detail))" }.joined(separator: "; ")
    }
}

/// What an answer is checked against: the profile (for citations), the offline analysis (for repairs), the
/// prompt (to recognise an answer that only repeats it) and the expected language.
public struct QualityContext: Sendable {
    public enum Kind: String, Sendable, Codable {
        case explain, diff, followUp
    }

    public var kind: Kind
    /// The sections in order: key and the title written for it.
    public var sectionTitles: [(key: String, title: String)]
    public var functions: Set<String>
    public var files: Set<String>
    /// Short names the prompt used, and the numbers of its data (as `Grounding` takes them).
    public var aliases: [String: String]
    public var numbers: [Double]
    /// The offline analysis: its sections by key (repairs) and its Markdown (rejections).
    public var offlineSections: [String: String]
    public var offlineMarkdown: String
    /// The prompt sent (system and user text), to recognise sections that only repeat its instructions.
    public var promptText: String
    public var language: AnswerLanguage
    /// Whether the answer must cite a function of the profile (explanations yes; follow-ups no, a question
    /// may be about something else).
    public var requireCitation: Bool

    public init(
        kind: Kind, sectionTitles: [(key: String, title: String)], functions: Set<String>, files: Set<String> = [],
        aliases: [String: String] = [:], numbers: [Double], offlineSections: [String: String], offlineMarkdown: String,
        promptText: String = "", language: AnswerLanguage = .english, requireCitation: Bool = true
    ) {
        self.kind = kind
        self.sectionTitles = sectionTitles
        self.functions = functions
        self.files = files
        self.aliases = aliases
        self.numbers = numbers
        self.offlineSections = offlineSections
        self.offlineMarkdown = offlineMarkdown
        self.promptText = promptText
        self.language = language
        self.requireCitation = requireCitation
    }

    public static let explainSections = [(key: "bottleneck", title: "Performance bottleneck"), (key: "rootCause", title: "Root cause"), (key: "fix", title: "Recommended fix")]
    public static let diffSections = [(key: "performanceChange", title: "Performance change"), (key: "functionImpact", title: "Function impact"), (key: "potentialCauses", title: "Potential causes")]

    /// An explanation of one profile, asked with `prompt`.
    public static func explain(_ a: Analysis, prompt: ChatPrompt, language: AnswerLanguage = .english) -> QualityContext {
        let e = Explanation(a)
        return QualityContext(
            kind: .explain, sectionTitles: explainSections, functions: a.functionNames, files: a.fileNames, aliases: prompt.aliases,
            numbers: prompt.numbers, offlineSections: ["bottleneck": e.bottleneck, "rootCause": e.rootCause, "fix": e.fix],
            offlineMarkdown: e.markdown, promptText: prompt.system + "\n" + prompt.user, language: language)
    }

    /// An explanation of a diff, asked with `prompt`.
    public static func diff(_ d: DiffExplanation, prompt: ChatPrompt, language: AnswerLanguage = .english) -> QualityContext {
        QualityContext(
            kind: .diff, sectionTitles: diffSections, functions: d.functionNames, aliases: prompt.aliases, numbers: prompt.numbers,
            offlineSections: ["performanceChange": d.performanceChange, "functionImpact": d.functionImpact, "potentialCauses": d.potentialCauses],
            offlineMarkdown: d.markdown, promptText: prompt.system + "\n" + prompt.user, language: language)
    }

    /// A follow-up answer: no sections, no citation required; `offlineMarkdown` is what a rejection answers with.
    public static func followUp(
        functions: Set<String>, files: Set<String> = [], aliases: [String: String], numbers: [Double], offlineMarkdown: String,
        promptText: String = "", language: AnswerLanguage = .english
    ) -> QualityContext {
        QualityContext(
            kind: .followUp, sectionTitles: [], functions: functions, files: files, aliases: aliases, numbers: numbers,
            offlineSections: [:], offlineMarkdown: offlineMarkdown, promptText: promptText, language: language, requireCitation: false)
    }

    public var titles: [String: String] {
        Dictionary(sectionTitles.map { ($0.title.lowercased(), $0.key) }, uniquingKeysWith: { a, _ in a })
    }
}

/// A model's answer after the gate: what to return, and why.
public struct GatedAnswer: Sendable {
    public var quality: QualityVerdict
    /// The model's answer as it came, grounded (names expanded, unverified claims marked).
    public var grounding: Grounding
    /// The answer to return: the model's grounded text (accept), the model's good sections with the
    /// offline analysis in the others, each marked (repair), or the offline analysis (reject).
    public var markdown: String
    /// The returned answer's sections by key (explain and diff).
    public var sections: [String: String]
    /// "llm" for accept and repair, "offline" for reject.
    public var source: String { quality.verdict == .reject ? "offline" : "llm" }

    /// Text to send after a streamed answer when the verdict is repair or reject (nil on accept): a notice
    /// that the text above did not hold up, then the sections that replace it (repair) or the offline
    /// analysis (reject). The final result's `markdown` is complete on its own; this is for readers of the
    /// stream (the CLI, `$/progress` deltas).
    public var streamEpilogue: String? {
        switch quality.verdict {
        case .accept:
            return nil
        case .repair:
            var out = "\n\n---\n" + notice + "\n\n"
            let replaced = contextTitles.filter { quality.sections[$0.key] == .offlineRepair }
            for (key, title) in replaced { out += "##### \(title)\n\(sections[key] ?? "")\n\n" }
            if contextTitles.isEmpty { out += markdown + "\n" }
            return out
        case .reject:
            return "\n\n---\n" + notice + "\n\n" + markdown + (markdown.hasSuffix("\n") ? "" : "\n")
        }
    }

    /// One sentence on what the gate did, for a stream's reader (nil on accept).
    public var notice: String {
        let failed = quality.failedChecks.joined(separator: ", ")
        switch quality.verdict {
        case .accept:
            return ""
        case .repair:
            let replaced = contextTitles.filter { quality.sections[$0.key] == .offlineRepair }.map(\.title)
            if replaced.isEmpty {
                return "**Quality check:** the model's answer above was trimmed (failed: \(failed))."
            }
            return "**Quality check:** parts of the model's answer above did not hold up (failed: \(failed)); "
                + "these sections come from the offline analysis instead: " + replaced.joined(separator: ", ") + "."
        case .reject:
            return "**Quality check:** the model's answer above did not hold up (failed: \(failed)); "
                + "this is the offline analysis of the profile instead."
        }
    }

    var contextTitles: [(key: String, title: String)]
}

/// The answer-quality gate: checks a model's answer (explain, diff or follow-up) for structure,
/// degeneration and substance, and decides to accept it, repair it from the offline analysis, or reject it.
/// Use `evaluate` on a whole answer, or `StreamQualityMonitor` while it streams (it can stop a loop early).
///
/// Checks, each named in `QualityVerdict.checks`:
/// - `sections`: the template's sections are all there and not empty (titles found leniently, see `AnswerOutline`).
/// - `repetition`: no sentence written 3 times, no block of words repeated 3 times in a row (30+ words), no
///   section of 40+ words where over half of the 6-word sequences repeat.
/// - `dominantLine`: no line that, with its copies, fills half of an answer of 200+ characters, and no
///   single line holding 80% of an answer of 800+ characters.
/// - `finishReason`: the answer was not cut at the token limit (`finish_reason: "length"`), nor stopped
///   by the stream monitor.
/// - `citesProfile`: it cites at least one function of the profile in backticks (Grounding's resolution).
/// - `substance`: no empty or placeholder section, no section that only repeats the prompt, no refusal.
/// - `language`: the configured language (`AnswerLanguage`; English by default).
///
/// Verdict: reject when `language`, `citesProfile` or an answer-wide `substance` failure (refusal, empty
/// answer) fails, or when no section holds up; accept when every check passes; repair otherwise. A
/// section holds up when it is present, has 3+ words, does not loop, is not the line that dominates the
/// answer, does not only repeat the prompt, and is not the section the answer was cut in.
public enum AnswerQuality {
    public static let checkNames = ["sections", "repetition", "dominantLine", "finishReason", "citesProfile", "substance", "language"]

    /// The mark that opens a section the offline analysis filled in.
    public static let repairMark = "_From the offline analysis"

    static let minSectionWords = 3
    static let ngram = 6
    static let ngramMinWords = 40
    static let ngramMaxShare = 0.5
    static let echoShare = 0.7
    static let echoMinWords = 8

    /// Checks a whole answer. `finishReason` is the completion's (`"length"` means cut at the token limit);
    /// `stoppedEarly` is the loop a `StreamQualityMonitor` stopped the stream for.
    public static func evaluate(
        _ answer: String, finishReason: String?, context: QualityContext, stoppedEarly: RepetitionDetector.Loop? = nil
    ) -> GatedAnswer {
        let grounding = Grounding(
            answer: answer, functions: context.functions, files: context.files, aliases: context.aliases, numbers: context.numbers)
        // Sections are found in the grounded text: what is kept is what the reader gets, names expanded.
        let text = grounding.text
        let followUp = context.kind == .followUp
        var parts: [(key: String, text: String, lines: Range<Int>)]
        let outline = AnswerOutline(text, titles: context.titles)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if followUp {
            parts = [("answer", text.trimmingCharacters(in: .whitespacesAndNewlines), 0 ..< lines.count)]
        } else {
            parts = outline.sections.map { ($0.key, $0.text, $0.lines) }
        }
        var failures: [String: [String]] = [:]  // section key -> check names it failed
        func fail(_ key: String, _ check: String) {
            if !(failures[key]?.contains(check) ?? false) { failures[key, default: []].append(check) }
        }
        var checks: [String: QualityCheck] = [:]

        // Structure.
        if followUp {
            checks["sections"] = QualityCheck(name: "sections", passed: true, detail: "not required for a follow-up")
        } else {
            let found = Set(parts.map(\.key))
            let missing = context.sectionTitles.filter { !found.contains($0.key) }.map(\.key)
            let empty = parts.filter { TextStats.words(TextStats.prose($0.text)).count == 0 && !$0.text.contains("`") }.map(\.key)
            for key in missing { fail(key, "sections") }
            for key in empty { fail(key, "sections") }
            var detail: [String] = []
            if !missing.isEmpty { detail.append("missing: " + missing.joined(separator: ", ")) }
            if !empty.isEmpty { detail.append("empty: " + empty.joined(separator: ", ")) }
            if !outline.repeatedTitles.isEmpty { detail.append("titles written again: " + outline.repeatedTitles.joined(separator: ", ")) }
            let ok = missing.isEmpty && empty.isEmpty
            checks["sections"] = QualityCheck(
                name: "sections", passed: ok,
                detail: ok && detail.isEmpty ? "all \(context.sectionTitles.count) present" : (ok ? "all present; " : "") + detail.joined(separator: "; "))
        }

        // Repetition: loops over the whole text, located in the section where each was established.
        func section(atLine line: Int) -> String? { parts.first { $0.lines.contains(line) }?.key }
        var detector = RepetitionDetector()
        var lineOfOffset: [(offset: Int, line: Int)] = []
        var offset = 0
        for (i, line) in lines.enumerated() {
            detector.feed(line)
            detector.feed("\n")
            offset += line.count + 1
            lineOfOffset.append((offset, i))
        }
        detector.finish()
        var repetitionNotes: [String] = []
        var loopsNoted = Set<String>()
        for loop in detector.loops {
            let line = lineOfOffset.first { $0.offset >= loop.offset }?.line ?? max(0, lines.count - 1)
            let where_ = section(atLine: line)
            if let where_ { fail(where_, "repetition") }
            // One note per place: a loop is usually found by both detectors, and again at each phase.
            let place = where_ ?? "text outside the sections"
            if loopsNoted.insert(place).inserted {
                repetitionNotes.append("\(place): \"\(clip(loop.repeated))\" \(loop.times) times")
            }
        }
        // A section holding a copy of a looping sentence is part of the loop, even where the copy is the first.
        let loopKeys = detector.loops.map { RepetitionDetector.normalizeSentence($0.repeated) }.filter { $0.count >= 20 }
        for part in parts where !(failures[part.key]?.contains("repetition") ?? false) {
            let normalized = RepetitionDetector.normalizeSentence(part.text)
            if loopKeys.contains(where: { normalized.contains($0) }) { fail(part.key, "repetition") }
        }
        for part in parts where !loopsNoted.contains(part.key) {
            let words = TextStats.words(TextStats.prose(part.text))
            guard words.count >= ngramMinWords else { continue }
            let (share, _) = TextStats.repeatedNgramShare(words, n: ngram)
            if share > ngramMaxShare {
                fail(part.key, "repetition")
                repetitionNotes.append("\(part.key): \(Int((share * 100).rounded()))% of its \(ngram)-word sequences repeat")
            }
        }
        if let stoppedEarly {
            let note = "stream stopped early: \"\(clip(stoppedEarly.repeated))\" \(stoppedEarly.times) times"
            if repetitionNotes.isEmpty { repetitionNotes.append(note) } else { repetitionNotes[0] += " (\(note))" }
            // The loop is where the text ends.
            if let last = parts.last { fail(last.key, "repetition") }
        }
        checks["repetition"] = QualityCheck(
            name: "repetition", passed: repetitionNotes.isEmpty,
            detail: repetitionNotes.isEmpty ? "no loop" : repetitionNotes.prefix(3).joined(separator: "; "))

        // One line filling most of the answer.
        let totalChars = text.filter { !$0.isWhitespace }.count
        var dominant: String?
        if totalChars >= 200 {
            var groups: [String: [Int]] = [:]
            for (i, line) in lines.enumerated() {
                let key = line.trimmingCharacters(in: .whitespaces).lowercased()
                if key.count >= 8 { groups[key, default: []].append(i) }
            }
            for (key, at) in groups {
                let covered = at.count * key.filter { !$0.isWhitespace }.count
                let copies = at.count >= 2 && covered * 2 >= totalChars
                let single = totalChars >= 800 && covered * 5 >= totalChars * 4
                guard copies || single else { continue }
                for i in (copies ? Array(at.dropFirst()) : at) {
                    if let s = section(atLine: i) { fail(s, "dominantLine") }
                }
                dominant = "\"\(clip(key))\" " + (at.count > 1 ? "\(at.count) times, " : "") + "\(Int((Double(covered) * 100 / Double(totalChars)).rounded()))% of the answer"
                break
            }
        }
        checks["dominantLine"] = QualityCheck(name: "dominantLine", passed: dominant == nil, detail: dominant ?? "no line dominates")

        // Cut at the token limit, or stopped by the stream monitor: the section it ended in is incomplete.
        let cut = finishReason == "length"
        if (cut || stoppedEarly != nil), let last = parts.last { fail(last.key, "finishReason") }
        let finishDetail: String
        if stoppedEarly != nil {
            finishDetail = "stopped while streaming because the model looped"
        } else if cut {
            finishDetail = "cut at the token limit (finish_reason \"length\")" + (parts.last.map { " in \($0.key)" } ?? "")
        } else {
            finishDetail = finishReason.map { "finish_reason \"\($0)\"" } ?? "finish reason unknown"
        }
        checks["finishReason"] = QualityCheck(name: "finishReason", passed: !cut && stoppedEarly == nil, detail: finishDetail)

        // Citations.
        let functionsCited = grounding.verifiedFunctions.count
        let cites = functionsCited > 0
        checks["citesProfile"] = QualityCheck(
            name: "citesProfile", passed: cites || !context.requireCitation,
            detail: cites
                ? "cites \(functionsCited) function\(functionsCited == 1 ? "" : "s") of the profile"
                : "cites no function of the profile" + (grounding.cited.isEmpty ? "" : " (\(grounding.cited.count) names cited, none found)")
                    + (context.requireCitation ? "" : "; not required"))

        // Substance: empty, placeholder or refusing sections, sections that only repeat the prompt.
        var substanceNotes: [String] = []
        var answerWide = false
        let proseAll = TextStats.prose(text)
        let wordsAll = TextStats.words(proseAll)
        if wordsAll.count < minSectionWords {
            answerWide = true
            substanceNotes.append("the answer is empty")
        } else if let refusal = refusals.first(where: { proseAll.lowercased().trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix($0) }) {
            answerWide = true
            substanceNotes.append("the answer is a refusal (\"\(refusal)…\")")
        }
        let promptWords = TextStats.words(context.promptText)
        let promptGrams = TextStats.ngramSet(promptWords, n: 5)
        let promptJoined = " " + promptWords.joined(separator: " ") + " "
        for part in parts {
            let prose = TextStats.prose(part.text)
            let words = TextStats.words(prose)
            let lower = part.text.lowercased()
            // Few words: short unless it cites a name or is written without spaces (Chinese, Japanese).
            if words.count < minSectionWords && !part.text.contains("`") && prose.filter(\.isLetter).count < 15 {
                if !words.isEmpty {
                    fail(part.key, "substance")
                    substanceNotes.append("\(part.key) has \(words.count) word\(words.count == 1 ? "" : "s")")
                }
                continue
            }
            if let p = placeholders.first(where: { lower.contains($0) }) {
                fail(part.key, "substance")
                substanceNotes.append("\(part.key) holds a placeholder (\"\(p)\")")
                continue
            }
            if !promptWords.isEmpty, words.count >= 4, words.count < echoMinWords, !part.text.contains("`"), promptJoined.contains(" " + words.joined(separator: " ") + " ") {
                fail(part.key, "substance")
                substanceNotes.append("\(part.key) only repeats the prompt's words")
                continue
            }
            if words.count >= echoMinWords, !promptGrams.isEmpty {
                let grams = TextStats.ngramSet(words, n: 5)
                let echoed = grams.filter { promptGrams.contains($0) }.count
                if !grams.isEmpty, Double(echoed) >= echoShare * Double(grams.count) {
                    fail(part.key, "substance")
                    substanceNotes.append("\(part.key) repeats the prompt (\(echoed) of \(grams.count) 5-word sequences)")
                }
            }
        }
        checks["substance"] = QualityCheck(
            name: "substance", passed: substanceNotes.isEmpty, detail: substanceNotes.isEmpty ? "every section says something" : substanceNotes.joined(separator: "; "))

        // Language.
        let (ascii, stop, wordCount) = AnswerLanguage.measure(text)
        let languageOK: Bool
        let languageDetail: String
        switch context.language {
        case .any:
            languageOK = true
            languageDetail = "not checked"
        case .english:
            languageOK = wordCount < AnswerLanguage.minWords
                || (ascii >= AnswerLanguage.minASCIIShare && stop >= AnswerLanguage.minStopWordShare)
            languageDetail = "\(wordCount < AnswerLanguage.minWords ? "too short to tell; " : "")\(percent(ascii)) ASCII letters, \(percent(stop)) English function words over \(wordCount) words"
                + (languageOK ? "" : " (English needs ≥\(percent(AnswerLanguage.minASCIIShare)) and ≥\(percent(AnswerLanguage.minStopWordShare)))")
        }
        checks["language"] = QualityCheck(name: "language", passed: languageOK, detail: languageDetail)

        // The verdict.
        let ordered = checkNames.compactMap { checks[$0] }
        let keys = followUp ? ["answer"] : context.sectionTitles.map(\.key)
        var sources: [String: SectionSource] = [:]
        for key in keys { sources[key] = failures[key] == nil ? .model : .offlineRepair }
        let anyGood = sources.values.contains(.model)
        let allPass = ordered.allSatisfy(\.passed)
        let verdict: QualityVerdict.Verdict
        if !languageOK || !(checks["citesProfile"]?.passed ?? true) || answerWide {
            verdict = .reject
        } else if allPass {
            verdict = .accept
        } else if followUp {
            // A follow-up has no sections to fill in: only an answer cut at the token limit is kept, trimmed
            // to its last whole sentence.
            verdict = failures["answer"] == ["finishReason"] && stoppedEarly == nil ? .repair : .reject
            sources["answer"] = verdict == .repair ? .model : .offlineRepair
        } else {
            verdict = anyGood ? .repair : .reject
        }
        if verdict == .reject { for key in keys { sources[key] = .offlineRepair } }
        let quality = QualityVerdict(verdict: verdict, checks: ordered, sections: sources)

        // What to return.
        var markdown: String
        var sections: [String: String] = [:]
        switch verdict {
        case .accept:
            markdown = text
            sections = followUp ? [:] : outline.texts
        case .reject:
            markdown = context.offlineMarkdown
            sections = context.offlineSections
        case .repair:
            if followUp {
                markdown = trimToLastSentence(text) + "\n\n_(The answer was cut at the token limit.)_"
            } else {
                markdown = ""
                let texts = outline.texts
                for (key, title) in context.sectionTitles {
                    let body: String
                    if sources[key] == .model, let t = texts[key] {
                        body = t
                    } else {
                        let why = failures[key].map { reasonText($0) } ?? "it failed the quality checks"
                        body = "\(repairMark) (the model's section \(why))._\n" + (context.offlineSections[key] ?? "")
                    }
                    sections[key] = body
                    markdown += "##### \(title)\n\(body)\n\n"
                }
                markdown = String(markdown.dropLast())
            }
        }
        return GatedAnswer(quality: quality, grounding: grounding, markdown: markdown, sections: sections, contextTitles: context.sectionTitles)
    }

    static let refusals = ["as an ai", "i'm sorry", "i am sorry", "i cannot", "i can't", "sorry, i", "i am unable", "i'm unable"]
    static let placeholders = ["lorem ipsum", "[insert", "[your ", "<your ", "todo:", "(to be filled", "{{"]

    /// Why a section was replaced, in a few words: the most telling of the checks it failed.
    static func reasonText(_ checks: [String]) -> String {
        let phrases: [(String, String)] = [
            ("repetition", "repeated itself"), ("dominantLine", "was one line over and over"), ("sections", "was missing or empty"),
            ("substance", "said nothing of substance"), ("finishReason", "was cut off"),
        ]
        return phrases.first { checks.contains($0.0) }?.1 ?? "failed the quality checks"
    }

    static func clip(_ s: String, _ n: Int = 60) -> String { s.count <= n ? s : String(s.prefix(n)) + "…" }

    static func percent(_ v: Double) -> String { "\(Int((v * 100).rounded()))%" }

    static func trimToLastSentence(_ text: String) -> String {
        guard let end = text.lastIndex(where: { $0 == "." || $0 == "!" || $0 == "?" || $0 == "\n" }) else { return text }
        return String(text[...end]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// What a `StreamQualityMonitor` says after a delta.
public enum StreamAction: Sendable, Equatable {
    case proceed
    /// The model is looping: stop reading and cancel the upstream transfer. The check says what repeats.
    case stop(QualityCheck)
}

/// The gate while an answer streams: feed it each delta; when it answers `.stop`, stop reading (leaving
/// the `for try await` loop over `ChatClient.stream` cancels the transfer) and call `finish`, which
/// evaluates what arrived. The monitor is a value: keep it in the loop's task.
public struct StreamQualityMonitor: Sendable {
    public private(set) var text = ""
    /// The loop that stopped the stream, once there is one.
    public private(set) var stoppedBy: RepetitionDetector.Loop?
    private var detector = RepetitionDetector()

    public init() {}

    public mutating func feed(_ delta: String) -> StreamAction {
        guard stoppedBy == nil else { return .stop(Self.check(stoppedBy!)) }
        text += delta
        if let loop = detector.feed(delta).first {
            stoppedBy = loop
            return .stop(Self.check(loop))
        }
        return .proceed
    }

    /// The gate on what arrived. `finishReason` is the stream's last `finish_reason` when the caller has it.
    public func finish(finishReason: String?, context: QualityContext) -> GatedAnswer {
        AnswerQuality.evaluate(text, finishReason: finishReason, context: context, stoppedEarly: stoppedBy)
    }

    static func check(_ loop: RepetitionDetector.Loop) -> QualityCheck {
        QualityCheck(name: "repetition", passed: false, detail: "degenerate loop: \"\(AnswerQuality.clip(loop.repeated))\" \(loop.times) times")
    }
}
