import Explain
import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

/// The offline explanation on every real profile of the corpus.
@Suite struct ExplainTests {
    /// Real profiles of the languages the issue names (not edge cases, not unsymbolized native code).
    static let files: [String] = ((try? Fixtures.decodableProfiles()) ?? []).filter { f in
        ["go-", "java-", "dotnet-", "python-", "nodejs-", "ruby-"].contains { f.hasPrefix($0) }
    }

    /// Every `name` between backticks in a text.
    static func quoted(_ text: String) -> [String] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    @Test func theCorpusIsCovered() { #expect(Self.files.count >= 25) }

    @Test(arguments: files)
    func bottleneckIsAmongPprofsTopThreeAndEveryNameExists(_ file: String) throws {
        let profile = try Profile.decode(Fixtures.bytes(file))
        let analysis = try Analysis(profile: profile, catalogue: Category.catalogue())
        let explanation = Explanation(analysis)
        let top = try TopTable(profile: profile, options: TreeOptions(sampleType: .name(analysis.sampleType.description)))
        let byFlat = top.rows.prefix(3).map(\.name)
        let byCum = top.rows.sorted { $0.cum > $1.cum }.prefix(3).map(\.name)
        let named = Self.quoted(explanation.bottleneck)
        #expect(named.contains { byFlat.contains($0) || byCum.contains($0) }, "\(file): \(named) vs flat \(byFlat) cum \(byCum)")
        // Nothing made up: every quoted name is a frame of the profile.
        let frames = Set(FrameTable(profile: profile, key: .function).names)
        for name in Self.quoted(explanation.bottleneck + explanation.rootCause + explanation.fix) {
            #expect(frames.contains(name), "\(file): `\(name)` is not in the profile")
        }
        // And every number is one the analysis computed, checked as a model's answer would be.
        let grounding = Grounding(answer: explanation.markdown, functions: Set(frames), numbers: analysis.statedNumbers)
        #expect(grounding.numbersUnverified.isEmpty, "\(file): \(grounding.numbersUnverified)")
        #expect(!grounding.numbersCited.isEmpty, "\(file): the explanation states no number")
    }

    @Test func knownCausesAreRecognised() throws {
        func rootCause(_ file: String) throws -> Analysis {
            try Analysis(profile: Profile.decode(Fixtures.bytes(file)), catalogue: Category.catalogue())
        }
        #expect(try rootCause("java-cpu-jfr-kafka.pb.gz").findings.first?.category == "regex")
        #expect(try rootCause("go-cpu-fib.pb.gz").findings.first?.category == "bignum")
        #expect(try rootCause("python-cpu.pb.gz").findings.first?.category == "locks")
        #expect(try rootCause("go-cpu-large.pb.gz").findings.first?.category == "clock")
        #expect(try rootCause("go-wall-fgprof.pb.gz").findings.contains { $0.category == "idle" })
    }

    @Test func anEmptySampleTypeFallsBackToOneWithValues() throws {
        // dotnet-labels' default (last) type, lock_time, is all zeros.
        let analysis = try Analysis(profile: Profile.decode(Fixtures.bytes("dotnet-labels.pb")), catalogue: Category.catalogue())
        #expect(analysis.sampleType.type == "cpu")
        #expect(analysis.bottleneck == "WebApplication1.Controllers!CpuController.fib")
    }

    @Test func theCatalogueIsWellFormed() throws {
        let catalogue = try Category.catalogue()
        #expect(catalogue.count >= 12)
        for c in catalogue {
            #expect(!c.patterns.isEmpty && !c.cause.isEmpty && !c.fix.isEmpty, "\(c.id)")
            for p in c.patterns { #expect((try? Regex(p)) != nil, "\(c.id): \(p)") }
        }
    }
}

@Suite struct DiffExplanationTests {
    @Test func theTripledFunctionLeadsAndEveryNameExists() throws {
        let p = try Profile.decode(Fixtures.bytes("go-cpu-pyroscope.pb.gz"))
        let target = "compress/flate.(*compressor).deflate"
        var q = p
        let n = p.sampleTypes.count
        for s in 0 ..< p.sampleCount {
            let leaf = p.locations[Int(p.locations(ofSample: s).first!)]
            if leaf.lineCount > 0, p.strings[Int(p.functions[Int(p.lines[Int(leaf.firstLine)].function)].name)] == target {
                for t in 0 ..< n { q.sampleValues[s * n + t] *= 3 }
            }
        }
        let text = DiffExplanation(diff: try DiffTree(baseline: [p], comparison: [q]), catalogue: try Category.catalogue())
        // The compression category grew; the tripled function is named, after the caller that drives it.
        #expect(text.categoryChanges.first?.category == "compression")
        #expect(text.functions.contains(target))
        #expect(text.culprit != nil && text.functions.first == text.culprit)
        #expect(text.performanceChange.contains("`\(target)`"))
        #expect(text.potentialCauses.contains("compression"))
        let names = Set(FrameTable(profile: q, key: .function).names)
        for name in ExplainTests.quoted(text.markdown) { #expect(names.contains(name), "`\(name)`") }
        #expect(text.functionImpact.split(separator: "\n").count <= 3)
    }

    @Test func aProfileAgainstItselfHasNothingToExplain() throws {
        let p = try Profile.decode(Fixtures.bytes("go-cpu-fib.pb.gz"))
        let text = DiffExplanation(diff: try DiffTree(baseline: [p], comparison: [p]), catalogue: try Category.catalogue())
        #expect(text.performanceChange.contains("No function grew its share"))
        #expect(text.functions.isEmpty)
    }
}
