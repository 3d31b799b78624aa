/// Why a pattern was rejected. `position` counts Unicode scalars from 0 at the start of the pattern;
/// `text` is the offending part of the pattern. The `description` says what is wrong and what to do.
public enum LinearRegexError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A `(` that is never closed.
    case missingClosingParenthesis(position: Int)
    /// A `)` with no `(` before it.
    case unexpectedClosingParenthesis(position: Int)
    /// A `[` class that is never closed (`[]` and `[^]` are not empty classes: a `]` right after the
    /// bracket is a literal).
    case missingClosingBracket(position: Int)
    /// A range whose end comes before its start, such as `[z-a]`.
    case invalidCharacterRange(position: Int, text: String)
    /// An unknown POSIX class (`[[:foo:]]`) or Unicode class (`\p{Foo}`). RE2 scripts such as
    /// `\p{Greek}` are among them: only general categories (`\pL`, `\p{Lu}`, …) and `\p{Any}` are supported.
    case invalidCharacterClass(position: Int, text: String)
    /// An escape RE2 does not define, such as `\q`, `\Z`, `\C` or `\x{110000}`.
    case invalidEscape(position: Int, text: String)
    /// The pattern ends with a single `\`.
    case trailingBackslash(position: Int)
    /// A repetition operator with nothing before it: `*a`, `(+a)`, `a|?`.
    case missingRepeatArgument(position: Int, text: String)
    /// Two repetition operators in a row, such as `a**` or `a{2}{3}` (possessive `a++` is not RE2 either).
    case nestedRepeatOperator(position: Int, text: String)
    /// A count above 1000 or a minimum above the maximum: `a{1001}`, `a{3,2}`.
    case invalidRepeatCount(position: Int, text: String)
    /// Nested counted repetitions that multiply to more than 1000 copies, such as `(a{1000}){1000}`.
    case repeatTooLarge(position: Int, text: String)
    /// A `(?` group RE2 does not have, or unknown flags: `(?x)`, `(?>a)`, `(?#c)`, `(?-)`.
    case invalidGroup(position: Int, text: String)
    /// A group name that is empty or not `[A-Za-z0-9_]+`, or a `(?P<name` without its `>`.
    case invalidCaptureName(position: Int, text: String)
    /// `\1`, `\k<name>`, `\g1`, `(?P=name)`: RE2 syntax has no backreferences.
    case backreference(position: Int, text: String)
    /// `(?=`, `(?!`, `(?<=`, `(?<!`: RE2 syntax has no lookahead or lookbehind.
    case lookaround(position: Int, text: String)
    /// Groups and repetitions nested more than `limit` deep.
    case nestingTooDeep(position: Int, limit: Int)
    /// The compiled program would exceed `limit` instructions (counted repetitions are expanded).
    case programTooLarge(limit: Int)

    /// Where in the pattern the problem is, in Unicode scalars from 0; `nil` for whole-pattern limits.
    public var position: Int? {
        switch self {
        case .missingClosingParenthesis(let p), .unexpectedClosingParenthesis(let p), .missingClosingBracket(let p),
            .trailingBackslash(let p):
            p
        case .invalidCharacterRange(let p, _), .invalidCharacterClass(let p, _), .invalidEscape(let p, _),
            .missingRepeatArgument(let p, _), .nestedRepeatOperator(let p, _), .invalidRepeatCount(let p, _),
            .repeatTooLarge(let p, _), .invalidGroup(let p, _), .invalidCaptureName(let p, _),
            .backreference(let p, _), .lookaround(let p, _), .nestingTooDeep(let p, _):
            p
        case .programTooLarge:
            nil
        }
    }

    public var description: String {
        switch self {
        case .missingClosingParenthesis(let p):
            "missing ) for the ( at position \(p)"
        case .unexpectedClosingParenthesis(let p):
            "unexpected ) at position \(p): there is no ( for it (escape it as \\) to match a parenthesis)"
        case .missingClosingBracket(let p):
            "missing ] for the character class at position \(p) (a ] right after [ or [^ is a literal)"
        case .invalidCharacterRange(let p, let t):
            "invalid character range `\(t)` at position \(p): the end comes before the start"
        case .invalidCharacterClass(let p, let t):
            "unknown character class `\(t)` at position \(p): use a POSIX class such as [[:alpha:]], a Unicode"
                + " general category such as \\pL or \\p{Lu}, or \\p{Any} (Unicode scripts are not supported)"
        case .invalidEscape(let p, let t):
            "invalid escape `\(t)` at position \(p): RE2 has no such escape (escape punctuation with \\, write"
                + " characters as \\x41 or \\x{263A}, use \\z for the end of the text)"
        case .trailingBackslash(let p):
            "trailing \\ at position \(p): escape it as \\\\ to match a backslash"
        case .missingRepeatArgument(let p, let t):
            "missing argument to repetition operator `\(t)` at position \(p): nothing before it to repeat"
                + " (escape it to match it literally)"
        case .nestedRepeatOperator(let p, let t):
            "invalid nested repetition operator `\(t)` at position \(p): RE2 does not allow repeating a"
                + " repetition directly (no possessive a++); put the inner one in a group: (?:a+)+"
        case .invalidRepeatCount(let p, let t):
            "invalid repeat count `\(t)` at position \(p): counts must be at most 1000 and min must not exceed max"
        case .repeatTooLarge(let p, let t):
            "repeat count `\(t)` at position \(p) is too large: nested counted repetitions would make more than"
                + " 1000 copies (RE2's limit)"
        case .invalidGroup(let p, let t):
            "invalid or unsupported group syntax `\(t)` at position \(p): RE2 has (?:re), (?P<name>re), (?<name>re)"
                + " and the flags i, m, s, U as (?flags) or (?flags:re)"
        case .invalidCaptureName(let p, let t):
            "invalid group name `\(t)` at position \(p): names are one or more of [A-Za-z0-9_], closed by >"
        case .backreference(let p, let t):
            "backreference `\(t)` at position \(p): RE2 syntax has no backreferences (it matches in linear time);"
                + " write the alternatives out instead"
        case .lookaround(let p, let t):
            "lookaround `\(t)` at position \(p): RE2 syntax has no lookahead or lookbehind assertions (it"
                + " matches in linear time); use anchors ^ $ \\b, or a second pattern for what must not match"
        case .nestingTooDeep(let p, let limit):
            "the expression nests too deeply at position \(p): groups and repetitions may nest at most \(limit) deep"
        case .programTooLarge(let limit):
            "the expression is too large: it compiles to more than \(limit) instructions; use smaller counted"
                + " repetitions ({n,m})"
        }
    }
}
