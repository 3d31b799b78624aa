import JSONCore
/// Folded stacks (`a;b;c value`), one line per call path with a nonzero self value, as Brendan Gregg's
/// FlameGraph and inferno read them. Paths are written depth first, children sorted by name.
/// The format has no escaping: a line break inside a name is written as a space.
public enum FoldedExport {
    public static func bytes(_ tree: CallTree) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(tree.nodeCount * 32)
        walkPaths(tree.shape) { node, path in
            let value = tree.selfValue[node]
            if value == 0 { return }
            out.append(contentsOf: path)
            out.append(UInt8(ascii: " "))
            JSONWriter.appendInt(value, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Visits every node depth first (children sorted by name) with its `a;b;c` path.
    static func walkPaths(_ shape: TreeShape, _ visit: (Int, [UInt8]) -> Void) {
        var path: [UInt8] = []
        var pathEnds: [Int] = [0]  // path length at each depth
        let encodedNames: [[UInt8]] = shape.names.map { name in
            name.utf8.map { $0 == 0x0A || $0 == 0x0D ? UInt8(ascii: " ") : $0 }
        }
        var stack: [Int32] = Array(shape.children(of: 0).reversed())
        while let node = stack.popLast() {
            let n = Int(node)
            let d = Int(shape.depth[n])
            path.removeSubrange(pathEnds[d - 1]...)
            if d > 1 { path.append(UInt8(ascii: ";")) }
            path.append(contentsOf: encodedNames[Int(shape.nodeName[n])])
            if pathEnds.count <= d { pathEnds.append(0) }
            pathEnds[d] = path.count
            visit(n, path)
            stack.append(contentsOf: shape.children(of: n).reversed())
        }
    }
}
