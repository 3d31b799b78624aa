import Foundation

/// An LLM answer checked against the profile: every function or file it cites in backticks and every
/// percentage it states. Names that resolve are written out in full; names and numbers that do not hold
/// are marked in the text, so a reader sees which claims the profile does not back.
public struct Grounding: Sendable {
    /// Backticked names as the answer wrote them, in order of first appearance.
    public var cited: [String]
    public var verified: [String]
    public var unverified: [String]
    /// Percentages and percentage points as written ("12.5%", "+3.1pp").
    public var numbersCited: [String]
    public var numbersVerified: [String]
    public var numbersUnverified: [String]
    /// The answer with short names expanded and unverified claims marked.
    public var text: String
    /// The profile's functions the answer cites (full names, in order of first citation): citations that
    /// resolved to a function, not to a file.
    public var verifiedFunctions: [String] = []

    /// The answer holds up: it cites at least one function of the profile, and every name and number it
    /// cites is found in the data. An answer that cites nothing is not grounded: nothing in it was checked.
    public var grounded: Bool { !verifiedFunctions.isEmpty && unverified.isEmpty && numbersUnverified.isEmpty }

    public static let unverifiedNameMark = " (not in the profile)"
    public static let unverifiedNumberMark = " (unverified)"

    /// `functions` and `files` are the profile's; `aliases` the short names the prompt used; `numbers` every
    /// percentage the data states, signed where it is a change (a cited number holds if it is one of them, up
    /// to its own rounding, with the same sign when the answer gives one by a sign or by "grew"/"fell" before
    /// percentage points). The offline analysis is checked the same way, against the numbers it computed.
    public init(answer: String, functions: Set<String>, files: Set<String> = [], aliases: [String: String] = [:], numbers: [Double]) {
        var cited: [String] = [], verified: [String] = [], unverified: [String] = [], verifiedFunctions: [String] = []
        var resolved: [String: String?] = [:]
        var fileSpans = Set<String>()
        let suffixIndex = SuffixIndex(functions)

        func resolve(_ span: String) -> String? {
            if let known = resolved[span] { return known }
            var candidate = span.trimmingCharacters(in: .whitespaces)
            if candidate.hasSuffix("()") && !functions.contains(candidate) { candidate.removeLast(2) }
            var result: String?
            if functions.contains(candidate) {
                result = candidate
            } else if let full = aliases[candidate] {
                result = full
            } else if Self.looksLikeFile(candidate) {
                let path = candidate.split(separator: ":").first.map(String.init) ?? candidate
                result = files.contains { $0 == path || $0.hasSuffix("/" + path) } ? candidate : nil
                fileSpans.insert(span)
            } else {
                result = suffixIndex.unique(candidate)
            }
            resolved[span] = result
            return result
        }

        // Walk the answer: fenced code blocks are copied as they are; `spans` are citations.
        var out = ""
        var rest = Substring(answer)
        while let tick = rest.firstIndex(of: "`") {
            out += rest[..<tick]
            if rest[tick...].hasPrefix("```") {
                let body = rest.index(tick, offsetBy: 3)
                let end = rest[body...].range(of: "```")?.upperBound ?? rest.endIndex
                out += rest[tick ..< end]
                rest = rest[end...]
                continue
            }
            let open = rest.index(after: tick)
            guard let close = rest[open...].firstIndex(where: { $0 == "`" || $0 == "\n" }), rest[close] == "`" else {
                out += "`"
                rest = rest[open...]
                continue
            }
            let span = String(rest[open ..< close])
            if !span.isEmpty {
                if !cited.contains(span) { cited.append(span) }
                if let full = resolve(span) {
                    if !verified.contains(span) { verified.append(span) }
                    if !fileSpans.contains(span) && !verifiedFunctions.contains(full) { verifiedFunctions.append(full) }
                    out += "`\(full)`"
                } else {
                    if !unverified.contains(span) { unverified.append(span) }
                    out += "`\(span)`" + Self.unverifiedNameMark
                }
            } else {
                out += "``"
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest

        // Percentages and percentage points outside code: each must match a number of the data, sign included.
        var numbersCited: [String] = [], numbersVerified: [String] = [], numbersUnverified: [String] = []
        let code = Self.codeRanges(out)
        var marked = ""
        var cursor = out.startIndex
        for match in out.matches(of: Self.numberPattern) {
            if code.contains(where: { $0.overlaps(match.range) }) { continue }
            // A digit or a decimal point right before the match means it began inside a longer number.
            if match.range.lowerBound > out.startIndex {
                let before = out[out.index(before: match.range.lowerBound)]
                if before.isNumber || before == "." || before == "," { continue }
            }
            let written = String(out[match.range])
            let digits = String(match.output.2).replacingOccurrences(of: ",", with: "")
            let value = Double(digits) ?? .nan
            let decimals = digits.split(separator: ".").dropFirst().first?.count ?? 0
            let tolerance = 0.5 * pow(10, -Double(decimals)) + 0.051
            var sign = Self.sign(String(match.output.1))
            let isPoints = match.output.3 != "%"
            if sign == 0 && isPoints {
                // "grew by 3pp" claims a rise, "fell by 3pp" a fall: the words before a delta carry its sign.
                sign = Self.directionBefore(out[out.index(match.range.lowerBound, offsetBy: -min(40, out.distance(from: out.startIndex, to: match.range.lowerBound))) ..< match.range.lowerBound])
            }
            numbersCited.append(written)
            let holds = numbers.contains { known in
                switch sign {
                case 1: return known >= 0 && abs(known - value) <= tolerance
                case -1: return known <= 0 && abs(known + value) <= tolerance
                default: return abs(abs(known) - value) <= tolerance
                }
            }
            marked += out[cursor ..< match.range.upperBound]
            if holds {
                numbersVerified.append(written)
            } else {
                numbersUnverified.append(written)
                marked += Self.unverifiedNumberMark
            }
            cursor = match.range.upperBound
        }
        marked += out[cursor...]

        self.cited = cited
        self.verified = verified
        self.unverified = unverified
        self.numbersCited = numbersCited
        self.numbersVerified = numbersVerified
        self.numbersUnverified = numbersUnverified
        self.text = marked
        self.verifiedFunctions = verifiedFunctions
    }

    /// A percentage or a number of percentage points, with an optional sign; thousands separators allowed.
    nonisolated(unsafe) static let numberPattern = /([+\-−]?)(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?(%|pp\b|percentage points)/

    static func sign(_ s: String) -> Int {
        switch s {
        case "+": return 1
        case "-", "−": return -1
        default: return 0
        }
    }

    /// +1 when the words just before a delta say it rose, -1 when they say it fell, 0 otherwise.
    static func directionBefore(_ text: Substring) -> Int {
        let words = text.lowercased().split { !$0.isLetter }.suffix(4)
        let rise: Set<Substring> = ["grew", "grow", "grows", "rose", "rise", "rises", "increased", "increase", "increases", "up", "gained", "more", "higher", "added"]
        let fall: Set<Substring> = ["fell", "fall", "falls", "dropped", "drop", "drops", "decreased", "decrease", "decreases", "down", "shrank", "shrunk", "less", "lower", "lost", "removed"]
        for w in words.reversed() {
            if rise.contains(w) { return 1 }
            if fall.contains(w) { return -1 }
        }
        return 0
    }

    /// Fenced code blocks and inline code spans: numbers there are code, not claims.
    static func codeRanges(_ text: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        var rest = text[...]
        while let tick = rest.firstIndex(of: "`") {
            if rest[tick...].hasPrefix("```") {
                let body = rest.index(tick, offsetBy: 3)
                let end = rest[body...].range(of: "```")?.upperBound ?? rest.endIndex
                ranges.append(tick ..< end)
                rest = rest[end...]
                continue
            }
            let open = rest.index(after: tick)
            guard let close = rest[open...].firstIndex(where: { $0 == "`" || $0 == "\n" }), rest[close] == "`" else {
                rest = rest[open...]
                continue
            }
            ranges.append(tick ..< rest.index(after: close))
            rest = rest[rest.index(after: close)...]
        }
        return ranges
    }

    static func looksLikeFile(_ s: String) -> Bool {
        s.wholeMatch(of: /[\w.\/-]+\.(go|py|java|kt|scala|rb|js|mjs|ts|cs|c|cc|cpp|cxx|h|hpp|rs|swift|php)(:\d+)?/) != nil
    }
}

/// Resolves a name cited without its package path ("flate.(*compressor).deflate", "Mutex.Lock") to the one
/// full name that ends with it at a "/" or "." boundary; ambiguous or unknown suffixes resolve to nothing.
struct SuffixIndex {
    let names: [String]
    init(_ names: Set<String>) { self.names = Array(names) }

    func unique(_ suffix: String) -> String? {
        guard suffix.count >= 4 else { return nil }
        var found: String?
        for name in names where name.hasSuffix(suffix) && name.count > suffix.count {
            let before = name[name.index(name.endIndex, offsetBy: -suffix.count - 1)]
            guard before == "/" || before == "." || before == ":" || before == "!" else { continue }
            if found != nil { return nil }
            found = name
        }
        return found
    }
}

/// The sections of a Markdown answer, found by their headings (any level, any case).
public struct AnswerSections: Sendable {
    public var sections: [String: String]

    /// `titles` maps a heading text (lowercased) to the key to file it under.
    public init(_ markdown: String, titles: [String: String]) {
        var sections: [String: String] = [:]
        var current: String?
        var lines: [Substring] = []
        func flush() {
            if let current { sections[current] = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) }
            lines = []
        }
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") {
                let heading = trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
                    .trimmingCharacters(in: CharacterSet(charactersIn: ":*"))
                if let key = titles[heading] {
                    flush()
                    current = key
                    continue
                }
            }
            if current != nil { lines.append(line) }
        }
        flush()
        self.sections = sections
    }

    public static let explainTitles = [
        "performance bottleneck": "bottleneck", "root cause": "rootCause", "recommended fix": "fix",
    ]
    public static let diffTitles = [
        "performance change": "performanceChange", "function impact": "functionImpact", "potential causes": "potentialCauses",
    ]
}
