import LinearRegex
import Testing

/// Typed errors: the right case, the right position (in Unicode scalars), the offending text, and a
/// message that says what is wrong.
@Suite struct ErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var pattern: String
        var error: LinearRegexError
        var testDescription: String { "/\(pattern)/" }
    }

    static let cases: [Case] = [
        // Not RE2: backreferences and lookaround
        Case(pattern: #"(a)\1"#, error: .backreference(position: 3, text: #"\1"#)),
        Case(pattern: #"(a)(b)\2+"#, error: .backreference(position: 6, text: #"\2"#)),
        Case(pattern: #"(?P<n>a)(?P=n)"#, error: .backreference(position: 8, text: "(?P=n)")),
        Case(pattern: #"(?<n>a)\k<n>"#, error: .backreference(position: 7, text: #"\k<n>"#)),
        Case(pattern: #"(a)\g{1}"#, error: .backreference(position: 3, text: #"\g{1}"#)),
        Case(pattern: #"(?=a)b"#, error: .lookaround(position: 0, text: "(?=")),
        Case(pattern: #"x(?!a)"#, error: .lookaround(position: 1, text: "(?!")),
        Case(pattern: #"(?<=a)b"#, error: .lookaround(position: 0, text: "(?<=")),
        Case(pattern: #"(?<!a)b"#, error: .lookaround(position: 0, text: "(?<!")),
        // Limits
        Case(pattern: "(a{1000}){1000}", error: .repeatTooLarge(position: 9, text: "{1000}")),
        Case(pattern: "((a{10}){10}){11}", error: .repeatTooLarge(position: 13, text: "{11}")),
        Case(pattern: "a{1001}", error: .invalidRepeatCount(position: 1, text: "{1001}")),
        Case(pattern: "a{3,2}", error: .invalidRepeatCount(position: 1, text: "{3,2}")),
        Case(pattern: "a{99999999999}", error: .invalidRepeatCount(position: 1, text: "{99999999999}")),
        Case(
            pattern: String(repeating: "x{1000}", count: 101),
            error: .programTooLarge(limit: LinearRegex.maxInstructions)),
        Case(
            pattern: String(repeating: "(", count: 1001) + String(repeating: ")", count: 1001),
            error: .nestingTooDeep(position: 2000, limit: 1000)),
        // Syntax
        Case(pattern: "a**", error: .nestedRepeatOperator(position: 1, text: "**")),
        Case(pattern: "a{2}{3}", error: .nestedRepeatOperator(position: 1, text: "{2}{3}")),
        Case(pattern: "a++", error: .nestedRepeatOperator(position: 1, text: "++")),
        Case(pattern: "*a", error: .missingRepeatArgument(position: 0, text: "*")),
        Case(pattern: "a|+", error: .missingRepeatArgument(position: 2, text: "+")),
        Case(pattern: "(ab", error: .missingClosingParenthesis(position: 0)),
        Case(pattern: "x(a(b)", error: .missingClosingParenthesis(position: 1)),
        Case(pattern: "ab)", error: .unexpectedClosingParenthesis(position: 2)),
        Case(pattern: "x[ab", error: .missingClosingBracket(position: 1)),
        Case(pattern: "[]", error: .missingClosingBracket(position: 0)),
        Case(pattern: "[z-a]", error: .invalidCharacterRange(position: 1, text: "z-a")),
        Case(pattern: "[[:foo:]]", error: .invalidCharacterClass(position: 1, text: "[:foo:]")),
        Case(pattern: #"\p{Greek}"#, error: .invalidCharacterClass(position: 0, text: #"\p{Greek}"#)),
        Case(pattern: #"\pX"#, error: .invalidCharacterClass(position: 0, text: #"\pX"#)),
        Case(pattern: #"a\q"#, error: .invalidEscape(position: 1, text: #"\q"#)),
        Case(pattern: #"\Z"#, error: .invalidEscape(position: 0, text: #"\Z"#)),
        Case(pattern: #"\x{110000}"#, error: .invalidEscape(position: 0, text: #"\x{110000"#)),
        Case(pattern: #"ab\"#, error: .trailingBackslash(position: 2)),
        Case(pattern: "(?x)a", error: .invalidGroup(position: 0, text: "(?x")),
        Case(pattern: "(?>a)", error: .invalidGroup(position: 0, text: "(?>")),
        Case(pattern: "(?i-)", error: .invalidGroup(position: 0, text: "(?i-)")),
        Case(pattern: "(?P<a-b>x)", error: .invalidCaptureName(position: 0, text: "(?P<a-b>")),
        Case(pattern: "(?<>x)", error: .invalidCaptureName(position: 0, text: "(?<>")),
        // Positions count Unicode scalars
        Case(pattern: "日本(語", error: .missingClosingParenthesis(position: 2)),
        Case(pattern: "é)", error: .unexpectedClosingParenthesis(position: 1)),
    ]

    @Test(arguments: cases)
    func rejects(_ c: Case) {
        #expect(throws: c.error) { try LinearRegex(c.pattern) }
    }

    @Test func theHugeCountedRepetitionOfTheIssueIsRefusedQuickly() {
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(throws: LinearRegexError.repeatTooLarge(position: 9, text: "{1000}")) {
                try LinearRegex("(a{1000}){1000}")
            }
        }
        #expect(elapsed < .seconds(1))
    }

    @Test func messagesSayWhereAndWhat() {
        func message(_ pattern: String) -> String {
            do {
                _ = try LinearRegex(pattern)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(message(#"(a)\1"#).contains("position 3"))
        #expect(message(#"(a)\1"#).contains("RE2 syntax has no backreferences"))
        #expect(message("(?=a)").contains("RE2 syntax has no lookahead or lookbehind"))
        #expect(message("(a{1000}){1000}").contains("1000"))
        #expect(message(String(repeating: "x{1000}", count: 101)).contains("100000 instructions"))
        #expect(message("a**").contains("position 1"))
        #expect(LinearRegexError.backreference(position: 3, text: #"\1"#).position == 3)
        #expect(LinearRegexError.programTooLarge(limit: 1).position == nil)
    }

    @Test func limitsAcceptWhatRE2Accepts() throws {
        #expect(try LinearRegex("a{1000}").instructionCount > 1000)
        #expect(try LinearRegex("((a{10}){10}){10}").matches(String(repeating: "a", count: 1000)))
        #expect(try LinearRegex("(a{1000})*").matches(""))
        // 999 nested capture groups: deep, but within the limit (and the compiler's recursion).
        let deep = try LinearRegex(String(repeating: "(", count: 999) + "a" + String(repeating: ")", count: 999))
        #expect(deep.matches("xa"))
        let deepStars = try LinearRegex(
            String(repeating: "(?:", count: 998) + "a" + String(repeating: ")*", count: 998))
        #expect(deepStars.matches(""))
    }
}
