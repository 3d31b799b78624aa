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
    /// "outermost" (default): a sample counts for the category of its outermost matching frame.
    /// "leaf": only the leaf frame is tested, and a match wins over the outer category (waiting is
    /// where a stack ends, whatever called it).
    public var match: Match?

    public enum Match: String, Sendable, Decodable {
        case outermost, leaf
    }

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
    /// Share of the total spent in this category, in percent: each sample counts for the category of its
    /// outermost matching frame, so the work a library call causes below it (allocation, GC assist,
    /// system calls) counts for that call, and shares of different findings never overlap.
    public var share: Double
    /// The frames where the category is entered (outermost matches), heaviest first, at most 3.
    public var functions: [String]
    /// The user-code functions that call into it, heaviest first, at most 3.
    public var callers: [String]
    public var cause: String
    public var fix: String
    /// 0...1: how much of the profile this explains.
    public var confidence: Double
}

/// One function's flat and cumulative share.
public struct FunctionShare: Sendable {
    public var name: String
    public var flat: Int64
    public var cum: Int64
    /// Percent of the total.
    public var flatShare: Double
    public var cumShare: Double
}

/// A heavy call path: root first, ending in a frame with much self value.
public struct HotPath: Sendable {
    public var frames: [String]
    public var selfValue: Int64
    public var share: Double
}

/// What an expert reads off a flame graph, computed without a model.
public struct Analysis: Sendable {
    public var sampleType: ValueType
    public var total: Int64
    public var language: String
    /// The heaviest functions by flat value (at most 30); `hotFunctions` are the first five.
    public var topFunctions: [FunctionShare]
    /// The heaviest functions by cumulative value (at most 15): the callers that lead to the work.
    public var topCumulative: [FunctionShare]
    /// The heaviest self functions (name, flat share %, cum share %).
    public var hotFunctions: [(name: String, flat: Double, cum: Double)] {
        topFunctions.prefix(5).map { ($0.name, $0.flatShare, $0.cumShare) }
    }
    /// The heaviest self function, its flat share, and the user-code function that leads to it.
    public var bottleneck: String
    public var bottleneckShare: Double
    public var userCaller: String?
    /// The user-code function to change: the caller of the main finding when one explains much of the
    /// profile, else the bottleneck itself when it is user code, else its user caller.
    public var culprit: String?
    /// The heaviest path to the bottleneck, root first.
    public var hotPath: [String]
    /// The heaviest paths by self value (at most 10), heaviest first.
    public var hotPaths: [HotPath]
    public var findings: [Finding]
    /// Every function name of the profile's tree, and every source file, for grounding cited names.
    public var functionNames: Set<String>
    public var fileNames: Set<String> = []

    /// Analyses a profile for one sample type (the same rule as every command: see
    /// `Profile.sampleTypeIndex`), with the same frame key and filters as `top` and `flamegraph`.
    public init(profile: Profile, options: TreeOptions = TreeOptions(), catalogue: [Category]) throws {
        let stacks = try StackSet(profile: profile, options: options)
        let frames = FrameTable(profile: profile, key: options.frameKey)
        let tree = CallTree(stacks: stacks, frames: frames)
        // Read off the tree (one walk over its nodes) when frames and top-table rows are named alike; the
        // per-stack sum is the general case. Both give the same table (OptimizedPathTests).
        let top = frames.framesAreFunctions ? TopTable(tree: tree) : TopTable(stacks: stacks, frames: frames)
        self.init(top: top, tree: tree, catalogue: catalogue)
        fileNames = Set(profile.functions.map { profile.strings[Int($0.filename)] }.filter { !$0.isEmpty })
    }

    /// Analyses a profile for one sample type.
    public init(profile: Profile, sampleType: SampleTypeSelector?, catalogue: [Category]) throws {
        try self.init(profile: profile, options: TreeOptions(sampleType: sampleType), catalogue: catalogue)
    }

    /// Every percentage the analysis computed (shares of functions, paths and findings), for checking the
    /// numbers of a text written from it.
    public var statedNumbers: [Double] {
        var n = [bottleneckShare]
        for f in topFunctions + topCumulative { n += [f.flatShare, f.cumShare] }
        n += hotPaths.map(\.share) + findings.map(\.share)
        return n
    }

    /// The share a finding needs to be reported, in percent.
    public static let findingThreshold = 5.0

    public init(top: TopTable, tree: CallTree, catalogue: [Category]) {
        sampleType = top.sampleType
        total = top.total
        topFunctions = top.rows.prefix(30).map {
            FunctionShare(name: $0.name, flat: $0.flat, cum: $0.cum, flatShare: top.percent($0.flat), cumShare: top.percent($0.cum))
        }
        topCumulative = top.rows.sorted { $0.cum != $1.cum ? $0.cum > $1.cum : $0.flat > $1.flat }.prefix(15).map {
            FunctionShare(name: $0.name, flat: $0.flat, cum: $0.cum, flatShare: top.percent($0.flat), cumShare: top.percent($0.cum))
        }
        language = Self.guessLanguage(top.rows.prefix(50).map(\.name))
        functionNames = Set(tree.names)

        let classifier = Classifier(
            catalogue: catalogue, names: tree.names, weight: Classifier.weights(shape: tree.shape, columns: [tree.total]),
            total: tree.totalValue)
        let attribution = classifier.attribute(shape: tree.shape, selfValues: [tree.selfValue], totals: [tree.total])
        func heaviest(_ values: [Int32: Int64]) -> [String] { Classifier.heaviest(values, names: tree.names) }
        var findings: [Finding] = []
        for (c, category) in catalogue.enumerated() {
            let share = top.percent(attribution.value[0][c])
            guard share >= Self.findingThreshold else { continue }
            findings.append(Finding(
                category: category.id, title: category.title, share: share, functions: heaviest(attribution.entries[0][c]),
                callers: heaviest(attribution.callers[0][c]), cause: category.cause, fix: category.fix, confidence: min(1, share / 50)))
        }
        self.findings = findings.sorted { $0.share > $1.share }

        let first = top.rows.first
        let hottest = first?.name ?? ""
        bottleneck = hottest
        bottleneckShare = first.map { top.percent($0.flat) } ?? 0
        // The heaviest node of the bottleneck, and the path to it.
        let n = tree.nodeCount
        var best = -1
        let hottestID = Int32(tree.names.firstIndex(of: hottest) ?? -2)
        for i in 1 ..< max(n, 1) where tree.nodeName[i] == hottestID {
            if best < 0 || tree.selfValue[i] > tree.selfValue[best] { best = i }
        }
        hotPath = best > 0 ? tree.path(of: best) : []
        userCaller = hotPath.dropLast().reversed().first { classifier.isUserCode($0) }
        let bottleneckIsUser = !hottest.isEmpty && classifier.isUserCode(hottest)
        if let main = self.findings.first, main.share >= max(20, bottleneckShare), let caller = main.callers.first {
            culprit = caller
        } else if bottleneckIsUser {
            culprit = bottleneck
        } else {
            culprit = userCaller
        }

        // The heaviest self nodes and their paths.
        var heavy: [Int] = []
        for i in 1 ..< max(n, 1) where tree.selfValue[i] > 0 {
            if heavy.count == 10, tree.selfValue[i] <= tree.selfValue[heavy[9]] { continue }
            let at = heavy.firstIndex { tree.selfValue[$0] < tree.selfValue[i] } ?? heavy.count
            heavy.insert(i, at: at)
            if heavy.count > 10 { heavy.removeLast() }
        }
        hotPaths = heavy.map { HotPath(frames: tree.path(of: $0), selfValue: tree.selfValue[$0], share: top.percent(tree.selfValue[$0])) }
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

    private static let runtimePrefixes: [[UInt8]] = [
        "runtime.", "runtime/", "internal/", "syscall.", "testing.", "reflect.", "sync.", "java/", "jdk/", "sun/", "javax/",
        "System.", "Microsoft.", "(unknown)", "[", "0x", "<unknown>", "(root)", "(program)", "(idle)", "(garbage collector)",
    ].map { Array($0.utf8) }
    private static let standardPackages: [[UInt8]] = [
        "fmt", "strings", "bytes", "strconv", "sort", "time", "math", "io", "bufio", "os", "net", "encoding", "compress", "crypto", "context",
    ].map { Array($0.utf8) }

    /// `looksLikeRuntime` on the UTF-8 bytes, for ASCII names (where a byte is a character); the same answer.
    static func looksLikeRuntimeFast(_ name: String) -> Bool {
        var name = name
        let answer: Bool? = name.withUTF8 { b -> Bool? in
            guard b.allSatisfy({ $0 < 0x80 }) else { return nil }
            for p in runtimePrefixes where p.count <= b.count && p.indices.allSatisfy({ b[$0] == p[$0] }) { return true }
            guard let dot = b.firstIndex(of: UInt8(ascii: ".")) else { return false }
            if b[..<dot].contains(UInt8(ascii: "/")) { return false }
            if b.starts(with: "main.".utf8) { return false }
            return standardPackages.contains { $0.count == dot && $0.elementsEqual(b[..<dot]) }
        }
        return answer ?? looksLikeRuntime(name)
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
