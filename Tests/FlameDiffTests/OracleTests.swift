import FlameDiff
import ProtoPprof
import TestSupport
import Testing

/// Totals and top flat functions against `go tool pprof`, the independent oracle (reference.tsv).
@Suite struct OracleTests {
    static let rows: [Fixtures.ReferenceRow] = (try? Fixtures.referenceRows().filter { !$0.file.hasPrefix("legacy-") }) ?? []

    @Test func everyReferenceRowIsCovered() {
        #expect(Self.rows.count >= 60)
    }

    @Test(arguments: rows)
    func totalAndTopFlatFunctionMatchPprof(_ row: Fixtures.ReferenceRow) throws {
        let profile = try Profile.decode(Fixtures.bytes(row.file))
        #expect(profile.sampleTypes[row.sampleTypeIndex].description == row.sampleType)
        let top = try TopTable(profile: profile, options: TreeOptions(sampleType: .index(row.sampleTypeIndex)))
        #expect(top.total == row.total)
        if row.topValue == 0 {
            #expect(top.rows.allSatisfy { $0.flat == 0 })
        } else {
            #expect(top.rows.first?.name == row.topFunction)
            #expect(top.rows.first?.flat == row.topValue)
        }
        // The call tree agrees with the table on the total.
        let tree = try CallTree(profile: profile, options: TreeOptions(sampleType: .index(row.sampleTypeIndex)))
        #expect(tree.totalValue == row.total)
    }
}
