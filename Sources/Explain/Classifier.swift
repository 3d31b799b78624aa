import FlameDiff

/// The catalogue compiled against one tree's names: each name's category (the first whose pattern
/// matches) and whether it is user code (no category, not runtime or standard library).
struct Classifier {
    let catalogue: [Category]
    let patterns: [[Regex<AnyRegexOutput>]]
    /// Per name id: index into `catalogue` of the first outermost-match category, or -1.
    let nameCategory: [Int32]
    /// Per name id: index of the first leaf-match category, or -1.
    let leafCategory: [Int32]
    let isUser: [Bool]

    init(catalogue: [Category], names: [String]) {
        self.catalogue = catalogue
        let patterns = catalogue.map { c in c.patterns.compactMap { try? Regex($0) } }
        self.patterns = patterns
        func first(_ name: String, leaf: Bool) -> Int32 {
            Int32(catalogue.indices.first { c in
                (catalogue[c].match == .leaf) == leaf && patterns[c].contains { name.contains($0) }
            } ?? -1)
        }
        let nameCategory = names.map { first($0, leaf: false) }
        self.nameCategory = nameCategory
        let leafCategory = names.map { first($0, leaf: true) }
        self.leafCategory = leafCategory
        isUser = names.indices.map { nameCategory[$0] < 0 && leafCategory[$0] < 0 && !Analysis.looksLikeRuntime(names[$0]) }
    }

    func category(of name: String) -> Category? {
        patterns.firstIndex { regexes in regexes.contains { name.contains($0) } }.map { catalogue[$0] }
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
            if category[p] >= 0 {
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
