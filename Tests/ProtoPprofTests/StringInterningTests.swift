import ProtoPprof
import TestSupport
import Testing

/// The string table's interning (a flat byte-keyed table for ASCII, the dictionary otherwise) against its
/// definition: one index per distinct Swift string, in order of first appearance.
@Suite struct StringInterningTests {
    static func decode(_ strings: [String]) throws -> Profile {
        var b = PprofBuilder()
        b.strings += strings
        return try Profile.decode(b.encode())
    }

    static func expected(_ table: [String]) -> [String] {
        var seen: Set<String> = []
        return table.filter { seen.insert($0).inserted }
    }

    @Test func asciiDuplicatesInternToTheFirst() throws {
        var extra: [String] = []
        for i in 0..<3000 {
            // Long shared prefixes, names differing in their last byte only, and repeats.
            extra.append("github.com/org/repo/internal/pkg.(*Type).Method\(i % 1000)")
            extra.append(String(repeating: "x", count: i % 23))
        }
        extra += ["main", "work", "", "main.go"]
        let table = PprofBuilder().strings + extra
        let p = try Self.decode(extra)
        #expect(p.strings == Self.expected(table))
        #expect(p.strings[Int(p.functions[0].name)] == "main")
        #expect(p.strings[Int(p.functions[1].name)] == "work")
    }

    /// Beyond ASCII, Swift strings compare by canonical equivalence ("\u{212A}" == "K", "é" == "e\u{301}"):
    /// such a table keeps the dictionary's answer.
    @Test func nonASCIIKeepsSwiftEquality() throws {
        let extra = ["K", "\u{212A}", "é", "e\u{301}", "main", "ü"]
        let p = try Self.decode(extra)
        #expect(p.strings == Self.expected(PprofBuilder().strings + extra))
    }

    @Test func embeddedZeroBytesAreDistinct() throws {
        let extra = ["a", "a\0", "a\0\0", "\0", "a"]
        let p = try Self.decode(extra)
        #expect(p.strings == Self.expected(PprofBuilder().strings + extra))
    }
}
