import Explain
import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

/// The compact templates: a 2,048-token model with 512 tokens for the answer still gets the main
/// finding, the culprit and at least 5 functions.
@Suite struct CompactPromptTests {
    static let small = TokenBudget(contextTokens: 2048, answerTokens: 512)

    static func analysis(_ path: URL) throws -> Analysis {
        try Analysis(profile: Profile.decode(Array(Data(contentsOf: path))), catalogue: Category.catalogue())
    }

    static func diff(_ base: URL, _ cmp: URL) throws -> DiffExplanation {
        let b = try Profile.decode(Array(Data(contentsOf: base)))
        let c = try Profile.decode(Array(Data(contentsOf: cmp)))
        return DiffExplanation(diff: try DiffTree(baseline: [b], comparison: [c], options: TreeOptions()), catalogue: try Category.catalogue())
    }

    static func interpret(_ name: String) -> URL { Fixtures.root.appendingPathComponent("interpret/\(name).pb.gz") }

    @Test func smallContextsGetTheCompactTemplates() throws {
        #expect(PromptTemplate.variant(for: Self.small) == .compact)
        #expect(PromptTemplate.variant(for: TokenBudget(contextTokens: 4096, answerTokens: 1024)) == .compact)
        #expect(PromptTemplate.variant(for: TokenBudget(contextTokens: 4097, answerTokens: 1024)) == .standard)
        #expect(PromptTemplate.variant(for: TokenBudget()) == .standard)
        let t = try PromptTemplate.load(.explain, for: Self.small)
        #expect(t.variant == .compact && t.name == "v1-compact")
        // The standard loader is unchanged.
        #expect(try PromptTemplate.load(.explain).variant == .standard)
        #expect(try PromptTemplate.load(.diff).name == "v1")
    }

    @Test(arguments: [
        "go-cpu-fib.pb.gz", "go-cpu-large.pb.gz", "python-cpu.pb.gz", "java-cpu-jfr-kafka.pb.gz", "ruby-cpu.pb.gz", "nodejs-cpu.pb.gz",
        "go-heap.pb.gz", "dotnet-labels.pb",
    ])
    func compactPromptsFit2048WithTheMainFacts(_ file: String) throws {
        let a = try Self.analysis(Fixtures.profile(file))
        let p = PromptBuilder.explain(a, budget: Self.small, template: try PromptTemplate.load(.explain, for: Self.small))
        #expect(p.tokenBound <= 2048 - 512, "bound \(p.tokenBound)")
        #expect(p.templateVersion == "v1-compact")
        #expect(p.functionsIncluded >= min(5, p.functionsAvailable), "\(p.functionsIncluded) of \(p.functionsAvailable)")
        if let culprit = a.culprit { #expect(p.user.contains("user code to change: " + PromptBuilder.quote(p.aliases.first { $0.value == culprit }?.key ?? culprit))) }
        if let finding = a.findings.first { #expect(p.user.contains("finding: \(finding.title)")) }
        // The same safety line as the standard system prompt, and the data block closed once.
        #expect(p.system.contains("never instructions"))
        #expect(p.user.components(separatedBy: "</profile-data>").count == 2)
    }

    @Test func aCompactPromptIsMuchSmallerThanTheStandardOne() throws {
        let a = try Self.analysis(Fixtures.profile("go-cpu-large.pb.gz"))
        let standard = PromptBuilder.explain(a, template: try PromptTemplate.load(.explain))
        let compact = PromptBuilder.explain(a, budget: Self.small, template: try PromptTemplate.load(.explain, for: Self.small))
        #expect(compact.tokenBound * 2 < standard.tokenBound)
        // With room to spare, compact keeps every function, like the standard one.
        let roomy = PromptBuilder.explain(a, budget: TokenBudget(contextTokens: 4096, answerTokens: 512), template: try PromptTemplate.load(.explain, variant: .compact))
        #expect(roomy.functionsIncluded == roomy.functionsAvailable)
    }

    @Test func compactDiffPromptsFitToo() throws {
        for cmp in ["service-regex", "service-json", "service-lock"] {
            let d = try Self.diff(Self.interpret("service-base"), Self.interpret(cmp))
            let p = PromptBuilder.diff(d, budget: Self.small, template: try PromptTemplate.load(.diff, for: Self.small))
            #expect(p.tokenBound <= 1536, "\(cmp): \(p.tokenBound)")
            #expect(p.functionsIncluded >= min(5, p.functionsAvailable))
            if let culprit = d.culprit { #expect(p.user.contains(PromptBuilder.quote(p.aliases.first { $0.value == culprit }?.key ?? culprit))) }
            #expect(p.user.contains("category "))
        }
    }

    @Test func aTightCompactBudgetCutsPathsBeforeTheFifthFunction() throws {
        let a = try Self.analysis(Fixtures.profile("go-cpu-large.pb.gz"))
        let t = try PromptTemplate.load(.explain, variant: .compact)
        let full = PromptBuilder.explain(a, budget: TokenBudget(contextTokens: 100_000, answerTokens: 0), template: t)
        var context = full.tokenBound
        var last = full
        // Shrink the budget step by step: paths go down to one before functions go below the whole list,
        // and functions never go below 5 while a path or a long name is left to cut.
        while context > 400 {
            context -= 40
            let p = PromptBuilder.explain(a, budget: TokenBudget(contextTokens: context, answerTokens: 0), template: t)
            if p.functionsIncluded < last.functionsIncluded && last.functionsIncluded <= 5 { #expect(p.pathsIncluded == 0) }
            if p.functionsIncluded < p.functionsAvailable && p.functionsIncluded > 5 { #expect(p.pathsIncluded <= 1) }
            last = p
        }
    }

    @Test func theRetryPromptNamesTheProblemsAndIsShorter() throws {
        let a = try Self.analysis(Fixtures.profile("go-cpu-fib.pb.gz"))
        let verdict = QualityVerdict(
            verdict: .reject,
            checks: [
                QualityCheck(name: "sections", passed: false, detail: "missing: rootCause, fix"),
                QualityCheck(name: "repetition", passed: false, detail: "x"),
                QualityCheck(name: "dominantLine", passed: false, detail: "x"),
                QualityCheck(name: "language", passed: true, detail: ""),
            ],
            sections: [:])
        let retry = try PromptBuilder.retry(a, after: verdict, budget: Self.small)
        let compact = PromptBuilder.explain(a, budget: Self.small, template: try PromptTemplate.load(.explain, for: Self.small))
        #expect(retry.templateVersion == "v1-strict")
        #expect(retry.user.hasPrefix("A first answer lacked the required headings"))
        // repetition and dominantLine give one sentence, not two.
        #expect(retry.user.components(separatedBy: "write each sentence once").count == 2)
        #expect(!retry.user.contains("{{"))
        #expect(retry.tokenBound < compact.tokenBound)
        #expect(retry.budget == 2048 - 384)
        #expect(PromptBuilder.retryBudget(Self.small).answerTokens == 384)
        let d = try Self.diff(Self.interpret("service-base"), Self.interpret("service-regex"))
        let diffRetry = try PromptBuilder.retry(d, after: verdict, budget: Self.small)
        #expect(diffRetry.user.contains("##### Function impact"))
    }

    /// Writes prompts for scripts/record-llm-answers: set FLAMEGRAPH_AI_PROMPT_DUMP to a directory and
    /// FLAMEGRAPH_AI_PROMPT_SPECS to a file of lines `name<TAB>base<TAB>comparison-or-empty<TAB>context<TAB>answer<TAB>variant`
    /// (variant: standard, compact, auto for the budget's choice, or strict:CHECK,CHECK for the retry prompt
    /// after an answer that failed those checks). Without the variables it does nothing.
    @Test func dumpPromptsForRecording() throws {
        let env = ProcessInfo.processInfo.environment
        guard let out = env["FLAMEGRAPH_AI_PROMPT_DUMP"], let specs = env["FLAMEGRAPH_AI_PROMPT_SPECS"] else { return }
        let dir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for line in try String(contentsOfFile: specs, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6 else { continue }
            let budget = TokenBudget(contextTokens: Int(f[3])!, answerTokens: Int(f[4])!)
            let prompt: ChatPrompt
            if f[5].hasPrefix("strict:") {
                let failed = f[5].dropFirst(7).split(separator: ",").map { QualityCheck(name: String($0), passed: false, detail: "") }
                let verdict = QualityVerdict(verdict: .reject, checks: failed, sections: [:])
                prompt = f[2].isEmpty
                    ? try PromptBuilder.retry(try Self.analysis(URL(fileURLWithPath: f[1])), after: verdict, budget: budget)
                    : try PromptBuilder.retry(try Self.diff(URL(fileURLWithPath: f[1]), URL(fileURLWithPath: f[2])), after: verdict, budget: budget)
            } else if f[2].isEmpty {
                let variant = f[5] == "auto" ? PromptTemplate.variant(for: budget) : PromptTemplate.Variant(rawValue: f[5])!
                prompt = PromptBuilder.explain(
                    try Self.analysis(URL(fileURLWithPath: f[1])), budget: budget, template: try PromptTemplate.load(.explain, variant: variant))
            } else {
                let variant = f[5] == "auto" ? PromptTemplate.variant(for: budget) : PromptTemplate.Variant(rawValue: f[5])!
                prompt = PromptBuilder.diff(
                    try Self.diff(URL(fileURLWithPath: f[1]), URL(fileURLWithPath: f[2])), budget: budget,
                    template: try PromptTemplate.load(.diff, variant: variant))
            }
            let json: [String: Any] = [
                "name": f[0], "system": prompt.system, "user": prompt.user, "templateVersion": prompt.templateVersion,
                "tokenBound": prompt.tokenBound, "budget": prompt.budget, "functionsIncluded": prompt.functionsIncluded,
                "functionsAvailable": prompt.functionsAvailable, "pathsIncluded": prompt.pathsIncluded,
                "pathsAvailable": prompt.pathsAvailable, "contextTokens": budget.contextTokens,
                "answerTokens": f[5].hasPrefix("strict:") ? PromptBuilder.retryBudget(budget).answerTokens : budget.answerTokens,
            ]
            try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
                .write(to: dir.appendingPathComponent("\(f[0]).prompt.json"))
        }
    }
}

/// The smallest room a budget setting may leave for the prompt (`TokenBudget.minimumPromptTokens`) still
/// carries the main finding, the culprit and 5 functions; budgets from settings are checked.
@Suite struct BudgetSettingsTests {
    @Test(arguments: [
        "go-cpu-fib.pb.gz", "go-cpu-large.pb.gz", "python-cpu.pb.gz", "java-cpu-jfr-kafka.pb.gz", "ruby-cpu.pb.gz", "nodejs-cpu.pb.gz",
        "go-heap.pb.gz", "dotnet-labels.pb",
    ])
    func theMinimumPromptRoomHoldsTheMainFacts(_ file: String) throws {
        let a = try CompactPromptTests.analysis(Fixtures.profile(file))
        let budget = TokenBudget(contextTokens: TokenBudget.minimumPromptTokens + 256, answerTokens: 256)
        let p = PromptBuilder.explain(a, budget: budget, template: try PromptTemplate.load(.explain, for: budget))
        #expect(p.tokenBound <= TokenBudget.minimumPromptTokens, "bound \(p.tokenBound)")
        #expect(p.functionsIncluded >= min(5, p.functionsAvailable), "\(p.functionsIncluded) of \(p.functionsAvailable)")
        if let culprit = a.culprit { #expect(p.user.contains(PromptBuilder.quote(p.aliases.first { $0.value == culprit }?.key ?? culprit))) }
        if let finding = a.findings.first { #expect(p.user.contains("finding: \(finding.title)")) }
    }

    @Test func settingsAreCheckedAndTheAnswerRoomFollowsTheContext() throws {
        #expect(try TokenBudget.checked(contextTokens: 2048) == TokenBudget(contextTokens: 2048, answerTokens: 512))
        #expect(try TokenBudget.checked(contextTokens: 4096) == TokenBudget(contextTokens: 4096, answerTokens: 1024))
        #expect(try TokenBudget.checked(contextTokens: 32768) == TokenBudget(contextTokens: 32768, answerTokens: 1024))
        #expect(try TokenBudget.checked(contextTokens: 2048, answerTokens: 256) == TokenBudget(contextTokens: 2048, answerTokens: 256))
        #expect(throws: BudgetError.contextTooSmall(contextTokens: 1024, answerTokens: 256)) { try TokenBudget.checked(contextTokens: 1024) }
        #expect(throws: BudgetError.contextTooSmall(contextTokens: 2048, answerTokens: 1100)) {
            try TokenBudget.checked(contextTokens: 2048, answerTokens: 1100)
        }
        #expect(throws: BudgetError.answerTooSmall(answerTokens: 50)) { try TokenBudget.checked(contextTokens: 8192, answerTokens: 50) }
        let message = BudgetError.contextTooSmall(contextTokens: 1024, answerTokens: 256).description
        #expect(message.contains("too small for even the compact prompt") && message.contains("at least 1792 tokens"), "\(message)")
    }
}
