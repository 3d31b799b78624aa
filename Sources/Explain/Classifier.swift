import FlameDiff
import Foundation

/// The catalogue compiled against one tree's names: each name's category (the first whose pattern
/// matches) and whether it is user code (no category, not runtime or standard library).
struct Classifier {
    let catalogue: [Category]
    /// One ICU expression per category: its patterns as alternatives (NSRegularExpression, several times
    /// faster than Swift's Regex over tens of thousands of names).
    let patterns: [NSRegularExpression?]
    /// Per name id: index into `catalogue` of the first outermost-match category, or -1.
    let nameCategory: [Int32]
    /// Per name id: index of the first leaf-match category, or -1.
    let leafCategory: [Int32]
    let isUser: [Bool]

    /// Names whose heaviest node holds less than this part of the total are not matched (taken as
    /// uncategorised user code): they cannot move a finding, and matching 50k names costs seconds.
    static let relevantPart: Int64 = 10_000

    /// `weight`: per name id, the largest total of any of its nodes; with `total`, it selects the names worth
    /// matching. nil matches every name.
    /// `usePrefilter: false` runs every expression on every name: the reference the prefilter is tested against.
    init(catalogue: [Category], names: [String], weight: [Int64]? = nil, total: Int64 = 0, usePrefilter: Bool = true) {
        self.catalogue = catalogue
        let patterns = catalogue.map { c in
            try? NSRegularExpression(pattern: c.patterns.map { "(?:\($0))" }.joined(separator: "|"))
        }
        self.patterns = patterns
        func relevant(_ i: Int) -> Bool { weight.map { $0[i] > 0 && $0[i] >= total / Self.relevantPart } ?? true }
        let prefilter = usePrefilter ? LiteralPrefilter(catalogue: catalogue) : nil
        var nameCategory = [Int32](repeating: -1, count: names.count)
        var leafCategory = [Int32](repeating: -1, count: names.count)
        var lowered: [UInt8] = []
        var candidates = [Bool](repeating: true, count: catalogue.count)
        for i in names.indices where relevant(i) {
            var name = names[i]
            // Which categories may match: all without the prefilter, else those whose literals occur.
            if let prefilter {
                name.withUTF8 { prefilter.candidates($0, lowered: &lowered, into: &candidates) }
            }
            for c in catalogue.indices where candidates[c] {
                let leaf = catalogue[c].match == .leaf
                if leaf ? leafCategory[i] >= 0 : nameCategory[i] >= 0 { continue }
                if Self.matches(patterns[c], name) {
                    if leaf { leafCategory[i] = Int32(c) } else { nameCategory[i] = Int32(c) }
                }
            }
        }
        self.nameCategory = nameCategory
        self.leafCategory = leafCategory
        isUser = names.indices.map { nameCategory[$0] < 0 && leafCategory[$0] < 0 && !Analysis.looksLikeRuntimeFast(names[$0]) }
    }

    func category(of name: String) -> Category? {
        patterns.firstIndex { Self.matches($0, name) }.map { catalogue[$0] }
    }

    static func matches(_ regex: NSRegularExpression?, _ name: String) -> Bool {
        guard let regex else { return false }
        return regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }

    /// Per name id, the largest value in `columns` at any node of that name.
    static func weights(shape: TreeShape, columns: [[Int64]]) -> [Int64] {
        var w = [Int64](repeating: 0, count: shape.names.count)
        for column in columns {
            for i in 1 ..< max(shape.nodeCount, 1) where column[i] > w[Int(shape.nodeName[i])] { w[Int(shape.nodeName[i])] = column[i] }
        }
        return w
    }

    func isUserCode(_ name: String) -> Bool { category(of: name) == nil && !Analysis.looksLikeRuntime(name) }

    /// Per category, for each value column: the self value of samples whose outermost matching frame is of
    /// that category, the value entering it per entry frame, and per nearest user-code caller of the entry.
    struct Attribution {
        var value: [[Int64]]
        var entries: [[[Int32: Int64]]]
        var callers: [[[Int32: Int64]]]
    }

    /// One pass over a tree whose parents precede their children; `selfValues`/`totals` hold one array per column.
    func attribute(shape: TreeShape, selfValues: [[Int64]], totals: [[Int64]]) -> Attribution {
        let columns = selfValues.count
        let n = shape.nodeCount
        let k = catalogue.count
        var result = Attribution(
            value: Array(repeating: Array(repeating: 0, count: k), count: columns),
            entries: Array(repeating: Array(repeating: [:], count: k), count: columns),
            callers: Array(repeating: Array(repeating: [:], count: k), count: columns))
        var category = [Int32](repeating: -1, count: n)
        var userAncestor = [Int32](repeating: -1, count: n)
        for i in 1 ..< max(n, 1) {
            let p = Int(shape.parent[i])
            let name = shape.nodeName[i]
            userAncestor[i] = isUser[Int(name)] ? Int32(i) : userAncestor[p]
            // A category holds its subtree down to the first user-code frame: a library that calls back into
            // the application (a logging scope, a middleware, a sort's comparator) is not charged for it.
            if category[p] >= 0 && !isUser[Int(name)] {
                category[i] = category[p]
            } else if nameCategory[Int(name)] >= 0 {
                let c = Int(nameCategory[Int(name)])
                category[i] = Int32(c)
                for col in 0 ..< columns where totals[col][i] != 0 {
                    result.entries[col][c][name, default: 0] += totals[col][i]
                    if userAncestor[p] >= 0 {
                        result.callers[col][c][shape.nodeName[Int(userAncestor[p])], default: 0] += totals[col][i]
                    }
                }
            }
            // A leaf category claims the node's own value (its self value is where stacks end on it).
            let leaf = Int(leafCategory[Int(name)])
            if leaf >= 0 {
                for col in 0 ..< columns where selfValues[col][i] != 0 {
                    result.value[col][leaf] += selfValues[col][i]
                    result.entries[col][leaf][name, default: 0] += selfValues[col][i]
                    if userAncestor[p] >= 0 {
                        result.callers[col][leaf][shape.nodeName[Int(userAncestor[p])], default: 0] += selfValues[col][i]
                    }
                }
            } else if category[i] >= 0 {
                for col in 0 ..< columns { result.value[col][Int(category[i])] += selfValues[col][i] }
            }
        }
        return result
    }

    /// The names of the heaviest keys, at most `limit`; ties by name id.
    static func heaviest(_ values: [Int32: Int64], names: [String], limit: Int = 3) -> [String] {
        values.filter { $0.value > 0 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(limit).map { names[Int($0.key)] }
    }
}
