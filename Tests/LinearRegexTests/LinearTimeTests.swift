import LinearRegex
import Testing

/// Patterns that take a backtracking engine exponential (or high polynomial) time take one pass here.
@Suite struct LinearTimeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var pattern: String
        var text: String
        var expected: Bool
        var testDescription: String { "/\(pattern)/ on \(text.count) characters" }
    }

    static let n = 10_000
    static let aaaBang = String(repeating: "a", count: n - 1) + "!"
    static let cases: [Case] = [
        Case(pattern: "(a+)+$", text: aaaBang, expected: false),
        Case(pattern: "(a|a)*$", text: aaaBang, expected: true),  // the empty match at the end
        Case(pattern: "(a|aa)+$", text: aaaBang, expected: false),
        Case(pattern: "a*a*a*a*a*b", text: String(repeating: "a", count: n), expected: false),
        Case(pattern: "(x+x+)+y", text: String(repeating: "x", count: n), expected: false),
        Case(pattern: "(.*)*b", text: String(repeating: "a", count: n), expected: false),
        Case(pattern: "^(a|aa)+$", text: aaaBang, expected: false),
        Case(pattern: #"^(\w+\s?)*$"#, text: String(repeating: "word ", count: n / 5 - 1) + "word!", expected: false),
        Case(pattern: "(a*)*b", text: String(repeating: "a", count: n), expected: false),
        Case(pattern: "(?i)(a|A)+$", text: aaaBang, expected: false),
        Case(pattern: "(a+)+$", text: String(repeating: "a", count: n), expected: true),
        // The issue's case: a 41-character function name.
        Case(pattern: "(a+)+$", text: String(repeating: "a", count: 40) + "!", expected: false),
    ]

    @Test(arguments: cases)
    func finishesQuickly(_ c: Case) throws {
        let re = try LinearRegex(c.pattern)
        var result = !c.expected
        let elapsed = ContinuousClock().measure { result = re.matches(c.text) }
        #expect(result == c.expected)
        #expect(elapsed < .seconds(1), "took \(elapsed)")
    }

    /// Counted repetitions multiply into many instructions and many live threads; still one pass.
    @Test func nestedCountsOnLongText() throws {
        let re = try LinearRegex("(?:[a-z]{2,20}[0-9]?){1,40}!")
        #expect(re.instructionCount > 1_000)
        let text = String(repeating: "abc1", count: 2_500)
        var result = true
        let elapsed = ContinuousClock().measure { result = re.matches(text) }
        #expect(!result)
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }
}
