/// Simple case folding as RE2 and Go use it for `(?i)`: a scalar matches every member of its orbit
/// (`k`, `K` and U+212A KELVIN SIGN form one orbit). The orbits come from Go's `unicode.SimpleFold`
/// (CaseFoldTable.swift, generated), so `(?i)` means exactly what it means to pprof.
enum CaseFolding {
    /// Every scalar that has an orbit of two or more, ascending, and the index of its orbit.
    private static let table: (keys: [UInt32], orbitOf: [Int32], orbits: [[UInt32]]) = {
        var orbits: [[UInt32]] = []
        var pairs: [(UInt32, Int32)] = []
        for group in caseFoldOrbitsData.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let members = group.split(separator: ",").map { UInt32($0, radix: 16)! }
            for m in members { pairs.append((m, Int32(orbits.count))) }
            orbits.append(members)
        }
        pairs.sort { $0.0 < $1.0 }
        return (pairs.map(\.0), pairs.map(\.1), orbits)
    }()

    /// The scalars `c` is equivalent to under simple case folding, `c` included; `nil` when only `c`.
    static func orbit(_ c: UInt32) -> [UInt32]? {
        guard let i = index(of: c) else { return nil }
        return table.orbits[Int(table.orbitOf[i])]
    }

    /// Adds `lo...hi` and everything that folds to a scalar in it (Go's `appendFoldedRange`).
    static func appendFolded(_ lo: UInt32, _ hi: UInt32, to set: inout [ClosedRange<UInt32>]) {
        set.append(lo...hi)
        let keys = table.keys
        var i = lowerBound(lo)
        while i < keys.count && keys[i] <= hi {
            for m in table.orbits[Int(table.orbitOf[i])] where m < lo || m > hi { set.append(m...m) }
            i += 1
        }
    }

    private static func index(of c: UInt32) -> Int? {
        let i = lowerBound(c)
        return i < table.keys.count && table.keys[i] == c ? i : nil
    }

    private static func lowerBound(_ c: UInt32) -> Int {
        let keys = table.keys
        var lo = 0
        var hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < c { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
