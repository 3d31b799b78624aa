import Foundation

/// Finds a model looping, incrementally: text is fed in pieces of any size (streamed deltas or a whole
/// answer) and the detector says as soon as a loop is established, so a caller can stop the transfer.
///
/// A loop is either
/// - the same sentence (normalised: case, spacing, list markers and numbers ignored; at least 4 words and
///   20 letters) written `sentenceRepeats` (3) times, anywhere in the text; or
/// - the last words of the text being one block of 1 to 120 words repeated at least 3 times in a row and
///   at least 30 words long in all ("the the the …", or a sentence without an end, again and again).
///
/// Both need three copies, so two equal sentences (a summary that restates a title) never count.
public struct RepetitionDetector: Sendable {
    public static let sentenceRepeats = 3
    static let minSentenceWords = 4
    static let minSentenceLetters = 20
    static let maxPeriod = 120
    static let minLoopWords = 30

    /// A loop found, where it was found (offset in Characters fed so far), and what repeats.
    public struct Loop: Sendable, Equatable {
        public var offset: Int
        public var repeated: String
        public var times: Int
    }

    public private(set) var loops: [Loop] = []
    /// Characters fed so far.
    public private(set) var fed = 0

    private var sentence = ""
    private var word = ""
    private var lastChar: Character = " "
    private var sentenceCounts: [String: Int] = [:]
    private var words: [Int32] = []
    private var wordIDs: [String: Int32] = [:]
    private var wordTexts: [String] = []
    /// Index in `words` up to which a periodic loop was already reported (one report per loop).
    private var loopReportedUntil = -1

    public init() {}

    /// Feeds more text; returns the loops this piece established.
    @discardableResult
    public mutating func feed<S: StringProtocol>(_ text: S) -> [Loop] {
        let before = loops.count
        for ch in text {
            fed += 1
            // "_" separates words: a model looping inside one identifier ("id_to_find_and_id_to_find_…") loops in words.
            if ch.isLetter || ch.isNumber || ch == "`" || ch == "'" || ch == "’" {
                word.append(ch)
                if word.count % Self.longWord == 0 { checkLongWord() }
            } else {
                endWord()
            }
            if ch == "\n" || (ch.isWhitespace && (lastChar == "." || lastChar == "!" || lastChar == "?" || lastChar == ":")) {
                endSentence()
            } else if !(ch.isWhitespace && sentence.isEmpty) {
                sentence.append(ch)
            }
            lastChar = ch
        }
        return Array(loops[before...])
    }

    /// Ends the text: a last sentence without a full stop counts too.
    @discardableResult
    public mutating func finish() -> [Loop] {
        let before = loops.count
        endWord()
        endSentence()
        return Array(loops[before...])
    }

    /// A "word" this long that is a few characters over and over ("1000000…", "ababab…") is a loop.
    static let longWord = 64

    private mutating func checkLongWord() {
        let tail = Array(word.suffix(Self.longWord))
        for period in 1 ... 8 where (period ..< tail.count).allSatisfy({ tail[$0] == tail[$0 - period] }) {
            loops.append(Loop(offset: fed, repeated: String(tail.prefix(period)), times: tail.count / period))
            return
        }
    }

    private mutating func endWord() {
        guard !word.isEmpty else { return }
        let w = word.lowercased()
        word = ""
        let id: Int32
        if let known = wordIDs[w] {
            id = known
        } else {
            id = Int32(wordTexts.count)
            wordIDs[w] = id
            wordTexts.append(w)
        }
        words.append(id)
        checkPeriodicTail()
    }

    private mutating func endSentence() {
        defer { sentence = "" }
        let key = Self.normalizeSentence(sentence)
        guard key.split(separator: " ").count >= Self.minSentenceWords,
            key.filter(\.isLetter).count >= Self.minSentenceLetters
        else { return }
        let n = (sentenceCounts[key] ?? 0) + 1
        sentenceCounts[key] = n
        if n == Self.sentenceRepeats {
            loops.append(Loop(offset: fed, repeated: sentence.trimmingCharacters(in: .whitespaces), times: n))
        }
    }

    /// Lowercased; digits, list markers, emphasis and punctuation dropped; spaces collapsed.
    static func normalizeSentence(_ s: String) -> String {
        s.lowercased().split { !($0.isLetter || $0 == "_" || $0 == "`") }.joined(separator: " ")
    }

    private mutating func checkPeriodicTail() {
        let n = words.count
        guard n >= Self.minLoopWords, n - 1 > loopReportedUntil else { return }
        for period in 1 ... min(Self.maxPeriod, n / 3) {
            let repeats = max(3, (Self.minLoopWords + period - 1) / period)
            let span = period * repeats
            guard span <= n else { continue }
            var k = 1
            while k < span - period + 1, words[n - k] == words[n - k - period] { k += 1 }
            if k >= span - period + 1 {
                // Report the loop once; the next report needs a whole new span.
                loopReportedUntil = n - 1 + span
                let block = words[(n - period)...].map { wordTexts[Int($0)] }.joined(separator: " ")
                loops.append(Loop(offset: fed, repeated: block, times: repeats))
                return
            }
        }
    }
}

/// Cheap text statistics the quality checks use.
enum TextStats {
    /// The text a reader reads: fenced code, inline code and heading markers removed.
    static func prose(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let tick = rest.firstIndex(of: "`") {
            out += rest[..<tick]
            if rest[tick...].hasPrefix("```") {
                let body = rest.index(tick, offsetBy: 3)
                rest = rest[(rest[body...].range(of: "```")?.upperBound ?? rest.endIndex)...]
                continue
            }
            let open = rest.index(after: tick)
            guard let close = rest[open...].firstIndex(where: { $0 == "`" || $0 == "\n" }), rest[close] == "`" else {
                rest = rest[open...]
                continue
            }
            out += " "
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.drop { $0 == "#" || $0 == " " } }.joined(separator: "\n")
    }

    /// Words of letters only (names in backticks are not words), lowercased.
    static func words(_ prose: String) -> [Substring] {
        let lower = prose.lowercased()
        return lower.split { !$0.isLetter && $0 != "'" && $0 != "’" }.filter { $0.contains { $0.isLetter } }
    }

    /// The share of word n-grams that occur more than once (a measure of looping that tolerates small
    /// variations, such as a counter in each copy).
    static func repeatedNgramShare(_ words: [Substring], n: Int) -> (share: Double, count: Int) {
        guard words.count >= n else { return (0, 0) }
        var counts: [String: Int] = [:]
        for i in 0 ... words.count - n { counts[words[i ..< i + n].joined(separator: " "), default: 0] += 1 }
        let total = words.count - n + 1
        let repeated = counts.values.filter { $0 > 1 }.reduce(0, +)
        return (Double(repeated) / Double(total), total)
    }

    /// Word n-grams of a text, as a set, for overlap tests.
    static func ngramSet(_ words: [Substring], n: Int) -> Set<String> {
        guard words.count >= n else { return [] }
        return Set((0 ... words.count - n).map { words[$0 ..< $0 + n].joined(separator: " ") })
    }
}

/// The language check: a cheap heuristic for English, no model and no dictionary beyond 120 stop words.
/// Prose (code and backticked names removed) is English when at least 90% of its letters are ASCII and at
/// least 15% of its words are common English function words. English technical prose scores 25–45%
/// (the offline analysis' texts: 28–40%); French, German, Spanish or Portuguese prose scores under 10%
/// because their function words differ ("le", "der", "el", "que"); Chinese, Japanese or Russian prose
/// fails on the ASCII share. Texts under 12 words pass (too little to tell).
public enum AnswerLanguage: String, Sendable, Codable {
    case english = "en"
    /// No language check.
    case any

    public static let minASCIIShare = 0.9
    public static let minStopWordShare = 0.15
    public static let minWords = 12

    static let englishStopWords: Set<Substring> = [
        "a", "about", "above", "after", "again", "all", "also", "an", "and", "any", "are", "as", "at", "be", "because",
        "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
        "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here",
        "how", "if", "in", "into", "is", "it", "its", "itself", "just", "less", "more", "most", "much", "must", "no",
        "nor", "not", "now", "of", "off", "on", "once", "one", "only", "or", "other", "our", "out", "over", "own",
        "same", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these",
        "they", "this", "those", "through", "to", "too", "under", "until", "up", "use", "very", "was", "we", "were",
        "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "you", "your", "instead",
        "every", "many", "time", "called", "calls", "spent", "spends", "makes", "make", "takes", "uses", "used",
    ]

    /// (passes, share of ASCII letters, share of English stop words, words counted).
    static func measure(_ text: String) -> (ascii: Double, stop: Double, words: Int) {
        let prose = TextStats.prose(text)
        var letters = 0, ascii = 0
        for s in prose.unicodeScalars where CharacterSet.letters.contains(s) {
            letters += 1
            if s.isASCII { ascii += 1 }
        }
        let words = TextStats.words(prose)
        let stop = words.filter { englishStopWords.contains($0) }.count
        return (letters == 0 ? 1 : Double(ascii) / Double(letters), words.isEmpty ? 0 : Double(stop) / Double(words.count), words.count)
    }
}
