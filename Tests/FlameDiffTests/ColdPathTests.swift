import ProtoPprof
import TestSupport
import Testing

@testable import FlameDiff

/// The cold path's shortcuts (name ranking by 8-byte chunks, best-first truncation, function names interned
/// by string index) against the straightforward definitions.
@Suite struct ColdPathTests {
    /// Bytewise order, ties by index: the definition `rankNames` implements.
    static func referenceRanks(_ names: [String]) -> [Int32] {
        let order = names.indices.sorted { a, b in
            let (x, y) = (Array(names[a].utf8), Array(names[b].utf8))
            return x != y ? x.lexicographicallyPrecedes(y) : a < b
        }
        var rank = [Int32](repeating: 0, count: names.count)
        for (position, id) in order.enumerated() { rank[id] = Int32(position) }
        return rank
    }

    @Test func rankNamesIsBytewiseOrder() {
        var names = [
            "", "a", "a\0", "a\0\0", "\0", "ab", "abcdefgh", "abcdefg", "abcdefghi", "abcdefgh\0", "b", "é", "e\u{301}",
            "K", "\u{212A}", "github.com/x/y.f", "github.com/x/y.F", "github.com/x/y.f.func1", "a",
        ]
        // Long shared prefixes, every length around the 8-byte chunks.
        for length in 0...40 {
            names.append("github.com/org/repo/pkg/" + String(repeating: "z", count: length))
            names.append("github.com/org/repo/pkg/" + String(repeating: "z", count: length) + "\u{7f}")
        }
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let length = Int(rng.next() % 30)
            names.append(
                String(decoding: (0..<length).map { _ in UInt8([0, 0x41, 0x42, 0x7f, 0xc3][Int(rng.next() % 5)]) }, as: UTF8.self))
        }
        #expect(TreeShape.rankNames(names) == Self.referenceRanks(names))
        #expect(TreeShape.rankNames([]) == [])
        #expect(TreeShape.rankNames(["x"]) == [0])
    }

    @Test func bestFirstTruncationEqualsTheWalk() {
        var rng = SplitMix64(seed: 11)
        for trial in 0..<30 {
            var stacks: [([String], Int64)] = []
            for _ in 0..<300 {
                let depth = 1 + Int(rng.next() % 8)
                // Few names, so values tie often and the depth and pre-order tie-breaks matter.
                stacks.append(((0..<depth).map { _ in "f\(rng.next() % 4)" }, Int64(rng.next() % (trial % 2 == 0 ? 3 : 1000))))
            }
            let tree = CallTree(stacks: stacks)
            for budget in [1, 2, 3, 10, 64, 500, 5000] {
                let fast = bestNodes(tree.shape, score: tree.total, count: budget, bestFirst: true).map(\.node)
                let walk = bestNodes(tree.shape, score: tree.total, count: budget, bestFirst: false).map(\.node)
                #expect(fast == walk, "trial \(trial), budget \(budget)")
            }
        }
    }

    @Test func negativeValuesTakeTheWalk() {
        let tree = CallTree(stacks: [(["a", "b"], 10), (["a"], -8), (["c"], 3)])
        #expect(!scoresDescend(tree.shape, tree.total))
        let positive = CallTree(stacks: [(["a", "b"], 10), (["a"], 8), (["c"], 3)])
        #expect(scoresDescend(positive.shape, positive.total))
    }

    /// Names built by the frame table (`<unknown>`, `[binary]`, addresses) that equal a function's name share
    /// its id, whichever comes first; every name appears once.
    @Test func builtNamesEqualToFunctionNamesShareTheirIDs() throws {
        var b = PprofBuilder()
        b.strings = ["", "cpu", "nanoseconds", "main", "<unknown>", "[a.out]", "/bin/a.out", "0x10 [a.out]", "main.go"]
        b.functions = [(1, 3, 8), (2, 4, 8), (3, 5, 8), (4, 7, 8), (5, 0, 8)]
        b.mappings = [(1, 6)]
        b.locations = [
            PprofBuilder.Location(id: 1, lines: [(1, 1)]),
            PprofBuilder.Location(id: 2, mappingID: 1, address: 0x10, lines: []),
            PprofBuilder.Location(id: 3, lines: [(2, 1)]),
            PprofBuilder.Location(id: 4, lines: [(3, 1)]),
            PprofBuilder.Location(id: 5, lines: [(4, 1)]),
            PprofBuilder.Location(id: 6, lines: [(5, 1)]),
            PprofBuilder.Location(id: 7, address: 0x20, lines: []),
        ]
        b.samples = [PprofBuilder.Sample(locationIDs: [7, 6, 5, 4, 3, 2, 1], values: [1])]
        let profile = try Profile.decode(b.encode())
        for key in FrameKey.allCases {
            let frames = FrameTable(profile: profile, key: key)
            #expect(Set(frames.names).count == frames.names.count, "key \(key): \(frames.names)")
            let named = frames.frames.map { frames.names[Int($0)] }
            let functions = frames.functionOfFrame.map { frames.names[Int($0)] }
            if key == .function {
                #expect(named == ["main", "0x10 [a.out]", "<unknown>", "[a.out]", "0x10 [a.out]", "<unknown>", "0x20"])
                #expect(functions == ["main", "[a.out]", "<unknown>", "[a.out]", "0x10 [a.out]", "<unknown>", "<unknown>"])
            }
        }
    }
}
