/// RE2 syntax (as Go's `regexp/syntax` parses it with its Perl flags) to a `Node` tree. The parser keeps
/// an explicit stack of open groups, so nesting costs no call stack; the tree's height is limited instead.
struct Parser {
    struct Flags: OptionSet {
        let rawValue: UInt8
        static let foldCase = Flags(rawValue: 1 << 0)  // (?i)
        static let multiLine = Flags(rawValue: 1 << 1)  // (?m): ^ and $ match at line breaks
        static let dotNewline = Flags(rawValue: 1 << 2)  // (?s): . matches \n
        static let nonGreedy = Flags(rawValue: 1 << 3)  // (?U): no effect on whether a match exists
    }

    /// A node with what the limits need: its height, and how many copies its counted repetitions make
    /// along the worst path (RE2 refuses more than 1000).
    struct Parsed {
        var node: Node
        var height: Int = 1
        var copies: Int = 1
    }

    /// An open group: the alternatives finished so far and the concatenation being built.
    struct Frame {
        var open: Int
        var savedFlags: Flags
        var capturing: Bool
        var alternatives: [Parsed] = []
        var concat: [Parsed] = []
    }

    static let maxRepeatCount = 1000
    static let maxHeight = 1000
    /// How PCRE's named backreferences close: \k<n>, \k{n}, \k'n'.
    private static let closers: [Unicode.Scalar: Unicode.Scalar] = ["<": ">", "{": "}", "'": "'"]

    private let s: [Unicode.Scalar]
    private var i = 0
    private var flags: Flags = []
    private var frames: [Frame]
    private var classes: [CharClass] = []
    private var classIndex: [[ClosedRange<UInt32>]: Int] = [:]

    private init(_ pattern: String) {
        s = Array(pattern.unicodeScalars)
        frames = [Frame(open: 0, savedFlags: [], capturing: false)]
    }

    /// The tree and the character classes its `.charClass` nodes index.
    static func parse(_ pattern: String) throws(LinearRegexError) -> (root: Node, classes: [CharClass]) {
        var p = Parser(pattern)
        let root = try p.run()
        return (root, p.classes)
    }

    private mutating func run() throws(LinearRegexError) -> Node {
        var lastRepeat: Int? = nil  // where the previous token started, if it was a repetition operator
        while i < s.count {
            var repeatStart: Int? = nil
            let start = i
            switch s[i] {
            case "(":
                if peek(1) == "?" {
                    try parseGroupSyntax()
                } else {
                    frames.append(Frame(open: i, savedFlags: flags, capturing: true))
                    i += 1
                }
            case "|":
                let alternative = try concat(frames[frames.count - 1].concat)
                frames[frames.count - 1].alternatives.append(alternative)
                frames[frames.count - 1].concat = []
                i += 1
            case ")":
                guard frames.count > 1 else { throw .unexpectedClosingParenthesis(position: i) }
                let frame = frames.removeLast()
                var group = try finish(frame)
                if frame.capturing { try grow(&group) }  // RE2 counts a capture as a level
                flags = frame.savedFlags
                push(group)
                i += 1
            case "^":
                push(.assertion(flags.contains(.multiLine) ? .beginLine : .beginText))
                i += 1
            case "$":
                push(.assertion(flags.contains(.multiLine) ? .endLine : .endText))
                i += 1
            case ".":
                push(flags.contains(.dotNewline) ? .anyChar : .anyCharNotNewline)
                i += 1
            case "[":
                try parseClass()
            case "*", "+", "?":
                let op = s[i]
                i += 1
                repeatStart = start
                try applyRepeat(
                    op, start: start, min: op == "+" ? 1 : 0, max: op == "?" ? 1 : nil, lastRepeat: lastRepeat)
            case "{":
                if let braces = parseRepeatBraces() {
                    let (min, max) = (braces.min, braces.max)
                    i = braces.end
                    if min < 0 || min > Self.maxRepeatCount || (max ?? 0) > Self.maxRepeatCount
                        || (max.map { min > $0 } ?? false)
                    {
                        throw .invalidRepeatCount(position: start, text: text(start, i))
                    }
                    repeatStart = start
                    try applyRepeat("{", start: start, min: min, max: max, lastRepeat: lastRepeat)
                } else {
                    literal(s[i].value)  // not a repetition: RE2 reads { as itself
                    i += 1
                }
            case "\\":
                try parseEscapeOutsideClass()
            default:
                literal(s[i].value)
                i += 1
            }
            lastRepeat = repeatStart
        }
        if frames.count > 1 { throw .missingClosingParenthesis(position: frames[frames.count - 1].open) }
        return try finish(frames[0]).node
    }

    // MARK: - Building nodes

    private mutating func push(_ node: Node) { push(Parsed(node: node)) }

    private mutating func push(_ parsed: Parsed) { frames[frames.count - 1].concat.append(parsed) }

    /// One level more, refused beyond `maxHeight`.
    private func grow(_ p: inout Parsed) throws(LinearRegexError) {
        p.height += 1
        if p.height > Self.maxHeight { throw .nestingTooDeep(position: i, limit: Self.maxHeight) }
    }

    private func concat(_ items: [Parsed]) throws(LinearRegexError) -> Parsed {
        try combine(items) { .concat($0) }
    }

    private func finish(_ frame: Frame) throws(LinearRegexError) -> Parsed {
        try combine(frame.alternatives + [concat(frame.concat)]) { .alternate($0) }
    }

    private func combine(_ items: [Parsed], _ make: ([Node]) -> Node) throws(LinearRegexError) -> Parsed {
        if items.isEmpty { return Parsed(node: .empty) }
        if items.count == 1 { return items[0] }
        var p = Parsed(
            node: make(items.map(\.node)), height: items.map(\.height).max()!, copies: items.map(\.copies).max()!)
        try grow(&p)
        return p
    }

    private mutating func literal(_ c: UInt32) {
        if flags.contains(.foldCase), let orbit = CaseFolding.orbit(c) {
            pushClass(orbit.map { $0...$0 }, negated: false)
        } else {
            push(.literal(c))
        }
    }

    /// Pushes a class, as a simpler node when it is one: one scalar, any scalar, any but newline.
    private mutating func pushClass(_ ranges: [ClosedRange<UInt32>], negated: Bool) {
        let cls = CharClass(ranges, negated: negated)
        let r = cls.ranges
        if r.count == 1 && r[0] == 0...CharClass.maxScalar {
            push(.anyChar)
        } else if r.count == 2 && r[0] == 0...0x09 && r[1] == 0x0B...CharClass.maxScalar {
            push(.anyCharNotNewline)
        } else if r.count == 1 && r[0].lowerBound == r[0].upperBound {
            push(.literal(r[0].lowerBound))
        } else if let index = classIndex[r] {
            push(.charClass(index))
        } else {
            classIndex[r] = classes.count
            classes.append(cls)
            push(.charClass(classes.count - 1))
        }
    }

    /// Applies `*`, `+`, `?` or `{min,max}` (already consumed) to the last node; a trailing `?` (lazy)
    /// changes which match is preferred, not whether there is one, and is skipped.
    private mutating func applyRepeat(
        _ op: Unicode.Scalar, start: Int, min: Int, max: Int?, lastRepeat: Int?
    ) throws(LinearRegexError) {
        if peek() == "?" { i += 1 }
        if let lastRepeat { throw .nestedRepeatOperator(position: lastRepeat, text: text(lastRepeat, i)) }
        guard let sub = frames[frames.count - 1].concat.popLast() else {
            throw .missingRepeatArgument(position: start, text: text(start, i))
        }
        var p = sub
        switch op {
        case "*": p.node = .star(sub.node)
        case "+": p.node = .plus(sub.node)
        case "?": p.node = .quest(sub.node)
        default:
            p.node = .repeat(sub.node, min: min, max: max)
            // RE2's repeatIsValid: {0} makes no copies of what it holds; otherwise max (or min when
            // unbounded) copies of each copy inside.
            if max == 0 {
                p.copies = 1
            } else if let m = max ?? (min > 0 ? min : nil) {
                p.copies = Swift.min(sub.copies * m, Self.maxRepeatCount + 1)
            }
            if (min >= 2 || (max ?? 0) >= 2) && p.copies > Self.maxRepeatCount {
                throw .repeatTooLarge(position: start, text: text(start, i))
            }
        }
        try grow(&p)
        push(p)
    }

    /// `{n}`, `{n,}` or `{n,m}` at `i`: the counts (`min` -1 when too large) and the index after `}`;
    /// `nil` when the text is no repetition (then `{` is a literal). No leading zeros, as in RE2.
    private func parseRepeatBraces() -> (min: Int, max: Int?, end: Int)? {
        var j = i + 1
        func number() -> Int? {
            guard j < s.count, ("0"..."9").contains(s[j]) else { return nil }
            if s[j] == "0", j + 1 < s.count, ("0"..."9").contains(s[j + 1]) { return nil }
            var n = 0
            while j < s.count, ("0"..."9").contains(s[j]) {
                if n >= 100_000_000 { n = -1 } else if n >= 0 { n = n * 10 + Int(s[j].value - 0x30) }
                j += 1
            }
            return n
        }
        guard var min = number(), j < s.count else { return nil }
        var max: Int? = min
        if s[j] == "," {
            j += 1
            guard j < s.count else { return nil }
            if s[j] == "}" {
                max = nil
            } else {
                guard let m = number() else { return nil }
                max = m
                if m < 0 { min = -1 }
            }
        }
        guard j < s.count, s[j] == "}" else { return nil }
        return (min, max, j + 1)
    }

    // MARK: - Groups

    /// At `(?`: flags, a non-capturing or named group, or syntax RE2 does not have.
    private mutating func parseGroupSyntax() throws(LinearRegexError) {
        let start = i
        switch peek(2) {
        case "="?, "!"?:
            throw .lookaround(position: start, text: text(start, i + 3))
        case "<"? where peek(3) == "=" || peek(3) == "!":
            throw .lookaround(position: start, text: text(start, i + 4))
        case "<"?:
            return try parseNamedGroup(nameStart: i + 3)
        case "P"? where peek(3) == "<":
            return try parseNamedGroup(nameStart: i + 4)
        case "P"? where peek(3) == "=":
            let end = s[(i + 4)...].firstIndex(of: ")").map { $0 + 1 } ?? s.count
            throw .backreference(position: start, text: text(start, end))
        default:
            break
        }
        // Flags: (?i) (?-s) (?i-m:re) ... A '-' must be followed by at least one flag.
        var j = i + 2
        var newFlags = flags
        var negate = false
        var sawFlag = false
        while j < s.count {
            let c = s[j]
            j += 1
            let flag: Flags
            switch c {
            case "i": flag = .foldCase
            case "m": flag = .multiLine
            case "s": flag = .dotNewline
            case "U": flag = .nonGreedy
            case "-":
                if negate { throw .invalidGroup(position: start, text: text(start, j)) }
                negate = true
                sawFlag = false
                continue
            case ":", ")":
                if negate && !sawFlag { throw .invalidGroup(position: start, text: text(start, j)) }
                if c == ":" { frames.append(Frame(open: start, savedFlags: flags, capturing: false)) }
                flags = newFlags
                i = j
                return
            default:
                throw .invalidGroup(position: start, text: text(start, j))
            }
            if negate { newFlags.remove(flag) } else { newFlags.insert(flag) }
            sawFlag = true
        }
        throw .invalidGroup(position: start, text: text(start, j))
    }

    private mutating func parseNamedGroup(nameStart: Int) throws(LinearRegexError) {
        let start = i
        guard let close = s[nameStart...].firstIndex(of: ">") else {
            throw .invalidCaptureName(position: start, text: text(start, s.count))
        }
        let name = text(nameStart, close)
        guard !name.isEmpty && name.unicodeScalars.allSatisfy({ $0 == "_" || $0.isASCIIAlphanumeric }) else {
            throw .invalidCaptureName(position: start, text: text(start, close + 1))
        }
        frames.append(Frame(open: start, savedFlags: flags, capturing: true))
        i = close + 1
    }

    // MARK: - Escapes

    private mutating func parseEscapeOutsideClass() throws(LinearRegexError) {
        let start = i
        guard let c = peek(1) else { throw .trailingBackslash(position: i) }
        switch c {
        case "A": push(.assertion(.beginText))
        case "z": push(.assertion(.endText))
        case "b": push(.assertion(.wordBoundary))
        case "B": push(.assertion(.noWordBoundary))
        case "C": throw .invalidEscape(position: start, text: "\\C")
        case "Q":
            // \Q...\E: everything up to \E (or the end) is literal.
            var j = i + 2
            while j < s.count && !(s[j] == "\\" && peek(j - i + 1) == "E") {
                literal(s[j].value)
                j += 1
            }
            i = Swift.min(j + 2, s.count)
            return
        case "p", "P":
            let (ranges, negated) = try parseUnicodeClass()
            pushClass(ranges, negated: negated)
            return
        default:
            if let group = CharGroups.perl[c.lowercaseScalar] {
                pushClass(folded(group), negated: c.isUppercaseASCII)
            } else {
                let (value, next) = try parseEscape()
                literal(value)
                i = next
                return
            }
        }
        i += 2
    }

    /// A single-scalar escape at `i` (`\n`, `\x41`, `\x{263A}`, `\101`, `\.`): its value and the index after it.
    private func parseEscape() throws(LinearRegexError) -> (UInt32, Int) {
        let start = i
        var j = i + 1
        guard j < s.count else { throw .trailingBackslash(position: start) }
        let c = s[j]
        j += 1
        func invalid() -> LinearRegexError { .invalidEscape(position: start, text: text(start, Swift.min(j, s.count))) }
        func isOctal(_ k: Int) -> Bool { k < s.count && ("0"..."7").contains(s[k]) }
        switch c {
        case "1"..."7" where isOctal(j), "0":
            // Octal: up to three digits. A single non-zero digit would be a backreference.
            var v = c.value - 0x30
            for _ in 0..<2 where isOctal(j) {
                v = v * 8 + s[j].value - 0x30
                j += 1
            }
            return (v, j)
        case "1"..."9", "g", "k":
            if c == "k" || c == "g", j < s.count, let close = Self.closers[s[j]],
                let end = s[(j + 1)...].firstIndex(of: close)
            {
                j = end + 1
            }
            throw .backreference(position: start, text: text(start, j))
        case "x":
            guard j < s.count else { throw invalid() }
            if s[j] == "{" {
                j += 1
                var v: UInt32 = 0
                var digits = 0
                while true {
                    guard j < s.count else { throw invalid() }
                    let d = s[j]
                    j += 1
                    if d == "}" { break }
                    guard let h = d.hexDigitValue else { throw invalid() }
                    v = v * 16 + h
                    guard v <= CharClass.maxScalar else { throw invalid() }
                    digits += 1
                }
                if digits == 0 { throw invalid() }
                return (v, j)
            }
            guard let hi = s[j].hexDigitValue else {
                j += 1
                throw invalid()
            }
            j += 1
            guard j < s.count, let lo = s[j].hexDigitValue else {
                j += 1
                throw invalid()
            }
            return (hi * 16 + lo, j + 1)
        case "a": return (0x07, j)
        case "f": return (0x0C, j)
        case "n": return (0x0A, j)
        case "r": return (0x0D, j)
        case "t": return (0x09, j)
        case "v": return (0x0B, j)
        default:
            // Escaped ASCII punctuation is itself; letters, digits and non-ASCII have no meaning.
            if c.isASCII && !c.isASCIIAlphanumeric { return (c.value, j) }
            throw invalid()
        }
    }

    // MARK: - Classes

    /// `[...]` at `i`.
    private mutating func parseClass() throws(LinearRegexError) {
        let start = i
        i += 1
        var negated = false
        if peek() == "^" {
            negated = true
            i += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true  // ] (and -) right after [ or [^ are literals
        while i >= s.count || s[i] != "]" || first {
            guard i < s.count else { throw .missingClosingBracket(position: start) }
            first = false
            if s[i] == "[" && peek(1) == ":", let named = try parsePOSIXClass() {
                ranges += named
                continue
            }
            if s[i] == "\\", let c = peek(1) {
                if c == "p" || c == "P" {
                    let (r, neg) = try parseUnicodeClass()
                    ranges += neg ? CharClass.complement(CharClass.normalize(r)) : r
                    continue
                }
                if let group = CharGroups.perl[c.lowercaseScalar] {
                    let g = folded(group)
                    ranges += c.isUppercaseASCII ? CharClass.complement(CharClass.normalize(g)) : g
                    i += 2
                    continue
                }
            }
            let rangeStart = i
            let lo = try parseClassChar(classStart: start)
            var hi = lo
            if i + 1 < s.count && s[i] == "-" && s[i + 1] != "]" {
                i += 1
                hi = try parseClassChar(classStart: start)
                if hi < lo { throw .invalidCharacterRange(position: rangeStart, text: text(rangeStart, i)) }
            }
            if flags.contains(.foldCase) {
                CaseFolding.appendFolded(lo, hi, to: &ranges)
            } else {
                ranges.append(lo...hi)
            }
        }
        i += 1
        pushClass(ranges, negated: negated)
    }

    private mutating func parseClassChar(classStart: Int) throws(LinearRegexError) -> UInt32 {
        guard i < s.count else { throw .missingClosingBracket(position: classStart) }
        if s[i] == "\\" {
            let (v, next) = try parseEscape()
            i = next
            return v
        }
        i += 1
        return s[i - 1].value
    }

    /// `[:name:]` or `[:^name:]` at `i`; `nil` when there is no `:]` at all (then `[` is a literal).
    private mutating func parsePOSIXClass() throws(LinearRegexError) -> [ClosedRange<UInt32>]? {
        var j = i + 2
        while j + 1 < s.count && !(s[j] == ":" && s[j + 1] == "]") { j += 1 }
        guard j + 1 < s.count else { return nil }
        var name = text(i + 2, j)
        let negated = name.hasPrefix("^")
        if negated { name.removeFirst() }
        guard let group = CharGroups.posix[name] else {
            throw .invalidCharacterClass(position: i, text: text(i, j + 2))
        }
        i = j + 2
        let g = folded(group)
        return negated ? CharClass.complement(CharClass.normalize(g)) : g
    }

    /// `\pL`, `\p{Lu}`, `\p{^L}`, `\PL` at `i`: the category's ranges (folded under (?i)) and whether to negate.
    private mutating func parseUnicodeClass() throws(LinearRegexError) -> ([ClosedRange<UInt32>], Bool) {
        let start = i
        var negated = s[i + 1] == "P"
        var j = i + 2
        guard j < s.count else { throw .invalidCharacterClass(position: start, text: text(start, j)) }
        var name: String
        if s[j] == "{" {
            guard let close = s[(j + 1)...].firstIndex(of: "}") else {
                throw .invalidCharacterClass(position: start, text: text(start, s.count))
            }
            name = text(j + 1, close)
            j = close + 1
        } else {
            name = String(s[j])
            j += 1
        }
        if name.hasPrefix("^") {
            negated.toggle()
            name.removeFirst()
        }
        guard let table = CharGroups.unicodeCategory(name) else {
            throw .invalidCharacterClass(position: start, text: text(start, j))
        }
        i = j
        return (folded(table), negated)
    }

    /// A group's ranges, closed under case folding when (?i) is on (Go's `appendFoldedClass`).
    private func folded(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        guard flags.contains(.foldCase) else { return ranges }
        var out: [ClosedRange<UInt32>] = []
        for r in ranges { CaseFolding.appendFolded(r.lowerBound, r.upperBound, to: &out) }
        return CharClass.normalize(out)
    }

    // MARK: - Helpers

    private func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }

    private func text(_ from: Int, _ to: Int) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: s[from..<Swift.min(to, s.count)])
        return String(out)
    }
}

extension Unicode.Scalar {
    fileprivate var hexDigitValue: UInt32? {
        switch self {
        case "0"..."9": value - 0x30
        case "a"..."f": value - 0x61 + 10
        case "A"..."F": value - 0x41 + 10
        default: nil
        }
    }

    fileprivate var isASCIIAlphanumeric: Bool {
        ("0"..."9").contains(self) || ("a"..."z").contains(self) || ("A"..."Z").contains(self)
    }

    fileprivate var isUppercaseASCII: Bool { ("A"..."Z").contains(self) }

    /// The ASCII lowercase value (for `\D` → `d`); other scalars unchanged.
    fileprivate var lowercaseScalar: UInt32 { isUppercaseASCII ? value + 0x20 : value }
}
