import Explain
import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

/// Our own interpretation test: small Go programs with one known bottleneck each (scripts/interpret),
/// profiled with Go's CPU profiler; Tests/Fixtures/interpret/expected.tsv says what the analyzer must find.
@Suite struct InterpretTests {
    struct Case: Sendable, CustomStringConvertible {
        var fields: [String]
        var description: String { fields[0] }
    }

    static func rows(_ file: String) -> [Case] {
        let url = Fixtures.root.appendingPathComponent("interpret").appendingPathComponent(file)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().map { Case(fields: $0.split(separator: "\t").map(String.init)) }
    }

    static func profile(_ scenario: String) throws -> Profile {
        try Profile.decode(Array(Data(contentsOf: Fixtures.root.appendingPathComponent("interpret/\(scenario).pb.gz"))))
    }

    static let singles = rows("expected.tsv")
    static let pairs = rows("diffs.tsv")

    @Test func thereAreTenProgramsAndThreePairs() {
        #expect(Self.singles.count >= 10)
        #expect(Set(Self.singles.map { $0.fields[2] }).count >= 10, "distinct categories")
        #expect(Self.pairs.count >= 3)
    }

    @Test(arguments: singles)
    func theAnalyzerFindsTheKnownBottleneck(_ row: Case) throws {
        let (function, category) = (row.fields[1], row.fields[2])
        let analysis = try Analysis(profile: Self.profile(row.fields[0]), catalogue: Category.catalogue())
        #expect(analysis.culprit == function, "\(row): culprit \(analysis.culprit ?? "nil")")
        if category == "none" {
            #expect((analysis.findings.first?.share ?? 0) < 20, "\(row): \(analysis.findings.map(\.category))")
        } else {
            #expect(analysis.findings.first?.category == category, "\(row): \(analysis.findings.map { "\($0.category) \($0.share)" })")
        }
        // The rendered bottleneck section names the function, and the root cause the category's title.
        let text = Explanation(analysis)
        #expect(text.bottleneck.contains("`\(function)`"), "\(row): \(text.bottleneck)")
        if let finding = analysis.findings.first, category != "none" {
            #expect(text.rootCause.contains(finding.title))
        }
    }

    @Test(arguments: pairs)
    func theDiffNamesTheRegression(_ row: Case) throws {
        let (function, category) = (row.fields[2], row.fields[3])
        let diff = try DiffTree(baseline: [Self.profile(row.fields[0])], comparison: [Self.profile(row.fields[1])])
        let explanation = DiffExplanation(diff: diff, catalogue: try Category.catalogue())
        #expect(explanation.culprit == function, "\(row): \(explanation.culprit ?? "nil")")
        #expect(explanation.categoryChanges.first?.category == category)
        #expect(explanation.functions.first == function)
        #expect(explanation.performanceChange.contains("`\(function)`"))
        #expect(explanation.potentialCauses.hasPrefix("`\(function)` now spends"))
    }
}
