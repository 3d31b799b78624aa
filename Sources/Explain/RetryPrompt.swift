import Foundation

/// One retry after the quality gate: a stricter, shorter prompt (the `strict` templates: compact data,
/// a fill-in template, at most 100 words) that opens by naming what went wrong with the first answer.
/// Whether to retry is the caller's choice; a retry should go out with temperature 0 and at most
/// `retryAnswerTokens` for the answer, and its answer goes through the gate again (no second retry).
extension PromptBuilder {
    /// Room for the retry's answer: 100 words need about 150 tokens; the rest is slack for names.
    public static let retryAnswerTokens = 384

    public static func retry(_ a: Analysis, after verdict: QualityVerdict, budget: TokenBudget) throws -> ChatPrompt {
        explain(a, budget: retryBudget(budget), template: try PromptTemplate.load(.explain, variant: .strict),
                extra: ["problems": retryProblems(verdict)])
    }

    public static func retry(_ d: DiffExplanation, after verdict: QualityVerdict, budget: TokenBudget) throws -> ChatPrompt {
        diff(d, budget: retryBudget(budget), template: try PromptTemplate.load(.diff, variant: .strict),
             extra: ["problems": retryProblems(verdict)])
    }

    /// The same context, with `retryAnswerTokens` kept for the answer (less when the budget gave less).
    public static func retryBudget(_ budget: TokenBudget) -> TokenBudget {
        TokenBudget(contextTokens: budget.contextTokens, answerTokens: min(budget.answerTokens, retryAnswerTokens))
    }

    /// What the first answer got wrong, as instructions: one sentence per failed check.
    public static func retryProblems(_ verdict: QualityVerdict) -> String {
        let advice: [String: String] = [
            "sections": "A first answer lacked the required headings: write each of the three headings exactly as given, on a line of its own.",
            "repetition": "A first answer repeated the same words over and over: write each sentence once.",
            "dominantLine": "A first answer repeated the same words over and over: write each sentence once.",
            "finishReason": "A first answer was too long and was cut off: stay under 100 words.",
            "citesProfile": "A first answer named no function from the data: name the functions from the data, in backticks.",
            "substance": "A first answer copied the instructions: answer about this profile's data.",
            "language": "A first answer was not in English: answer in English.",
        ]
        var seen = Set<String>()
        let lines = verdict.failedChecks.compactMap { advice[$0] }.filter { seen.insert($0).inserted }
        return (lines.isEmpty ? ["Answer about this profile."] : lines).joined(separator: " ")
    }
}
