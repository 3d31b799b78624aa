import Foundation

/// The sections of a model's answer, found leniently: a title counts whatever its heading level or
/// case, with or without numbering ("1.", "2)", "II."), written as a heading or as a bold or italic
/// line (`**Root cause**`, `**Root cause:** text…`, `- **Fix**: text…`), with or without a trailing colon,
/// singular or plural, with or without "the", or by a short synonym ("Bottleneck", "Cause", "Fix",
/// "Recommendations"). A plain line counts only when it is the title followed by a colon ("Root cause:").
/// The first time a section's title appears opens it; later appearances of the same title are counted
/// in `repeatedTitles` and their text stays in the section they interrupt.
public struct AnswerOutline: Sendable {
    public struct Section: Sendable, Equatable {
        /// The key the title is filed under ("bottleneck").
        public var key: String
        /// The heading line as the answer wrote it.
        public var heading: String
        /// The section's text, trimmed; text on the title's own line after a colon comes first.
        public var text: String
        /// Lines of the answer (0-based) the section spans, its heading included.
        public var lines: Range<Int>
    }

    /// Sections in the order the answer gives them.
    public var sections: [Section]
    /// Text before the first recognised title.
    public var preamble: String
    /// Keys whose title appeared more than once.
    public var repeatedTitles: [String]

    public subscript(key: String) -> Section? { sections.first { $0.key == key } }

    /// `titles` maps a title (lowercased, as in `AnswerSections.explainTitles`) to its key.
    public init(_ markdown: String, titles: [String: String]) {
        let matcher = TitleMatcher(titles)
        var sections: [Section] = []
        var preamble: [Substring] = []
        var repeated: [String] = []
        var current: (key: String, heading: String, start: Int, body: [String])?
        var inFence = false
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
        func close(at end: Int) {
            guard let c = current else { return }
            let text = c.body.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            sections.append(Section(key: c.key, heading: c.heading, text: text, lines: c.start ..< end))
            current = nil
        }
        for (i, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") { inFence.toggle() }
            if !inFence, let match = matcher.match(line) {
                if match.key == current?.key || sections.contains(where: { $0.key == match.key }) {
                    if !repeated.contains(match.key) { repeated.append(match.key) }
                } else {
                    close(at: i)
                    current = (match.key, trimmed, i, match.rest.isEmpty ? [] : [match.rest])
                    continue
                }
            }
            if current != nil { current!.body.append(String(line)) } else { preamble.append(line) }
        }
        close(at: lines.count)
        self.sections = sections
        self.preamble = preamble.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        self.repeatedTitles = repeated
    }

    /// The sections' texts by key (the shape of `AnswerSections.sections`).
    public var texts: [String: String] {
        Dictionary(sections.map { ($0.key, $0.text) }, uniquingKeysWith: { first, _ in first })
    }
}

extension AnswerSections {
    /// The sections found with `AnswerOutline`'s lenient title matching (numbering, bold titles, trailing
    /// colons, plurals, short synonyms); the plain initializer keeps matching headings only.
    public init(lenient markdown: String, titles: [String: String]) {
        self.sections = AnswerOutline(markdown, titles: titles).texts
    }

    /// Short names a model uses for a section instead of its title, by key.
    public static let synonyms: [String: [String]] = [
        "bottleneck": ["bottleneck", "main bottleneck", "performance bottleneck", "hotspot", "hot spot"],
        "rootCause": ["root cause", "cause", "why it is slow"],
        "fix": ["recommended fix", "fix", "recommendation", "suggested fix", "how to fix", "recommended change", "proposed fix"],
        "performanceChange": ["performance change", "what changed", "overall change", "summary of change"],
        "functionImpact": ["function impact", "functions impacted", "impacted function", "affected function", "function change"],
        "potentialCauses": ["potential cause", "possible cause", "likely cause", "cause"],
    ]
}

/// Recognises a line that opens a section, and the text that follows the title on the same line.
struct TitleMatcher {
    private var keyOf: [String: String] = [:]

    init(_ titles: [String: String]) {
        let keys = Set(titles.values)
        for (title, key) in titles { keyOf[Self.normalize(title)] = key }
        for key in keys {
            for synonym in AnswerSections.synonyms[key] ?? [] where keyOf[Self.normalize(synonym)] == nil {
                keyOf[Self.normalize(synonym)] = key
            }
        }
    }

    /// Lowercased, articles and a plural "s" dropped, runs of spaces and punctuation made one space.
    static func normalize<S: StringProtocol>(_ s: S) -> String {
        var words = s.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        if words.first == "the" || words.first == "a" { words.removeFirst() }
        if let last = words.last, last.count > 3, last.hasSuffix("s"), !last.hasSuffix("ss") {
            words[words.count - 1] = String(last.dropLast())
        }
        return words.joined(separator: " ")
    }

    func key<S: StringProtocol>(_ title: S) -> String? {
        let n = Self.normalize(title)
        return n.isEmpty ? nil : keyOf[n]
    }

    func match<S: StringProtocol>(_ line: S) -> (key: String, rest: String)? {
        var s = Substring(line.trimmingCharacters(in: .whitespaces))
        guard !s.isEmpty else { return nil }
        var isHeading = false
        if s.hasPrefix("#") {
            let hashes = s.prefix { $0 == "#" }.count
            guard hashes <= 6 else { return nil }
            s = s.dropFirst(hashes).drop { $0 == " " }
            isHeading = true
        }
        // A list marker or numbering: "1.", "2)", "IV.", "a)", "-", "*" (a bullet must be followed by emphasis).
        var numbered = false
        if let m = s.prefixMatch(of: /(?:\d{1,2}|[ivxIVX]{1,4}|[a-cA-C])[.)][ \t]+/) {
            s = s[m.range.upperBound...]
            numbered = true
        } else if let m = s.prefixMatch(of: /(?:Step|Section|Part)[ \t]+\d{1,2}[.:)]?[ \t]+/) {
            s = s[m.range.upperBound...]
            numbered = true
        } else if let m = s.prefixMatch(of: /[-*+•][ \t]+/), s[m.range.upperBound...].hasPrefix("**") || s[m.range.upperBound...].hasPrefix("__") {
            s = s[m.range.upperBound...]
        }
        // Emphasis around the title: "**Root cause**", "**Root cause:** text", "*Fix*: text".
        for marker in ["**", "__", "*", "_"] where s.hasPrefix(marker) {
            let inner = s.dropFirst(marker.count)
            guard let close = inner.range(of: marker) else { break }
            let title = inner[..<close.lowerBound]
            var rest = inner[close.upperBound...].drop { $0 == " " }
            if rest.hasPrefix(":") || rest.hasPrefix("-") || rest.hasPrefix("—") || rest.hasPrefix("–") {
                rest = rest.dropFirst().drop { $0 == " " }
            }
            if let key = key(title.trimmingCharacters(in: CharacterSet(charactersIn: ": "))) {
                return (key, String(rest).trimmingCharacters(in: .whitespaces))
            }
            return nil
        }
        // A heading or numbered line: the whole text is the title, or the title, a colon, then text.
        // A plain line: only "Title:" (with or without text after the colon).
        if let colon = s.firstIndex(of: ":") {
            let title = s[..<colon]
            if title.count <= 40, let key = key(title) {
                return (key, s[s.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
        }
        if isHeading || numbered, let key = key(s) { return (key, "") }
        return nil
    }
}
