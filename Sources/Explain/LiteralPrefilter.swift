#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A necessary condition for a category's expression to match: one literal per pattern that every match
/// contains. A name that contains none of a category's literals cannot match it, so the (ICU) expression
/// is run only on the names that do: the answer is the expression's, never the filter's.
///
/// Patterns are read conservatively: a pattern with a top-level alternation, non-ASCII text, inline flags
/// other than a leading `(?i)`, or nothing literal outside groups and classes gives no literal, and then its
/// category is always tested. A `(?i)` pattern's literal is compared ASCII-case-insensitively, and only on
/// ASCII names (ICU folds some non-ASCII letters to ASCII ones, e.g. the Kelvin sign to `k`).
struct LiteralPrefilter {
    struct Literal {
        var bytes: [UInt8]
        var caseInsensitive: Bool
    }

    /// Per category: its patterns' literals, or nil when some pattern has none (always tested).
    let literals: [[Literal]?]
    /// Every literal once, with the categories that use it.
    private let all: [Literal]
    private let categoriesOfLiteral: [[Int]]
    /// Literal indexes by their first two bytes (case-sensitive ones, and lowered case-insensitive ones):
    /// a name is scanned once per table, and only literals starting with a pair it contains are compared.
    private let sensitiveByPair: [UInt16: [Int]]
    private let insensitiveByPair: [UInt16: [Int]]
    /// Categories whose literals are a single byte, or that have none: handled apart.
    private let alwaysTested: [Int]
    private let singleByte: [(byte: UInt8, literal: Int)]
    let categoryCount: Int

    init(catalogue: [Category]) {
        categoryCount = catalogue.count
        let literals = catalogue.map { category -> [Literal]? in
            var result: [Literal] = []
            for pattern in category.patterns {
                guard let literal = Self.requiredLiteral(pattern) else { return nil }
                result.append(literal)
            }
            return result
        }
        self.literals = literals
        var all: [Literal] = []
        var categoriesOfLiteral: [[Int]] = []
        var sensitive: [UInt16: [Int]] = [:]
        var insensitive: [UInt16: [Int]] = [:]
        var alwaysTested: [Int] = []
        var singleByte: [(UInt8, Int)] = []
        for (c, list) in literals.enumerated() {
            guard let list else {
                alwaysTested.append(c)
                continue
            }
            for literal in list {
                let index = all.count
                all.append(literal)
                categoriesOfLiteral.append([c])
                if literal.bytes.count == 1 {
                    if literal.caseInsensitive { alwaysTested.append(c) } else { singleByte.append((literal.bytes[0], index)) }
                    continue
                }
                let pair = UInt16(literal.bytes[0]) << 8 | UInt16(literal.bytes[1])
                if literal.caseInsensitive { insensitive[pair, default: []].append(index) } else { sensitive[pair, default: []].append(index) }
            }
        }
        self.all = all
        self.categoriesOfLiteral = categoriesOfLiteral
        self.sensitiveByPair = sensitive
        self.insensitiveByPair = insensitive
        self.alwaysTested = alwaysTested
        self.singleByte = singleByte
    }

    /// Marks in `candidates` (one flag per category, cleared first) the categories that may match `name`:
    /// a category left false certainly does not match.
    func candidates(_ name: UnsafeBufferPointer<UInt8>, lowered: inout [UInt8], into candidates: inout [Bool]) {
        for c in 0 ..< categoryCount { candidates[c] = false }
        for c in alwaysTested { candidates[c] = true }
        let ascii = name.allSatisfy { $0 < 0x80 }
        func scan(_ bytes: UnsafeBufferPointer<UInt8>, _ table: [UInt16: [Int]]) {
            guard bytes.count >= 2, !table.isEmpty else { return }
            for i in 0 ..< bytes.count - 1 {
                let pair = UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
                guard let hits = table[pair] else { continue }
                for l in hits where Self.occurs(all[l].bytes, in: bytes, at: i) {
                    for c in categoriesOfLiteral[l] { candidates[c] = true }
                }
            }
        }
        scan(name, sensitiveByPair)
        for (byte, l) in singleByte where name.contains(byte) {
            for c in categoriesOfLiteral[l] { candidates[c] = true }
        }
        if !insensitiveByPair.isEmpty {
            if ascii {
                lowered.removeAll(keepingCapacity: true)
                lowered.append(contentsOf: name.lazy.map(lowerASCII))
                lowered.withUnsafeBufferPointer { scan($0, insensitiveByPair) }
            } else {
                // ICU folds some non-ASCII letters to ASCII ones: test these categories.
                for list in insensitiveByPair.values {
                    for l in list { for c in categoriesOfLiteral[l] { candidates[c] = true } }
                }
            }
        }
    }

    @inline(__always)
    static func occurs(_ literal: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i + literal.count <= bytes.count else { return false }
        for k in 2 ..< literal.count where bytes[i + k] != literal[k] { return false }
        return true
    }

    /// Whether category `c` may match `name` (one category; the reference for `candidates`).
    func mayMatch(_ c: Int, name: UnsafeBufferPointer<UInt8>, lowered: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let literals = literals[c] else { return true }
        for literal in literals {
            if literal.caseInsensitive {
                guard let lowered else { return true }
                if Self.contains(lowered, literal.bytes) { return true }
            } else if Self.contains(name, literal.bytes) {
                return true
            }
        }
        return false
    }

    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        let n = needle.count
        guard n > 0 else { return true }
        guard n <= haystack.count, let h = haystack.baseAddress else { return false }
        return needle.withUnsafeBufferPointer { needle in
            let first = needle[0]
            let last = haystack.count - n
            var i = 0
            while i <= last {
                if h[i] == first && memcmp(h + i, needle.baseAddress!, n) == 0 { return true }
                i += 1
            }
            return false
        }
    }

    /// The longest run of literal characters that every match of `pattern` contains, or nil.
    static func requiredLiteral(_ pattern: String) -> Literal? {
        var chars = Array(pattern.utf8)
        guard chars.allSatisfy({ $0 < 0x80 }) else { return nil }
        var caseInsensitive = false
        if chars.starts(with: Array("(?i)".utf8)) {
            caseInsensitive = true
            chars.removeFirst(4)
        }
        var runs: [[UInt8]] = []
        var run: [UInt8] = []
        func endRun() {
            if !run.isEmpty { runs.append(run) }
            run = []
        }
        /// Skips a quantifier after a group or class (the group itself is already not part of any run).
        func skipQuantifier(_ i: inout Int) {
            guard i < chars.count else { return }
            switch chars[i] {
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                i += 1
            case UInt8(ascii: "{"):
                while i < chars.count && chars[i] != UInt8(ascii: "}") { i += 1 }
                i += 1
            default:
                return
            }
            // A lazy or possessive suffix.
            if i < chars.count && (chars[i] == UInt8(ascii: "?") || chars[i] == UInt8(ascii: "+")) { i += 1 }
        }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case UInt8(ascii: "|"):
                return nil
            case UInt8(ascii: "("):
                // Skip the group to its matching parenthesis; nothing inside counts.
                if i + 1 < chars.count && chars[i + 1] == UInt8(ascii: "?") {
                    // Only non-capturing groups are understood; lookaround or flags give up.
                    guard i + 2 < chars.count && chars[i + 2] == UInt8(ascii: ":") else { return nil }
                }
                endRun()
                var depth = 0
                var inClass = false
                while i < chars.count {
                    let g = chars[i]
                    if g == UInt8(ascii: "\\") {
                        i += 2
                        continue
                    }
                    if inClass {
                        if g == UInt8(ascii: "]") { inClass = false }
                    } else if g == UInt8(ascii: "[") {
                        inClass = true
                    } else if g == UInt8(ascii: "(") {
                        depth += 1
                    } else if g == UInt8(ascii: ")") {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    i += 1
                }
                guard i < chars.count else { return nil }
                i += 1
                skipQuantifier(&i)
            case UInt8(ascii: "["):
                endRun()
                i += 1
                if i < chars.count && chars[i] == UInt8(ascii: "^") { i += 1 }
                if i < chars.count && chars[i] == UInt8(ascii: "]") { i += 1 }
                while i < chars.count && chars[i] != UInt8(ascii: "]") {
                    if chars[i] == UInt8(ascii: "\\") || chars[i] == UInt8(ascii: "[") { return nil }
                    i += 1
                }
                guard i < chars.count else { return nil }
                i += 1
                skipQuantifier(&i)
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "{"):
                // The previous character is optional: it leaves the run.
                if !run.isEmpty { run.removeLast() }
                endRun()
                skipQuantifier(&i)
            case UInt8(ascii: "+"):
                // Required once; what follows may not be adjacent to a single copy.
                endRun()
                skipQuantifier(&i)
            case UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "."), UInt8(ascii: ")"), UInt8(ascii: "]"),
                UInt8(ascii: "}"):
                if c == UInt8(ascii: ")") { return nil }
                endRun()
                i += 1
            case UInt8(ascii: "\\"):
                guard i + 1 < chars.count else { return nil }
                let e = chars[i + 1]
                let isWordCharacter =
                    (e >= UInt8(ascii: "a") && e <= UInt8(ascii: "z")) || (e >= UInt8(ascii: "A") && e <= UInt8(ascii: "Z"))
                    || (e >= UInt8(ascii: "0") && e <= UInt8(ascii: "9"))
                if isWordCharacter {
                    // \d, \b, \Q… and the like: not a literal; \Q or \E would change the reading, give up.
                    if e == UInt8(ascii: "Q") || e == UInt8(ascii: "E") { return nil }
                    endRun()
                } else {
                    run.append(e)
                }
                i += 2
            default:
                run.append(c)
                i += 1
            }
        }
        endRun()
        guard var best = runs.max(by: { $0.count < $1.count }), !best.isEmpty else { return nil }
        if caseInsensitive { best = best.map(lowerASCII) }
        return Literal(bytes: best, caseInsensitive: caseInsensitive)
    }
}

@inline(__always)
func lowerASCII(_ b: UInt8) -> UInt8 { b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b }
