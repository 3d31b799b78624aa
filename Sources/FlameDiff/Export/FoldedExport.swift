/// Folded stacks (`a;b;c value`), one line per call path with a nonzero self value, as Brendan Gregg's
/// FlameGraph and inferno read them. Paths are written depth first, children sorted by name.
/// The format has no escaping: a line break inside a name is written as a space.
public enum FoldedExport {
    public static func bytes(_ tree: CallTree) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(tree.nodeCount * 32)
        var path: [UInt8] = []
        var pathEnds: [Int] = [0]  // path length at each depth
        let encodedNames: [[UInt8]] = tree.names.map { name in
            name.utf8.map { $0 == 0x0A || $0 == 0x0D ? UInt8(ascii: " ") : $0 }
        }
        var stack: [Int32] = Array(tree.children(of: 0).reversed())
        while let node = stack.popLast() {
            let n = Int(node)
            let d = Int(tree.depth[n])
            path.removeSubrange(pathEnds[d - 1]...)
            if d > 1 { path.append(UInt8(ascii: ";")) }
            path.append(contentsOf: encodedNames[Int(tree.nodeName[n])])
            if pathEnds.count <= d { pathEnds.append(0) }
            pathEnds[d] = path.count
            if tree.selfValue[n] != 0 {
                out.append(contentsOf: path)
                out.append(UInt8(ascii: " "))
                JSONWriter.appendInt(tree.selfValue[n], to: &out)
                out.append(UInt8(ascii: "\n"))
            }
            stack.append(contentsOf: tree.children(of: n).reversed())
        }
        return out
    }
}
