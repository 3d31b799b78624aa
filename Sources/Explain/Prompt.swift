import FlameDiff
import Foundation

/// A versioned pair of prompt templates (Resources/prompts/<version>/<kind>-system.md and -user.md).
/// `{{name}}` placeholders are replaced when a prompt is built.
public struct PromptTemplate: Sendable {
    public enum Kind: String, Sendable {
        case explain, diff
    }

    /// The standard templates; `compact` ones for small models (`<kind>-compact-*.md`: short instructions,
    /// a terse data block, at least 5 functions kept before anything else is cut); `strict` ones for one
    /// retry after an answer failed the quality gate (`<kind>-strict-*.md`: compact data, fewer words, the
    /// problems of the first answer named).
    public enum Variant: String, Sendable {
        case standard, compact, strict
    }

    public static let currentVersion = "v1"

    /// Contexts up to this many tokens get the compact templates (`variant(for:)`).
    public static let compactContextLimit = 4096

    public let kind: Kind
    public let version: String
    public let system: String
    public let user: String
    public var variant: Variant = .standard

    /// The version and variant, as results report it: "v1", "v1-compact", "v1-strict".
    public var name: String { variant == .standard ? version : "\(version)-\(variant.rawValue)" }

    public static func load(_ kind: Kind, version: String = currentVersion) throws -> PromptTemplate {
        try load(kind, version: version, variant: .standard)
    }

    public static func load(_ kind: Kind, version: String = currentVersion, variant: Variant) throws -> PromptTemplate {
        guard let root = Bundle.module.url(forResource: "prompts", withExtension: nil) else { throw CocoaError(.fileNoSuchFile) }
        let dir = root.appendingPathComponent(version)
        let stem = variant == .standard ? kind.rawValue : "\(kind.rawValue)-\(variant.rawValue)"
        func read(_ part: String) throws -> String {
            try String(contentsOf: dir.appendingPathComponent("\(stem)-\(part).md"), encoding: .utf8)
        }
        return PromptTemplate(kind: kind, version: version, system: try read("system"), user: try read("user"), variant: variant)
    }

    /// The templates for a budget: compact when the model's context is at most `compactContextLimit` tokens.
    public static func load(_ kind: Kind, for budget: TokenBudget, version: String = currentVersion) throws -> PromptTemplate {
        try load(kind, version: version, variant: variant(for: budget))
    }

    public static func variant(for budget: TokenBudget) -> Variant {
        budget.contextTokens <= compactContextLimit ? .compact : .standard
    }

    func render(_ text: String, _ values: [String: String]) -> String {
        var out = text
        for (key, value) in values { out = out.replacingOccurrences(of: "{{\(key)}}", with: value) }
        return out
    }
}

/// How many tokens a prompt may use. Counting is an upper bound, not an estimate: byte-level BPE
/// tokenizers (OpenAI's cl100k_base and o200k_base, Llama 3's) give every token at least one UTF-8 byte,
/// so a text never has more tokens than bytes; chat framing adds at most 4 tokens per message and 3 to
/// prime the reply. Real prompts come out at roughly a quarter of the bound.
public struct TokenBudget: Sendable, Equatable {
    /// The model's context window.
    public var contextTokens: Int
    /// Room kept for the answer (also sent as max_tokens).
    public var answerTokens: Int

    /// The default fits an 8k-token model with 1k tokens for the answer.
    public init(contextTokens: Int = 8192, answerTokens: Int = 1024) {
        self.contextTokens = contextTokens
        self.answerTokens = answerTokens
    }

    public var promptTokens: Int { max(0, contextTokens - answerTokens) }

    /// The upper bound of the tokens of these chat messages.
    public static func upperBound(_ messages: [String]) -> Int { messages.reduce(3) { $0 + $1.utf8.count + 4 } }
}

/// A prompt ready for a chat model, with what grounding needs to check the answer against it.
public struct ChatPrompt: Sendable {
    public var templateVersion: String
    public var system: String
    public var user: String
    /// `TokenBudget.upperBound` of the two messages, and the budget it had to fit.
    public var tokenBound: Int
    public var budget: Int
    /// How much of the analysis made it in (functions, paths) out of how much there was.
    public var functionsIncluded: Int
    public var functionsAvailable: Int
    public var pathsIncluded: Int
    public var pathsAvailable: Int
    /// Names shown shortened in the prompt, to their full names.
    public var aliases: [String: String]
    /// Every percentage the data states, for checking the numbers an answer cites.
    public var numbers: [Double]
}

/// Serialises an analysis into a prompt that fits a token budget. The data goes in one
/// `<profile-data>` block; every symbol name in it is a quoted, escaped string, so that a name cannot
/// close the block or read as an instruction. Too much data is cut by rank (the lightest functions and
/// paths go first), never by truncating the text.
public enum PromptBuilder {
    /// Longest name kept whole; longer ones keep their head and tail around "…".
    public static let maxNameBytes = 240

    /// Compact and strict prompts keep at least this many functions before they cut anything else but paths.
    public static let compactMinFunctions = 5
    /// A strict (retry) prompt carries at most this many functions and one path.
    public static let strictMaxFunctions = 8

    public static func explain(_ a: Analysis, budget: TokenBudget = TokenBudget(), template: PromptTemplate) -> ChatPrompt {
        explain(a, budget: budget, template: template, extra: [:])
    }

    static func explain(_ a: Analysis, budget: TokenBudget, template: PromptTemplate, extra: [String: String]) -> ChatPrompt {
        let compact = template.variant != .standard
        // Functions ranked for the budget: the heaviest by flat and by cum, alternately; shares under 0.1% are noise.
        var ranked: [FunctionShare] = []
        var seen = Set<String>()
        let byFlat = a.topFunctions.filter { $0.flatShare >= 0.1 }
        let byCum = a.topCumulative.filter { $0.cumShare >= 0.1 }
        for i in 0 ..< max(byFlat.count, byCum.count) {
            for list in [byFlat, byCum] where i < list.count && seen.insert(list[i].name).inserted { ranked.append(list[i]) }
        }
        let names = ranked.map(\.name) + a.hotPaths.flatMap(\.frames) + a.findings.flatMap { $0.functions + $0.callers }
            + (a.culprit.map { [$0] } ?? [])
        let alias = Aliases(names)
        let vars = [
            "language": a.language, "sampleType": a.sampleType.type, "unit": a.sampleType.unit, "total": "\(a.total)",
        ].merging(extra) { a, _ in a }
        var numbers: [Double] = []
        func data(functions: Int, paths: Int, nameLimit: Int) -> String {
            numbers = []
            func pct(_ v: Double) -> String {
                let rounded = (v * 10).rounded() / 10
                numbers.append(rounded)
                return NumberText.fixed(rounded, places: 1)
            }
            func q(_ name: String) -> String { quote(alias.shown(name), limit: nameLimit) }
            if compact {
                return compactData(a, functions: Array(ranked.prefix(functions)), paths: paths, pct: pct, q: q)
            }
            var lines = ["profile: language \(a.language), sample type \(a.sampleType.type), unit \(a.sampleType.unit), total \(a.total)"]
            lines.append("functions by own value (flat: in the function's own code; cum: with everything it calls; percent of total):")
            lines.append("flat% cum% function")
            for f in ranked.prefix(functions).sorted(by: { $0.flat != $1.flat ? $0.flat > $1.flat : $0.cum > $1.cum }) { lines.append("\(pct(f.flatShare)) \(pct(f.cumShare)) \(q(f.name))") }
            if paths > 0 {
                lines.append("heaviest call paths (caller > callee; percent of total spent in the last frame itself):")
                for p in a.hotPaths.prefix(paths) where p.share >= 0.1 || p.frames == a.hotPath {
                    let frames = p.frames.count > 8 ? ["…"] + p.frames.suffix(7).map(q) : p.frames.map(q)
                    lines.append("\(pct(p.share))% " + frames.joined(separator: " > "))
                }
            }
            if !a.findings.isEmpty {
                lines.append("rule-based findings (each sample counted once, for its outermost matching frame):")
                for f in a.findings {
                    lines.append(categoryLine("- \(f.title): \(pct(f.share))% of total", f.functions, "called from", f.callers, q))
                }
            }
            if let culprit = a.culprit { lines.append("user-code function most responsible: \(q(culprit))") }
            return lines.joined(separator: "\n")
        }
        return fit(template: template, vars: vars, budget: budget, functionsAvailable: ranked.count,
                   pathsAvailable: a.hotPaths.count, alias: alias, numbers: { numbers }, data: data)
    }

    /// The compact data block: the same facts in fewer bytes (one header line per list, paths of at most 4
    /// frames, one path line), the finding and the culprit always in.
    static func compactData(
        _ a: Analysis, functions: [FunctionShare], paths: Int, pct: (Double) -> String, q: (String) -> String
    ) -> String {
        var lines = ["total \(a.total) \(a.sampleType.unit)", "flat% cum% function (flat: own code, cum: with callees)"]
        for f in functions.sorted(by: { $0.flat != $1.flat ? $0.flat > $1.flat : $0.cum > $1.cum }) {
            lines.append("\(pct(f.flatShare)) \(pct(f.cumShare)) \(q(f.name))")
        }
        for p in a.hotPaths.prefix(paths) where p.share >= 0.1 || p.frames == a.hotPath {
            let frames = p.frames.count > 4 ? ["…"] + p.frames.suffix(4).map(q) : p.frames.map(q)
            lines.append("path \(pct(p.share))%: " + frames.joined(separator: " > "))
        }
        for f in a.findings.prefix(2) {
            lines.append(categoryLine("finding: \(f.title) \(pct(f.share))%", Array(f.functions.prefix(2)), "called from", Array(f.callers.prefix(2)), q))
        }
        if let culprit = a.culprit { lines.append("user code to change: \(q(culprit))") }
        return lines.joined(separator: "\n")
    }

    public static func diff(_ d: DiffExplanation, budget: TokenBudget = TokenBudget(), template: PromptTemplate) -> ChatPrompt {
        diff(d, budget: budget, template: template, extra: [:])
    }

    static func diff(_ d: DiffExplanation, budget: TokenBudget, template: PromptTemplate, extra: [String: String]) -> ChatPrompt {
        let compact = template.variant != .standard
        // Rank: the changes by total share first (they carry the user code), then by self share.
        var seen = Set<String>()
        let ranked = (d.totalChanges.prefix(5) + d.selfIncreases + d.selfDecreases + d.totalChanges.dropFirst(5))
            .filter { seen.insert($0.name).inserted }
        let names = ranked.map(\.name) + d.categoryChanges.flatMap { $0.functions + $0.callers } + (d.culprit.map { [$0] } ?? [])
        let alias = Aliases(names)
        let vars = [
            "language": d.language, "sampleType": d.sampleType.type, "unit": d.sampleType.unit,
            "leftTotal": "\(d.leftTotal)", "rightTotal": "\(d.rightTotal)",
        ].merging(extra) { a, _ in a }
        var numbers: [Double] = []
        func data(functions: Int, paths: Int, nameLimit: Int) -> String {
            numbers = []
            func pct(_ v: Double, signed: Bool = false) -> String {
                let rounded = (v * 100).rounded() / 100
                numbers.append(rounded)
                return (signed && rounded >= 0 ? "+" : "") + NumberText.fixed(rounded, places: 2)
            }
            func q(_ name: String) -> String { quote(alias.shown(name), limit: nameLimit) }
            if compact {
                var lines = ["baseline total \(d.leftTotal), comparison total \(d.rightTotal) \(d.sampleType.unit)"]
                if d.leftTotal != 0 {
                    lines.append("total change: \(pct(100 * Double(d.rightTotal - d.leftTotal) / Double(d.leftTotal), signed: true))%")
                }
                lines.append("self% before -> after (pp), total% before -> after (pp), function")
                for c in ranked.prefix(functions) {
                    var line = "\(pct(c.leftSelfShare)) -> \(pct(c.rightSelfShare)) (\(pct(c.selfDelta, signed: true))), \(pct(c.leftTotalShare)) -> \(pct(c.rightTotalShare)) (\(pct(c.totalDelta, signed: true))) \(q(c.name))"
                    if c.status == .new || c.status == .vanished { line += " [\(c.status.rawValue)]" }
                    lines.append(line)
                }
                for c in d.categoryChanges.prefix(min(2, max(1, paths))) {
                    let head = "category \(c.title): \(pct(c.leftShare)) -> \(pct(c.rightShare)) (\(pct(c.delta, signed: true)))"
                    lines.append(categoryLine(head, Array(c.functions.prefix(2)), "growth from", Array(c.callers.prefix(2)), q))
                }
                if let culprit = d.culprit { lines.append("user code most responsible: \(q(culprit))") }
                return lines.joined(separator: "\n")
            }
            var lines = [
                "diff: language \(d.language), sample type \(d.sampleType.type), unit \(d.sampleType.unit), baseline total \(d.leftTotal), comparison total \(d.rightTotal)"
            ]
            if d.leftTotal != 0 {
                lines.append("total change: \(pct(100 * Double(d.rightTotal - d.leftTotal) / Double(d.leftTotal), signed: true))%")
            }
            lines.append("functions that changed most (self: own code; total: with callees; baseline% -> comparison%, delta in pp):")
            for c in ranked.prefix(functions) {
                var line = "self \(pct(c.leftSelfShare)) -> \(pct(c.rightSelfShare)) (\(pct(c.selfDelta, signed: true))), total \(pct(c.leftTotalShare)) -> \(pct(c.rightTotalShare)) (\(pct(c.totalDelta, signed: true))) \(q(c.name))"
                if c.status == .new || c.status == .vanished { line += " [\(c.status.rawValue)]" }
                lines.append(line)
            }
            if !d.categoryChanges.isEmpty {
                lines.append("rule-based categories (baseline% -> comparison%):")
                for c in d.categoryChanges.prefix(max(1, paths)) {
                    let head = "- \(c.title): \(pct(c.leftShare)) -> \(pct(c.rightShare)) (\(pct(c.delta, signed: true)))"
                    lines.append(categoryLine(head, c.functions, "growth from", c.callers, q))
                }
            }
            if let culprit = d.culprit { lines.append("user-code function most responsible for the growth: \(q(culprit))") }
            return lines.joined(separator: "\n")
        }
        return fit(template: template, vars: vars, budget: budget, functionsAvailable: ranked.count,
                   pathsAvailable: d.categoryChanges.count, alias: alias, numbers: { numbers }, data: data)
    }

    /// A category's line: its head, then where it is entered and from which user code.
    static func categoryLine(_ head: String, _ entries: [String], _ callerWord: String, _ callers: [String], _ q: (String) -> String) -> String {
        var line = head
        if !entries.isEmpty { line += ", entered through " + entries.map(q).joined(separator: ", ") }
        if !callers.isEmpty { line += ", \(callerWord) " + callers.map(q).joined(separator: ", ") }
        return line
    }

    /// Renders with everything, then drops the lowest-ranked function or path (whichever list is longer
    /// relative to its size) until the bound fits; as a last resort names are cut shorter. Compact and strict
    /// templates drop paths down to one first, then functions down to `compactMinFunctions`, then the last
    /// path, then shorten names, and only then go below 5 functions.
    static func fit(
        template: PromptTemplate, vars: [String: String], budget: TokenBudget, functionsAvailable: Int, pathsAvailable: Int,
        alias: Aliases, numbers: () -> [Double], data: (Int, Int, Int) -> String
    ) -> ChatPrompt {
        let strict = template.variant == .strict
        var functions = strict ? min(functionsAvailable, strictMaxFunctions) : functionsAvailable
        var paths = strict ? min(pathsAvailable, 1) : pathsAvailable
        var nameLimit = maxNameBytes
        let compact = template.variant != .standard
        let minFunctions = min(compactMinFunctions, functionsAvailable)
        var system = "", user = ""
        var bound = 0
        while true {
            var values = vars
            values["data"] = data(functions, paths, nameLimit)
            system = template.render(template.system, values)
            user = template.render(template.user, values)
            bound = TokenBudget.upperBound([system, user])
            if bound <= budget.promptTokens { break }
            if compact {
                if paths > 1 {
                    paths -= 1
                } else if functions > minFunctions {
                    functions -= 1
                } else if paths > 0 {
                    paths -= 1
                } else if nameLimit > 40 {
                    nameLimit /= 2
                } else if functions > 1 {
                    functions -= 1
                } else {
                    break
                }
                continue
            }
            if paths > 0 && (paths * 3 >= functions || functions <= 1) {
                paths -= 1
            } else if functions > 1 {
                functions -= 1
            } else if nameLimit > 40 {
                nameLimit /= 2
            } else {
                break  // the templates alone exceed the budget: send what is left and report the bound
            }
        }
        return ChatPrompt(
            templateVersion: template.name, system: system, user: user, tokenBound: bound, budget: budget.promptTokens,
            functionsIncluded: functions, functionsAvailable: functionsAvailable, pathsIncluded: paths,
            pathsAvailable: pathsAvailable, aliases: alias.fullNames, numbers: numbers())
    }

    /// A symbol name as data: a double-quoted string with `"`, `\`, control characters, backticks and
    /// angle brackets escaped (so it can close neither the string, nor a citation, nor the data block),
    /// at most `limit` bytes.
    public static func quote(_ name: String, limit: Int = maxNameBytes) -> String {
        var text = name
        if text.utf8.count > limit {
            let scalars = Array(text.unicodeScalars)
            let keep = max(8, limit / 2 - 2)
            text = String(String.UnicodeScalarView(scalars.prefix(keep))) + "…" + String(String.UnicodeScalarView(scalars.suffix(keep)))
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "`": out += String(format: "\\u%04x", scalar.value)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x2028 ... 0x2029).contains(scalar.value) {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Shortened names: a package path is dropped ("github.com/a/b/pkg.F" shows as "pkg.F") only when no
/// other name in the prompt shortens to the same text and the short text is not itself a name.
struct Aliases {
    private var shortOf: [String: String] = [:]
    private(set) var fullNames: [String: String] = [:]

    init(_ names: [String]) {
        let unique = Array(Set(names))
        var byShort: [String: [String]] = [:]
        for name in unique {
            if let short = Self.short(name) { byShort[short, default: []].append(name) }
        }
        let all = Set(unique)
        for (short, fulls) in byShort where fulls.count == 1 && !all.contains(short) {
            shortOf[fulls[0]] = short
            fullNames[short] = fulls[0]
        }
    }

    func shown(_ name: String) -> String { shortOf[name] ?? name }

    /// The name without the package path: the text after the last "/" before the first "(" or space.
    static func short(_ name: String) -> String? {
        let headEnd = name.firstIndex { $0 == "(" || $0 == " " } ?? name.endIndex
        guard let slash = name[..<headEnd].lastIndex(of: "/") else { return nil }
        let rest = name[name.index(after: slash)...]
        // Keep names that would lose their meaning ("pkg" alone, or a path to a file).
        guard rest.contains("."), !rest.hasPrefix("."), rest.count >= 3 else { return nil }
        return String(rest)
    }
}
