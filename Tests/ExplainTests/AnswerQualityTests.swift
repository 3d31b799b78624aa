import Explain
import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

/// The subjects the labelled and recorded answers are about, with the prompts they were asked with.
enum QualitySubjects {
    static let small = TokenBudget(contextTokens: 2048, answerTokens: 512)
    static let llmFixtures = Fixtures.root.appendingPathComponent("llm")

    static func interpret(_ name: String) -> URL { Fixtures.root.appendingPathComponent("interpret/\(name).pb.gz") }

    /// A subject by the short name the fixtures use: a profile file (explain) or "base->cmp" (diff).
    static func context(_ subject: String, variant: PromptTemplate.Variant = .compact, budget: TokenBudget = small) throws -> QualityContext {
        let named: [String: String] = [
            "fib": "profiles/go-cpu-fib.pb.gz", "regexdiff": "interpret/service-base->interpret/service-regex",
        ]
        let spec = named[subject] ?? subject
        if let arrow = spec.range(of: "->") {
            let base = Fixtures.root.appendingPathComponent(String(spec[..<arrow.lowerBound]) + ".pb.gz")
            let cmp = Fixtures.root.appendingPathComponent(String(spec[arrow.upperBound...]) + ".pb.gz")
            let d = try CompactPromptTests.diff(base, cmp)
            let prompt = PromptBuilder.diff(d, budget: budget, template: try PromptTemplate.load(.diff, variant: variant))
            return QualityContext.diff(d, prompt: prompt)
        }
        let a = try CompactPromptTests.analysis(Fixtures.root.appendingPathComponent(spec.hasSuffix(".gz") || spec.hasSuffix(".pb") ? spec : spec + ".pb.gz"))
        let prompt = PromptBuilder.explain(a, budget: budget, template: try PromptTemplate.load(.explain, variant: variant))
        return QualityContext.explain(a, prompt: prompt)
    }
}

@Suite struct AnswerQualityTests {
    struct Label: Sendable, CustomStringConvertible {
        var file: String
        var subject: String
        var finishReason: String
        var verdict: String
        var failed: [String]
        var offline: [String]
        var description: String { file }
    }

    static let labels: [Label] = {
        let url = QualitySubjects.llmFixtures.appendingPathComponent("answers/labels.tsv")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("file\t") }.map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            func list(_ i: Int) -> [String] { i < f.count ? f[i].split(separator: ",").map(String.init) : [] }
            return Label(file: f[0], subject: f[1], finishReason: f[2], verdict: f[3], failed: list(4), offline: list(5))
        }
    }()

    static func answer(_ file: String) throws -> String {
        try String(contentsOf: QualitySubjects.llmFixtures.appendingPathComponent("answers/\(file)"), encoding: .utf8)
    }

    @Test func theLabelledSetHasTenGoodAnswersAndEveryBadKind() {
        #expect(Self.labels.filter { $0.verdict == "accept" }.count >= 10)
        #expect(Self.labels.filter { $0.verdict == "accept" && $0.subject == "regexdiff" }.count >= 1)
        let failed = Set(Self.labels.flatMap(\.failed))
        #expect(failed.isSuperset(of: ["sections", "repetition", "dominantLine", "finishReason", "citesProfile", "substance", "language"]))
    }

    @Test(arguments: labels.filter { $0.verdict == "accept" })
    func goodAnswersAreAcceptedUnchanged(_ label: Label) throws {
        let context = try QualitySubjects.context(label.subject)
        let answer = try Self.answer(label.file)
        let gated = AnswerQuality.evaluate(answer, finishReason: label.finishReason, context: context)
        #expect(gated.quality.verdict == .accept, "\(gated.quality.checks.filter { !$0.passed })")
        #expect(gated.quality.failedChecks.isEmpty)
        #expect(gated.quality.sections.values.allSatisfy { $0 == .model })
        // Unchanged: the model's text as grounding returns it, nothing added, nothing dropped.
        #expect(gated.markdown == gated.grounding.text)
        #expect(gated.source == "llm")
        #expect(gated.streamEpilogue == nil)
        #expect(Set(gated.sections.keys) == Set(context.sectionTitles.map(\.key)))
        #expect(gated.sections.values.allSatisfy { !$0.isEmpty })
    }

    @Test(arguments: labels.filter { $0.verdict != "accept" })
    func badAnswersAreRepairedOrRejectedWithTheFailingChecksNamed(_ label: Label) throws {
        let context = try QualitySubjects.context(label.subject)
        let gated = AnswerQuality.evaluate(try Self.answer(label.file), finishReason: label.finishReason, context: context)
        #expect(gated.quality.verdict.rawValue == label.verdict)
        #expect(gated.quality.failedChecks == AnswerQuality.checkNames.filter { label.failed.contains($0) }, "\(gated.quality.checks.filter { !$0.passed })")
        let offline = gated.quality.sections.filter { $0.value == .offlineRepair }.map(\.key).sorted()
        #expect(offline == label.offline.sorted())
        switch gated.quality.verdict {
        case .reject:
            #expect(gated.markdown == context.offlineMarkdown)
            #expect(gated.source == "offline")
            #expect(gated.quality.fallbackDetail.contains(label.failed[0]))
        case .repair:
            #expect(gated.source == "llm")
            // Every section is there, in template order, the repaired ones marked and holding the offline text.
            var cursor = gated.markdown.startIndex
            for (key, title) in context.sectionTitles {
                let heading = gated.markdown.range(of: "##### \(title)\n", range: cursor ..< gated.markdown.endIndex)
                #expect(heading != nil)
                cursor = heading?.upperBound ?? cursor
                if label.offline.contains(key) {
                    #expect(gated.sections[key]?.hasPrefix(AnswerQuality.repairMark) == true)
                    #expect(gated.sections[key]?.hasSuffix(context.offlineSections[key]!) == true)
                } else {
                    #expect(gated.sections[key]?.contains(AnswerQuality.repairMark) == false)
                }
            }
            let epilogue = try #require(gated.streamEpilogue)
            #expect(epilogue.contains("**Quality check:**"))
            for key in label.offline { #expect(epilogue.contains(context.offlineSections[key]!)) }
        case .accept:
            Issue.record("accepted")
        }
    }

    @Test func aGateThatRepairsEverythingFailsTheGoodSet() throws {
        // The good set would catch an over-eager gate: the strict heading-only parser (the old one) misses
        // the sections of most good answers, and a gate built on it would repair them.
        let good = Self.labels.filter { $0.verdict == "accept" }
        var strictMisses = 0
        for label in good {
            let context = try QualitySubjects.context(label.subject)
            let strict = AnswerSections(try Self.answer(label.file), titles: context.titles)
            if strict.sections.count < 3 { strictMisses += 1 }
            #expect(AnswerSections(lenient: try Self.answer(label.file), titles: context.titles).sections.count == 3, "\(label.file)")
        }
        #expect(strictMisses >= 4)
    }

    @Test func theVerdictHasAJSONFriendlyShape() throws {
        let context = try QualitySubjects.context("fib")
        let gated = AnswerQuality.evaluate(try Self.answer("bad-all-in-one.md"), finishReason: "stop", context: context)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(gated.quality)) as? [String: Any])
        #expect(Set(object.keys) == ["verdict", "checks", "sections"])
        #expect(object["verdict"] as? String == "repair")
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.map { $0["name"] as? String } == AnswerQuality.checkNames)
        #expect(checks.allSatisfy { Set($0.keys) == ["name", "passed", "detail"] })
        #expect(object["sections"] as? [String: String] == ["bottleneck": "model", "rootCause": "offlineRepair", "fix": "offlineRepair"])
        #expect(gated.quality.fallbackDetail.hasPrefix("the model's answer failed the quality checks: sections (missing: rootCause, fix)"))
        #expect(QualityVerdict.fallbackReason == "low_quality")
        // Round trip.
        #expect(try JSONDecoder().decode(QualityVerdict.self, from: encoder.encode(gated.quality)) == gated.quality)
    }

    @Test func aLoopingStreamIsStoppedEarly() throws {
        let context = try QualitySubjects.context("fib")
        let answer = "##### Performance bottleneck\n" + String(repeating: "The bottleneck is `fib.Fibonacci`, which calls `big.addVV` in a loop. ", count: 40)
        var monitor = StreamQualityMonitor()
        var sent = 0
        var stopped: QualityCheck?
        // Deltas of about one token, as llama-server sends them.
        var rest = Substring(answer)
        while !rest.isEmpty {
            let n = min(rest.count, 4)
            let delta = String(rest.prefix(n))
            rest = rest.dropFirst(n)
            if case .stop(let check) = monitor.feed(delta) {
                stopped = check
                break
            }
            sent += n
        }
        let check = try #require(stopped)
        #expect(check.name == "repetition" && !check.passed)
        #expect(check.detail.contains("the bottleneck is"))
        // Stopped at the third copy of the sentence, long before the end.
        #expect(sent < 4 * answer.count / 10)
        #expect(monitor.stoppedBy != nil)
        // Feeding after the stop keeps saying stop and adds nothing.
        let length = monitor.text.count
        #expect(monitor.feed("more") != .proceed)
        #expect(monitor.text.count == length)
        let gated = monitor.finish(finishReason: nil, context: context)
        #expect(gated.quality.verdict == .reject)
        #expect(gated.quality.failedChecks == ["sections", "repetition", "finishReason"])
        #expect(gated.quality.checks.first { $0.name == "finishReason" }?.detail == "stopped while streaming because the model looped")
        #expect(gated.streamEpilogue?.contains(context.offlineMarkdown) == true)
    }

    @Test func aGoodStreamIsNeverStopped() throws {
        for label in Self.labels where label.verdict == "accept" {
            var monitor = StreamQualityMonitor()
            let answer = try Self.answer(label.file)
            var i = answer.startIndex
            while i < answer.endIndex {
                let j = answer.index(i, offsetBy: 3, limitedBy: answer.endIndex) ?? answer.endIndex
                #expect(monitor.feed(String(answer[i ..< j])) == .proceed, "\(label.file)")
                i = j
            }
            let gated = monitor.finish(finishReason: "stop", context: try QualitySubjects.context(label.subject))
            #expect(gated.quality.verdict == .accept, "\(label.file)")
        }
    }

    @Test func loopsWithoutSentenceEndsAreFound() {
        var d = RepetitionDetector()
        #expect(d.feed(String(repeating: "and then the loop goes on ", count: 5)).count == 1)
        var words = RepetitionDetector()
        #expect(words.feed(String(repeating: "the ", count: 29)).isEmpty)
        #expect(words.feed("the ").count == 1)
        // Two copies of a sentence are a restatement, not a loop.
        var twice = RepetitionDetector()
        #expect(twice.feed("The hottest function is here. Other text follows. The hottest function is here. ").isEmpty)
        #expect(twice.finish().isEmpty)
    }

    @Test func followUpsNeedNoSectionsButMustNotLoop() throws {
        let fib = try QualitySubjects.context("fib")
        let context = QualityContext.followUp(
            functions: fib.functions, aliases: fib.aliases, numbers: fib.numbers, offlineMarkdown: fib.offlineMarkdown)
        let ok = AnswerQuality.evaluate(
            "Garbage collection is not a problem here: the profile shows almost no time in the collector, and the allocation in `big.nat.make` is small.",
            finishReason: "stop", context: context)
        #expect(ok.quality.verdict == .accept)
        #expect(ok.quality.sections == ["answer": .model])
        let noCitation = AnswerQuality.evaluate(
            "Garbage collection is not a problem here because the program allocates very little memory while it runs its loops.",
            finishReason: "stop", context: context)
        #expect(noCitation.quality.verdict == .accept)
        let cut = AnswerQuality.evaluate(
            "The allocation in `big.nat.make` is small. It could be removed by reusing values. The next step would be to",
            finishReason: "length", context: context)
        #expect(cut.quality.verdict == .repair)
        #expect(cut.markdown.hasPrefix("The allocation in `math/big.nat.make` is small. It could be removed by reusing values.\n\n_(The answer was cut"))
        let loop = AnswerQuality.evaluate(String(repeating: "GC is fine because `big.nat.make` is small. ", count: 10), finishReason: "length", context: context)
        #expect(loop.quality.verdict == .reject)
        #expect(loop.markdown == fib.offlineMarkdown)
    }

    @Test func groundedNeedsACitedFunction() throws {
        let fib = try QualitySubjects.context("fib")
        func g(_ s: String) -> Grounding { Grounding(answer: s, functions: fib.functions, aliases: fib.aliases, numbers: fib.numbers) }
        #expect(!g("Nothing in backticks here.").grounded)
        #expect(g("`fib.Fibonacci` is hot.").grounded)
        #expect(g("`fib.Fibonacci` is hot.").verifiedFunctions == ["github.com/polarsignals/pprof-example-app-go/fib.Fibonacci"])
        #expect(!g("`fib.Fibonacci` and `made.Up` are hot.").grounded)
        #expect(!g("`fib.Fibonacci` takes 12.3% of cpu.").grounded)
        // A file alone is not a function of the profile.
        let withFiles = Grounding(answer: "See `fib.go:12`.", functions: fib.functions, files: ["fib/fib.go"], numbers: [])
        #expect(withFiles.verified == ["fib.go:12"] && withFiles.verifiedFunctions.isEmpty && !withFiles.grounded)
    }

    @Test func lenientTitlesAndTheStrictParserUnchanged() {
        let titles = AnswerSections.explainTitles
        let text = """
            Intro line.
            1) **Performance Bottleneck:** hot `a`
            more about it
            II. Root Causes
            slow because
            - __Recommendations__ – do less
            """
        let o = AnswerOutline(text, titles: titles)
        #expect(o.preamble == "Intro line.")
        #expect(o.sections.map(\.key) == ["bottleneck", "rootCause", "fix"])
        #expect(o["bottleneck"]?.text == "hot `a`\nmore about it")
        #expect(o["rootCause"]?.text == "slow because")
        #expect(o["fix"]?.text == "do less")
        // A title repeated later stays in the section it interrupts, and is reported.
        let again = AnswerOutline("## Root cause\nx\n## Fix\ny\n## Root cause\nz", titles: titles)
        #expect(again["fix"]?.text == "y\n## Root cause\nz" && again.repeatedTitles == ["rootCause"])
        // Not titles: a sentence that merely starts like one, a title inside a code block, a bare word line.
        let prose = AnswerOutline("##### Root cause\nThe root cause is the loop.\n```\n## Fix\n```\nFix\nbottleneck", titles: titles)
        #expect(prose.sections.map(\.key) == ["rootCause"])
        // The strict parser keeps its behaviour: headings only.
        #expect(AnswerSections("**Root cause**\nx\n##### Recommended fix\ny", titles: titles).sections == ["fix": "y"])
        #expect(AnswerSections(lenient: "**Root cause**\nx\n##### Recommended fix\ny", titles: titles).sections == ["rootCause": "x", "fix": "y"])
    }

    @Test func languageHeuristicOnTheOfflineTexts() throws {
        // Every offline explanation of every real fixture reads as English to the heuristic.
        for file in ["go-cpu-fib.pb.gz", "python-cpu.pb.gz", "java-cpu-jfr-kafka.pb.gz", "ruby-cpu.pb.gz", "nodejs-cpu.pb.gz", "go-heap.pb.gz"] {
            let a = try CompactPromptTests.analysis(Fixtures.profile(file))
            let context = QualityContext.explain(a, prompt: PromptBuilder.explain(a, budget: QualitySubjects.small, template: try PromptTemplate.load(.explain, variant: .compact)))
            let gated = AnswerQuality.evaluate(context.offlineMarkdown, finishReason: "stop", context: context)
            #expect(gated.quality.checks.first { $0.name == "language" }?.passed == true, "\(file): \(gated.quality.checks)")
            #expect(gated.quality.verdict == .accept, "\(file): \(gated.quality.checks.filter { !$0.passed })")
        }
    }
}
