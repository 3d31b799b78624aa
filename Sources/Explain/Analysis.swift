import FlameDiff
import Foundation
import ProtoPprof

/// One category of the catalogue (Resources/catalogue.json): how to recognise it, what it means, how to fix it.
public struct Category: Sendable, Decodable {
    public var id: String
    public var title: String
    public var patterns: [String]
    public var cause: String
    public var fix: String

    /// The bundled catalogue.
    public static func catalogue() throws -> [Category] {
        guard let url = Bundle.module.url(forResource: "catalogue", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try JSONDecoder().decode([Category].self, from: Data(contentsOf: url))
    }
}

/// A category seen in the profile, with the functions that show it.
public struct Finding: Sendable {
    public var category: String
    public var title: String
    /// Share of the total spent in these functions' own code (flat), in percent.
    public var share: Double
    public var functions: [String]
    public var cause: String
    public var fix: String
    /// 0...1: how much of the profile this explains.
    public var confidence: Double
}

/// What an expert reads off a flame graph, computed without a model.
public struct Analysis: Sendable {
    public var sampleType: ValueType
    public var total: Int64
    public var language: String
    /// The heaviest self functions (name, flat share %, cum share %).
    public var hotFunctions: [(name: String, flat: Double, cum: Double)]
    /// The bottleneck: the heaviest self function, and the user-code function that leads to it.
    public var bottleneck: String
    public var bottleneckShare: Double
    public var userCaller: String?
    /// The heaviest path to the bottleneck, root first.
    public var hotPath: [String]
    public var findings: [Finding]

    /// Analyses a profile for one sample type; with no choice, pprof's default unless its total is 0, then the
    /// first type with a nonzero total (a .NET profile's last type is often an empty lock time).
    public init(profile: Profile, sampleType: SampleTypeSelector? = nil, catalogue: [Category]) throws {
        var options = TreeOptions(sampleType: sampleType)
        if sampleType == nil, profile.total(ofType: profile.defaultSampleTypeIndex) == 0,
            let nonzero = profile.sampleTypes.indices.first(where: { profile.total(ofType: $0) != 0 })
        {
            options.sampleType = .index(nonzero)
        }
        let stacks = try StackSet(profile: profile, options: options)
        let frames = FrameTable(profile: profile, key: .function)
        let top = TopTable(stacks: stacks, frames: frames)
        let tree = CallTree(stacks: stacks, frames: frames)
        self.init(top: top, tree: tree, catalogue: catalogue)
    }

    init(top: TopTable, tree: CallTree, catalogue: [Category]) {
        sampleType = top.sampleType
        total = top.total
        hotFunctions = top.rows.prefix(5).map { ($0.name, top.percent($0.flat), top.percent($0.cum)) }
        language = Self.guessLanguage(top.rows.prefix(50).map(\.name))

        // Categories by the flat share of the functions that match them.
        let compiled = catalogue.map { c in (c, c.patterns.compactMap { try? Regex($0) }) }
        var findings: [Finding] = []
        for (category, regexes) in compiled {
            var matched: [(String, Int64)] = []
            var sum: Int64 = 0
            for row in top.rows where row.flat > 0 && regexes.contains(where: { row.name.contains($0) }) {
                matched.append((row.name, row.flat))
                sum += row.flat
            }
            let share = top.percent(sum)
            if share >= 5 {
                findings.append(Finding(
                    category: category.id, title: category.title, share: share, functions: matched.prefix(3).map(\.0),
                    cause: category.cause, fix: category.fix, confidence: min(1, share / 50)))
            }
        }
        self.findings = findings.sorted { $0.share > $1.share }

        let first = top.rows.first
        bottleneck = first?.name ?? ""
        bottleneckShare = first.map { top.percent($0.flat) } ?? 0
        // The heaviest node of the bottleneck, and the path to it.
        var best = -1
        for i in 1 ..< tree.nodeCount where tree.names[Int(tree.nodeName[i])] == bottleneck {
            if best < 0 || tree.selfValue[i] > tree.selfValue[best] { best = i }
        }
        hotPath = best > 0 ? tree.path(of: best) : []
        let libraries = compiled.flatMap(\.1)
        userCaller = hotPath.dropLast().reversed().first { name in
            !Self.looksLikeRuntime(name) && !libraries.contains { name.contains($0) }
        }
    }

    static func looksLikeRuntime(_ name: String) -> Bool {
        let prefixes = [
            "runtime.", "runtime/", "internal/", "syscall.", "testing.", "reflect.", "sync.", "java/", "jdk/", "sun/", "javax/",
            "System.", "Microsoft.", "(unknown)", "[", "0x", "<unknown>", "(root)", "(program)", "(idle)", "(garbage collector)",
        ]
        if prefixes.contains(where: { name.hasPrefix($0) }) { return true }
        // Go standard library packages have no dot before their first slash or dot-separated name.
        if let dot = name.firstIndex(of: "."), !name[..<dot].contains("/"), !name.hasPrefix("main."),
            ["fmt", "strings", "bytes", "strconv", "sort", "time", "math", "io", "bufio", "os", "net", "encoding", "compress", "crypto", "context"]
                .contains(String(name[..<dot]))
        {
            return true
        }
        return false
    }

    static func guessLanguage(_ names: [String]) -> String {
        func count(_ test: (String) -> Bool) -> Int { names.filter(test).count }
        let scores: [(String, Int)] = [
            ("Go", count { $0.hasPrefix("runtime.") || $0.hasPrefix("main.") || $0.contains("github.com/") }),
            ("Java", count { $0.hasPrefix("java/") || $0.hasPrefix("jdk/") || $0.contains("/") && $0.contains("$") }),
            ("Python", count { $0.contains(".py") }),
            ("Ruby", count { $0.contains(".rb") || $0.contains("[c function]") }),
            ("Node.js", count { $0.contains(".js") || $0 == "(anonymous)" || $0 == "(garbage collector)" }),
            (".NET", count { $0.contains("!") || $0.hasPrefix("System.") }),
        ]
        let best = scores.max { $0.1 < $1.1 }!
        return best.1 == 0 ? "native or unknown" : best.0
    }
}
