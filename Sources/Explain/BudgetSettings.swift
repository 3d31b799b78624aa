/// Why a token budget cannot work, as a settings error says it.
public enum BudgetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The context leaves less than `TokenBudget.minimumPromptTokens` for the prompt after the answer's room.
    case contextTooSmall(contextTokens: Int, answerTokens: Int)
    /// Less than `TokenBudget.minimumAnswerTokens` for the answer: three sections do not fit.
    case answerTooSmall(answerTokens: Int)

    public var description: String {
        switch self {
        case .contextTooSmall(let context, let answer):
            return "a context of \(context) tokens is too small for even the compact prompt: after \(answer) tokens for the answer it "
                + "leaves \(max(0, context - answer)), and the compact prompt needs at least \(TokenBudget.minimumPromptTokens) "
                + "(the main finding, the culprit and \(PromptBuilder.compactMinFunctions) functions): use a context of at least "
                + "\(TokenBudget.minimumPromptTokens + answer) tokens, or fewer answer tokens"
        case .answerTooSmall(let answer):
            return "\(answer) answer tokens are too few for the three sections of an explanation; use at least \(TokenBudget.minimumAnswerTokens)"
        }
    }
}

extension TokenBudget {
    /// The compact prompt's room at its smallest: its templates and data block with the main finding, the
    /// culprit and `PromptBuilder.compactMinFunctions` functions, counted by the bound (bytes), which is 2.3 to
    /// 2.9 times what real tokenizers count (Tests/Fixtures/llm/README.md). The fixture profiles need 961 to
    /// 1,433 (Ruby's long names); 1,536 is what a 2,048-token context leaves after a 512-token answer.
    public static let minimumPromptTokens = 1536
    /// Three short sections.
    public static let minimumAnswerTokens = 128

    /// The answer's room when only the context is given: a quarter of it, at most the default 1,024 (512 of
    /// a 2,048-token context, 1,024 of 4,096 and more).
    public static func defaultAnswerTokens(contextTokens: Int) -> Int {
        min(TokenBudget().answerTokens, max(minimumAnswerTokens, contextTokens / 4))
    }

    /// A budget from settings (flags, environment, the app's jsonData), checked: `answerTokens` nil takes
    /// `defaultAnswerTokens(contextTokens:)`; the prompt must keep at least `minimumPromptTokens`.
    public static func checked(contextTokens: Int, answerTokens: Int? = nil) throws(BudgetError) -> TokenBudget {
        let answer = answerTokens ?? defaultAnswerTokens(contextTokens: contextTokens)
        guard answer >= minimumAnswerTokens else { throw .answerTooSmall(answerTokens: answer) }
        guard contextTokens - answer >= minimumPromptTokens else {
            throw .contextTooSmall(contextTokens: contextTokens, answerTokens: answer)
        }
        return TokenBudget(contextTokens: contextTokens, answerTokens: answer)
    }
}
