/// A regular expression in RE2 syntax (what Go's `regexp` and pprof's `-focus`/`-ignore` accept) that
/// matches in time linear in the text: O(text length × pattern size), whatever the pattern and the text.
/// No backtracking, so `(a+)+$` against forty `a`s and a `!` is as quick as `a`.
///
/// ```swift
/// let re = try LinearRegex(#"^runtime\.(malloc|gc)"#)
/// re.matches("runtime.mallocgc")  // true
/// ```
///
/// Matching is a search, like Go's `MatchString`: `matches` is true when the pattern matches any part of
/// the text (anchor it with `^…$` or `\A…\z` to match the whole text). Only whether there is a match is
/// computed, so greedy and lazy repetitions (`*`, `*?`, `(?U)`) behave the same.
///
/// Text is matched as Unicode scalars decoded from UTF-8; an invalid byte (only possible through
/// ``matches(utf8:)``) reads as one U+FFFD, as in Go. `.` and classes match one scalar, not one
/// `Character`: `é` written as `e` + U+0301 is two scalars.
///
/// Supported (RE2 syntax):
/// - literals, `.` (not `\n` unless `(?s)`), `[abc]`, `[^a-z]`, `[]a]`, escapes in classes, POSIX
///   `[[:alpha:]]` `[[:^space:]]`, Perl `\d \w \s \D \W \S` (ASCII, as in RE2), Unicode general
///   categories `\pL \p{Lu} \PN \p{^L}` (from the Swift standard library's Unicode data) and `\p{Any}`;
/// - escapes `\. \\ \* \( \t \n \r \f \v \a \x41 \x{263A} \101` (octal) and `\Q...\E`;
/// - anchors `^ $` (text edges, or line edges with `(?m)`), `\A \z \b \B` (ASCII word boundary);
/// - groups `(re)`, `(?:re)`, `(?P<name>re)`, `(?<name>re)`; alternation `|`;
/// - repetition `* + ? {n} {n,} {n,m}` and their lazy forms `*?` …; a `{` that does not start a
///   repetition is a literal, as in RE2;
/// - flags `(?i)` (Unicode simple case folding), `(?m)`, `(?s)`, `(?U)`, `(?i-s)`, `(?i:re)`.
///
/// Rejected with a ``LinearRegexError``: backreferences (`\1`, `\k<n>`, `(?P=n)`) and lookaround
/// (`(?=`, `(?!`, `(?<=`, `(?<!`), which RE2 syntax does not have; Unicode scripts (`\p{Greek}`, which
/// RE2 has); counts above 1000 or nested counted repetitions making more than 1000 copies (RE2's rules);
/// nesting deeper than 1000; programs above ``maxInstructions`` instructions; and every syntax error RE2
/// reports (`a**`, `*a`, `(a`, `a)`, `[a`, `[z-a]`, `\q`, …).
public struct LinearRegex: Sendable, CustomStringConvertible {
    /// The most instructions a compiled pattern may have. Counted repetitions are expanded, so
    /// `[a-z]{1000}` takes 1000 and `(abc){1000}` 3000. Matching costs at most this many steps per byte of
    /// text (far fewer in practice: only live threads are stepped).
    public static let maxInstructions = 100_000

    /// The largest count in `{n,m}`, and the most copies nested counted repetitions may make (RE2's limit).
    public static let maxRepeatCount = 1000

    /// The pattern as given.
    public let pattern: String

    private let program: Program

    /// Parses and compiles `pattern` (RE2 syntax).
    public init(_ pattern: String) throws(LinearRegexError) {
        let (root, classes) = try Parser.parse(pattern)
        self.program = try Compiler.compile(root, classes: classes, limit: Self.maxInstructions)
        self.pattern = pattern
    }

    /// The number of instructions of the compiled program (the per-byte cost bound of matching).
    public var instructionCount: Int { program.insts.count }

    /// Whether the pattern matches anywhere in `text`. Native Swift strings are read in place, without
    /// copying.
    public func matches(_ text: some StringProtocol) -> Bool {
        if let result = text.utf8.withContiguousStorageIfAvailable({ program.matches($0) }) { return result }
        return ContiguousArray(text.utf8).withUnsafeBufferPointer { program.matches($0) }
    }

    /// Whether the pattern matches anywhere in the UTF-8 `bytes`; each byte that is not part of a valid
    /// UTF-8 sequence reads as one U+FFFD. Contiguous collections (`[UInt8]`, `UnsafeBufferPointer<UInt8>`,
    /// `Data`, `String.UTF8View`) are read in place.
    public func matches<Bytes: Collection>(utf8 bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ program.matches($0) }) { return result }
        return ContiguousArray(bytes).withUnsafeBufferPointer { program.matches($0) }
    }

    public var description: String { pattern }
}
