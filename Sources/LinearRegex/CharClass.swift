/// A set of Unicode scalar values as sorted, disjoint, non-adjacent ranges, with a bitmap for ASCII so
/// the common lookup is one shift. Scalars are `UInt32` because escapes like `\x{D800}` name values that
/// are not `Unicode.Scalar`s (they never match: decoding never yields a surrogate).
struct CharClass: Sendable, Equatable {
    static let maxScalar: UInt32 = 0x10FFFF

    private(set) var ranges: [ClosedRange<UInt32>]
    private var asciiLow: UInt64 = 0  // bits 0..<64
    private var asciiHigh: UInt64 = 0  // bits 64..<128

    /// Sorts and merges `ranges` (Go's `cleanClass`), negating the result when `negated`.
    init(_ ranges: [ClosedRange<UInt32>], negated: Bool = false) {
        let clean = CharClass.normalize(ranges)
        self.ranges = negated ? CharClass.complement(clean) : clean
        for r in self.ranges where r.lowerBound < 128 {
            for c in r.lowerBound...min(r.upperBound, 127) {
                if c < 64 { asciiLow |= 1 << UInt64(c) } else { asciiHigh |= 1 << UInt64(c - 64) }
            }
        }
    }

    @inline(__always)
    func contains(_ c: UInt32) -> Bool {
        if c < 64 { return asciiLow & (1 << UInt64(c)) != 0 }
        if c < 128 { return asciiHigh & (1 << UInt64(c - 64)) != 0 }
        var lo = 0
        var hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let r = ranges[mid]
            if c < r.lowerBound {
                hi = mid
            } else if c > r.upperBound {
                lo = mid + 1
            } else {
                return true
            }
        }
        return false
    }

    static func normalize(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var out: [ClosedRange<UInt32>] = []
        out.reserveCapacity(sorted.count)
        for r in sorted {
            if let last = out.last, r.lowerBound <= last.upperBound &+ 1 {
                if r.upperBound > last.upperBound { out[out.count - 1] = last.lowerBound...r.upperBound }
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// The complement within 0...0x10FFFF of normalized ranges.
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.append(next...r.lowerBound - 1) }
            if r.upperBound >= maxScalar { return out }
            next = r.upperBound + 1
        }
        out.append(next...maxScalar)
        return out
    }
}

/// The named groups of RE2 syntax: Perl escapes (`\d`), POSIX classes (`[[:alpha:]]`) and Unicode general
/// categories (`\pL`, `\p{Lu}`). Perl and POSIX groups are ASCII-only, as in RE2.
enum CharGroups {
    static let perl: [UInt32: [ClosedRange<UInt32>]] = [
        c("d"): [c("0")...c("9")],
        c("s"): [c("\t")...c("\n"), 0x0C...0x0D, c(" ")...c(" ")],
        c("w"): [c("0")...c("9"), c("A")...c("Z"), c("_")...c("_"), c("a")...c("z")],
    ]

    static let posix: [String: [ClosedRange<UInt32>]] = [
        "alnum": [c("0")...c("9"), c("A")...c("Z"), c("a")...c("z")],
        "alpha": [c("A")...c("Z"), c("a")...c("z")],
        "ascii": [0...0x7F],
        "blank": [c("\t")...c("\t"), c(" ")...c(" ")],
        "cntrl": [0...0x1F, 0x7F...0x7F],
        "digit": [c("0")...c("9")],
        "graph": [c("!")...c("~")],
        "lower": [c("a")...c("z")],
        "print": [c(" ")...c("~")],
        "punct": [c("!")...c("/"), c(":")...c("@"), c("[")...c("`"), c("{")...c("~")],
        "space": [c("\t")...0x0D, c(" ")...c(" ")],
        "upper": [c("A")...c("Z")],
        "word": [c("0")...c("9"), c("A")...c("Z"), c("_")...c("_"), c("a")...c("z")],
        "xdigit": [c("0")...c("9"), c("A")...c("F"), c("a")...c("f")],
    ]

    /// Ranges of a Unicode general category (`L`, `Lu`, … as Go's `unicode.Categories`) or `Any`; `nil` for
    /// any other name (scripts such as `Greek` are not supported). Built on first use from the Swift
    /// standard library's Unicode data, which may be a newer Unicode version than RE2's.
    static func unicodeCategory(_ name: String) -> [ClosedRange<UInt32>]? {
        if name == "Any" { return [0...CharClass.maxScalar] }
        return unicodeCategories[name]
    }

    private static let unicodeCategories: [String: [ClosedRange<UInt32>]] = {
        var byCode: [String: [ClosedRange<UInt32>]] = [:]
        var runStart: UInt32 = 0
        var runCategory = Unicode.GeneralCategory.control  // U+0000
        func close(_ end: UInt32) {
            if let code = twoLetterCode(runCategory) { byCode[code, default: []].append(runStart...end - 1) }
        }
        for v in UInt32(1)...CharClass.maxScalar {
            // Surrogates are no scalars; RE2 lists them as Cs.
            let category = Unicode.Scalar(v)?.properties.generalCategory ?? .surrogate
            if category != runCategory {
                close(v)
                runStart = v
                runCategory = category
            }
        }
        close(CharClass.maxScalar + 1)
        var all = byCode
        for (code, ranges) in byCode {
            // Go's one-letter categories are the unions of their two-letter ones; Go has no Cn (unassigned).
            all[String(code.prefix(1)), default: []] += ranges
        }
        for (code, ranges) in all where code.count == 1 { all[code] = CharClass.normalize(ranges) }
        return all
    }()

    private static func twoLetterCode(_ g: Unicode.GeneralCategory) -> String? {
        switch g {
        case .uppercaseLetter: "Lu"
        case .lowercaseLetter: "Ll"
        case .titlecaseLetter: "Lt"
        case .modifierLetter: "Lm"
        case .otherLetter: "Lo"
        case .nonspacingMark: "Mn"
        case .spacingMark: "Mc"
        case .enclosingMark: "Me"
        case .decimalNumber: "Nd"
        case .letterNumber: "Nl"
        case .otherNumber: "No"
        case .connectorPunctuation: "Pc"
        case .dashPunctuation: "Pd"
        case .openPunctuation: "Ps"
        case .closePunctuation: "Pe"
        case .initialPunctuation: "Pi"
        case .finalPunctuation: "Pf"
        case .otherPunctuation: "Po"
        case .mathSymbol: "Sm"
        case .currencySymbol: "Sc"
        case .modifierSymbol: "Sk"
        case .otherSymbol: "So"
        case .spaceSeparator: "Zs"
        case .lineSeparator: "Zl"
        case .paragraphSeparator: "Zp"
        case .control: "Cc"
        case .format: "Cf"
        case .surrogate: "Cs"
        case .privateUse: "Co"
        case .unassigned: nil
        @unknown default: nil
        }
    }

    private static func c(_ s: Unicode.Scalar) -> UInt32 { s.value }
}
