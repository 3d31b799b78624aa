import Explain
import FlameDiff
import Foundation
import ProfileFormats
import ProtoPprof
import TestSupport
import Testing

/// Profiles recorded by py-spy (folded and speedscope) and `node --cpu-prof`, of programs with one known bottleneck
/// each (scripts/formats/bottlenecks.py and .js): the explanation names the function that holds it.
@Suite struct FormatsExplainTests {
    static let cases: [(file: String, function: String)] = [
        ("pyspy-regex.folded", "bottlenecks.match_with_fresh_regex"),
        ("pyspy-regex.speedscope.json", "bottlenecks.match_with_fresh_regex"),
        ("pyspy-json.folded", "bottlenecks.encode_events_as_json"),
        ("pyspy-json.speedscope.json", "bottlenecks.encode_events_as_json"),
        ("pyspy-quadratic.folded", "bottlenecks.dedupe_quadratic"),
        ("pyspy-quadratic.speedscope.json", "bottlenecks.dedupe_quadratic"),
        ("node-regex.cpuprofile", "matchWithFreshRegExp"),
        ("node-json.cpuprofile", "encodeEventsAsJSON"),
        ("node-quadratic.cpuprofile", "dedupeQuadratic"),
    ]

    @Test(arguments: cases)
    func theKnownBottleneckIsNamed(_ c: (file: String, function: String)) throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.root.appendingPathComponent("formats/" + c.file)))
        let profile = try ProfileReader.decode(bytes)
        let analysis = try Analysis(profile: profile, catalogue: Category.catalogue())
        let explanation = Explanation(analysis)
        #expect(explanation.markdown.contains("`\(c.function)`"), "\(c.file): \(explanation.bottleneck)")
        // And no name is made up.
        let names = Set(FrameTable(profile: profile, key: .function).names)
        for name in ExplainTests.quoted(explanation.markdown) { #expect(names.contains(name), "\(c.file): `\(name)`") }
    }
}
