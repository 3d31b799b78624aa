/// One call path's subtree as a tree of its own: what "Explain this node" analyses.
extension CallTree {
    /// The node reached from the root by `path` (the root's child first, as `path(of:)` gives it); nil when the
    /// tree has no such call path. An empty path is the root.
    public func node(at path: [String]) -> Int? {
        var node = 0
        for name in path {
            guard let next = children(of: node).first(where: { names[Int(nodeName[Int($0)])] == name }) else { return nil }
            node = Int(next)
        }
        return node
    }

    /// The calls under `node`, with `node`'s function as the only child of the new root: totals are the
    /// node's, callers above it are gone. The root (node 0) gives the same tree again.
    public func subtree(at node: Int) -> CallTree {
        guard node > 0 else { return self }
        let top = names[Int(nodeName[node])]
        var stacks: [([String], Int64)] = []
        for n in node ..< nodeCount where selfValue[n] != 0 {
            var parts: [String] = []
            var m = n
            while m > node {
                parts.append(names[Int(nodeName[m])])
                m = Int(parent[m])
            }
            guard m == node else { continue }
            parts.append(top)
            stacks.append((parts.reversed(), selfValue[n]))
        }
        return CallTree(stacks: stacks, sampleType: sampleType)
    }
}
