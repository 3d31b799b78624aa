import FlameDiff
import Foundation
import ProfileFormats
import ProtoPprof
import TestSupport
import Testing

/// Crafted hostile inputs per reader: each gives a typed error naming what is wrong, never a crash.
@Suite struct HostileInputTests {
    private func expectMalformed(
        _ text: String, _ format: ProfileFormat, at location: String, containing words: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .malformed(let f, let l, let reason)? = decodeError(text, format: format) else {
            Issue.record(
                "expected malformed \(format) at \(location), got \(String(describing: decodeError(text, format: format)))",
                sourceLocation: sourceLocation)
            return
        }
        #expect(f == format, sourceLocation: sourceLocation)
        #expect(l == location, sourceLocation: sourceLocation)
        #expect(reason.contains(words), "\(reason)", sourceLocation: sourceLocation)
    }

    // MARK: folded

    @Test func foldedOverflowAndBadCounts() {
        #expect(decodeError("a 9223372036854775807\nb 1\n") == .overflow(format: .folded, sampleType: "samples/count", location: "line 2"))
        #expect(
            decodeError("a 99999999999999999999\n", format: .folded)
                == .overflow(format: .folded, sampleType: "samples/count", location: "line 1"))
        expectMalformed("a;b 1\na;b 1.5\n", .folded, at: "line 2", containing: "1.5")
        expectMalformed("a;b -1\n", .folded, at: "line 1", containing: "-1")
        expectMalformed("a;b\n", .folded, at: "line 1", containing: "count")
    }

    @Test func foldedLimits() {
        let long = String(repeating: "x", count: 2000) + " 1\n"
        #expect(
            decodeError(long, format: .folded, formatLimits: FormatLimits(maxLineBytes: 1000))
                == .limitExceeded(format: .folded, what: "line 1 is longer than 1000 bytes", limit: 1000))
        let deep = (0..<300).map { "f\($0)" }.joined(separator: ";") + " 1\n"
        guard
            case .limitExceeded(.folded, let what, 256)? = decodeError(
                deep, format: .folded, formatLimits: FormatLimits(maxStackDepth: 256))
        else {
            Issue.record("expected the stack depth limit")
            return
        }
        #expect(what.contains("line 1"))
        guard
            case .limitExceeded(.folded, _, 2)? = decodeError("a 1\nb 1\nc 1\n", format: .folded, formatLimits: FormatLimits(maxSamples: 2))
        else {
            Issue.record("expected the sample limit")
            return
        }
    }

    @Test func foldedDeepStackIsIterative() throws {
        // 100,000 frames deep: no recursion anywhere on the way to a tree.
        let deep = (0..<100_000).map { "f\($0 % 7)" }.joined(separator: ";") + " 3\n"
        let p = try ProfileReader.decode(Array(deep.utf8), format: .folded, formatLimits: FormatLimits(maxStackDepth: 200_000))
        #expect(p.locations(ofSample: 0).count == 100_000)
        #expect(p.locations.count == 7)
    }

    @Test func invalidUTF8NamesAreKept() throws {
        let bytes: [UInt8] = Array("main;".utf8) + [0xFF, 0xFE] + Array(" 5\n".utf8)
        let p = try ProfileReader.decode(bytes, format: .folded)
        #expect(p.total(ofType: 0) == 5)
    }

    // MARK: cpuprofile

    private func cpuprofile(nodes: String, samples: String = "[]", deltas: String = "[]") -> String {
        "{\"nodes\": [\(nodes)], \"startTime\": 0, \"endTime\": 10, \"samples\": \(samples), \"timeDeltas\": \(deltas)}"
    }

    private let root = "{\"id\": 1, \"callFrame\": {\"functionName\": \"(root)\"}, \"children\": [2]}"

    @Test func cpuprofileGraphErrors() {
        expectMalformed(
            cpuprofile(
                nodes: root
                    + ", {\"id\": 2, \"callFrame\": {\"functionName\": \"a\"}, \"children\": [3]}, {\"id\": 3, \"callFrame\": {\"functionName\": \"b\"}, \"children\": [2]}"
            ),
            .cpuprofile, at: "nodes[2].children[0]", containing: "two parents")
        expectMalformed(
            cpuprofile(nodes: root + ", {\"id\": 2, \"callFrame\": {\"functionName\": \"a\"}, \"children\": [1]}"),
            .cpuprofile, at: "nodes[1].children[0]", containing: "cycle")
        expectMalformed(
            cpuprofile(
                nodes:
                    "{\"id\": 1, \"callFrame\": {\"functionName\": \"(root)\"}}, {\"id\": 2, \"callFrame\": {\"functionName\": \"a\"}, \"children\": [3]}, {\"id\": 3, \"callFrame\": {\"functionName\": \"b\"}, \"children\": [2]}"
            ),
            .cpuprofile, at: "nodes[1]", containing: "not reachable from the root")
        expectMalformed(
            cpuprofile(
                nodes: "{\"id\": 1, \"callFrame\": {\"functionName\": \"(root)\"}}, {\"id\": 2, \"callFrame\": {\"functionName\": \"a\"}}"),
            .cpuprofile, at: "nodes[1]", containing: "not reachable")
        expectMalformed(
            cpuprofile(nodes: root + ", {\"id\": 1, \"callFrame\": {\"functionName\": \"a\"}}"), .cpuprofile, at: "nodes[1].id",
            containing: "duplicate node id 1")
        expectMalformed(cpuprofile(nodes: root), .cpuprofile, at: "nodes[0].children[0]", containing: "node id 2 does not exist")
        expectMalformed(
            cpuprofile(nodes: root + ", {\"id\": 2, \"callFrame\": {\"functionName\": \"a\"}}", samples: "[2, 9]", deltas: "[1, 1]"),
            .cpuprofile, at: "samples[1]", containing: "node id 9 does not exist")
        expectMalformed(
            cpuprofile(nodes: root + ", {\"id\": 2, \"callFrame\": {\"functionName\": \"a\"}}", samples: "[2, 2]", deltas: "[1]"),
            .cpuprofile, at: "timeDeltas", containing: "has 1 entries but samples has 2")
        expectMalformed(
            cpuprofile(nodes: root + ", {\"id\": 2, \"parent\": 5, \"callFrame\": {\"functionName\": \"a\"}}"),
            .cpuprofile, at: "nodes[1].parent", containing: "does not exist")
        expectMalformed("{\"nodes\": []}", .cpuprofile, at: "nodes", containing: "empty")
        expectMalformed("{\"nodes\": [1, 2]}", .cpuprofile, at: "nodes", containing: "array of objects")
        expectMalformed("{\"nodes\": [{\"id\": 1}, 2]}", .cpuprofile, at: "nodes[1]", containing: "expected an object")
        expectMalformed("{\"nodes\": [{\"id\": 1.5}]}", .cpuprofile, at: "nodes[0].id", containing: "integer")
    }

    @Test func cpuprofileDeepChainIsIterative() throws {
        var nodes = [root.replacingOccurrences(of: "[2]", with: "[2]")]
        let depth = 50_000
        for i in 2...depth {
            nodes.append("{\"id\": \(i), \"callFrame\": {\"functionName\": \"f\(i % 5)\"}\(i < depth ? ", \"children\": [\(i + 1)]" : "")}")
        }
        let text = cpuprofile(nodes: nodes.joined(separator: ","), samples: "[\(depth)]", deltas: "[1]")
        let p = try ProfileReader.decode(Array(text.utf8), formatLimits: FormatLimits(maxStackDepth: 100_000))
        #expect(p.locations(ofSample: 0).count == depth - 1)
        #expect(p.total(ofType: 1) == 9_000)
    }

    @Test func jsonErrors() {
        #expect(
            decodeError(String(repeating: "[", count: 10_000), format: .cpuprofile)
                == .limitExceeded(format: .cpuprofile, what: "JSON nested deeper than 256 levels", limit: 256))
        expectMalformed("{\"nodes\": [", .cpuprofile, at: "byte 11", containing: "end of input")
        expectMalformed("{\"nodes\": \"\\x\"}", .cpuprofile, at: "byte 11", containing: "escape")
        expectMalformed("{\"nodes\": 1e999}", .cpuprofile, at: "byte 10", containing: "out of range")
        expectMalformed("{\"nodes\": []} trailing", .cpuprofile, at: "byte 14", containing: "after the JSON value")
        expectMalformed("{\"a\": \"\u{1}\"}", .speedscope, at: "byte 7", containing: "control character")
    }

    // MARK: speedscope

    private func speedscope(_ profiles: String, frames: String = "[{\"name\": \"a\"}, {\"name\": \"b\"}]") -> String {
        "{\"shared\": {\"frames\": \(frames)}, \"profiles\": [\(profiles)]}"
    }

    @Test func speedscopeErrors() {
        let sampled = "\"type\": \"sampled\", \"name\": \"t\", \"unit\": \"none\", \"startValue\": 0, \"endValue\": 1"
        expectMalformed(
            speedscope("{\(sampled), \"samples\": [[0, 7]], \"weights\": [1]}"), .speedscope, at: "profiles[0].samples[0][1]",
            containing: "frame 7 does not exist")
        expectMalformed(
            speedscope("{\(sampled), \"samples\": [[0], [1]], \"weights\": [1]}"), .speedscope, at: "profiles[0].weights",
            containing: "has 1 entries but samples has 2")
        expectMalformed(
            speedscope("{\(sampled), \"samples\": [[0]], \"weights\": [-1]}"), .speedscope, at: "profiles[0].weights[0]",
            containing: "non-negative")
        expectMalformed(
            speedscope(
                "{\(sampled), \"samples\": [[0]], \"weights\": [1]}, {\"type\": \"sampled\", \"unit\": \"bytes\", \"samples\": [], \"weights\": []}"
            ),
            .speedscope, at: "profiles[1].unit", containing: "mixes units")
        expectMalformed(
            speedscope("{\"type\": \"sampled\", \"unit\": \"parsecs\", \"samples\": [], \"weights\": []}"), .speedscope,
            at: "profiles[0].unit", containing: "unknown unit")
        let evented = "\"type\": \"evented\", \"name\": \"t\", \"unit\": \"none\", \"startValue\": 0, \"endValue\": 9"
        expectMalformed(
            speedscope(
                "{\(evented), \"events\": [{\"type\": \"O\", \"frame\": 0, \"at\": 0}, {\"type\": \"C\", \"frame\": 1, \"at\": 1}]}"),
            .speedscope, at: "profiles[0].events[1]", containing: "frame 0 is on top")
        expectMalformed(
            speedscope(
                "{\(evented), \"events\": [{\"type\": \"O\", \"frame\": 0, \"at\": 5}, {\"type\": \"C\", \"frame\": 0, \"at\": 1}]}"),
            .speedscope, at: "profiles[0].events[1].at", containing: "back in time")
        expectMalformed(
            speedscope("{\(evented), \"events\": [{\"type\": \"C\", \"frame\": 0, \"at\": 1}]}"), .speedscope, at: "profiles[0].events[0]",
            containing: "no frame is open")
        expectMalformed(
            speedscope("{\"type\": \"sampled\", \"unit\": \"none\", \"samples\": [[0]], \"weights\": [1]}", frames: "[{\"nom\": 1}]"),
            .speedscope, at: "shared.frames[0]", containing: "name")
        #expect(
            decodeError(speedscope("{\(sampled), \"samples\": [[0], [1]], \"weights\": [9.2e18, 9.2e18]}"))
                == .overflow(format: .speedscope, sampleType: "weight/count", location: "profiles[0].samples[1]"))
    }

    // MARK: perf script

    @Test func perfErrors() {
        expectMalformed(
            "perf 1 1.000001: 1 cycles:\n\t10 a (b)\nthis is not a header\n", .perfScript, at: "line 3", containing: "sample header")
        let overflow = "p 1 1.000001: 9223372036854775807 cycles:\n\t10 a (b)\n\np 1 1.000002: 1 cycles:\n\t10 a (b)\n"
        #expect(decodeError(overflow) == .overflow(format: .perfScript, sampleType: "cycles/count", location: "line 4"))
        #expect(
            decodeError(
                String(repeating: "x", count: 100) + " 1 1.000001: 1 cycles:\n", format: .perfScript,
                formatLimits: FormatLimits(maxLineBytes: 64))
                == .limitExceeded(format: .perfScript, what: "line 1 is longer than 64 bytes", limit: 64))
    }

    // MARK: legacy

    private func cpuWords(_ words: [UInt64]) -> [UInt8] {
        words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } }
    }

    @Test func legacyCPUErrors() {
        // Truncated inside a record.
        expectMalformedBytes(cpuWords([0, 3, 0, 10000, 0, 1, 2, 0x400000]), at: "record 0 (byte 40)", containing: "past the end")
        expectMalformedBytes(cpuWords([0, 3, 0, 10000, 0, 1]) + [1, 2, 3], at: "record 0 (byte 40)", containing: "truncated")
        // count × period overflows.
        #expect(
            decodeError(cpuWords([0, 3, 0, 10000, 0, UInt64(Int64.max), 1, 0x400000, 0, 1, 0]))
                == .overflow(format: .legacyPprof, sampleType: "cpu/nanoseconds", location: "record 0 (byte 40)"))
        // Java legacy CPU profiles are recognized but not read.
        expectMalformedBytes(cpuWords([0, 3, 1, 10000, 0, 0, 1, 0]), at: "header", containing: "Java")
        // A good one with no map still reads.
        let p = try? ProfileReader.decode(cpuWords([0, 3, 0, 10000, 0, 2, 2, 0x401000, 0x402001, 0, 1, 0]))
        #expect(p?.total(ofType: 1) == 20_000_000)
    }

    private func expectMalformedBytes(
        _ bytes: [UInt8], at location: String, containing words: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .malformed(.legacyPprof, let l, let reason)? = decodeError(bytes) else {
            Issue.record("expected malformed legacy-pprof, got \(String(describing: decodeError(bytes)))", sourceLocation: sourceLocation)
            return
        }
        #expect(l == location, sourceLocation: sourceLocation)
        #expect(reason.contains(words), "\(reason)", sourceLocation: sourceLocation)
    }

    @Test func legacyTextErrors() {
        expectMalformed(
            "heap profile: 1: 1 [1: 1] @ heap/2\n1: 1 [1: 1] @ 0x10\nnonsense\n", .legacyPprof, at: "line 3", containing: "objects: bytes")
        expectMalformed(
            "heap profile: 1: 1 [1: 1] @ heap/2\n0: 5 [1: 1] @ 0x10\n", .legacyPprof, at: "line 2",
            containing: "inuse count is 0 but inuse bytes is 5")
        expectMalformed(
            "heap profile: 1: 1 [1: 1] @ heap/2\n1: 1 [1: 1] @ 0x1234567890abcdef12\n", .legacyPprof, at: "line 2", containing: "64 bits")
        expectMalformed("threadcreate profile: total 1\n1 x 0x10\n", .legacyPprof, at: "line 2", containing: "'@'")
        #expect(
            decodeError("threadcreate profile: total 1\n99999999999999999999 @ 0x10\n")
                == .overflow(format: .legacyPprof, sampleType: "threadcreate/count", location: "line 2"))
        #expect(
            decodeError("goroutine profile: total 2\n9223372036854775807 @ 0x10\n1 @ 0x10\n")
                == .overflow(format: .legacyPprof, sampleType: "goroutine/count", location: "line 3"))
        // Σ|value| must fit, as FlameDiff requires, even when the signed sum would (negative in-use values).
        let negative =
            "heap profile: 1: 1 [1: 1] @ heapprofile\n-9223372036854775807: -9223372036854775807 [0: 0] @ 0x1\n1: 1 [0: 0] @ 0x1\n"
        #expect(decodeError(negative) == .overflow(format: .legacyPprof, sampleType: "objects/count", location: "line 3"))
    }

    // MARK: Mutation fuzzing, one test per reader

    /// Seeds per format: small real inputs. Mutations: byte flips, inserted structural characters, deleted and
    /// duplicated ranges, truncation. Every outcome must be a profile that is well formed or a typed error.
    static let seeds: [(ProfileFormat, String)] = [
        (.folded, "pyspy-quadratic.folded"), (.speedscope, "pyspy-quadratic.speedscope.json"),
        (.cpuprofile, "small.cpuprofile"), (.perfScript, "perf-strlen.txt"), (.legacyPprof, "legacy-go-heap.txt"),
        (.legacyPprof, "legacy-cpp-cpu.prof"),
    ]

    @Test(arguments: 0..<seeds.count)
    func mutatedInputsNeverCrash(_ seedIndex: Int) throws {
        let (format, name) = Self.seeds[seedIndex]
        let seedBytes = name.hasPrefix("legacy-") ? try Fixtures.bytes(name) : try FormatFixtures.bytes(name)
        // Keep the seed small so thousands of decodes stay fast; JSON seeds are whole files (a cut one never parses).
        let seed =
            format == .cpuprofile || format == .speedscope ? seedBytes : Array(seedBytes.prefix(format == .legacyPprof ? 8192 : 6000))
        var rng = SplitMix64(seed: UInt64(seedIndex) &* 0x9E37 &+ 1)
        let structural: [UInt8] = Array("{}[],:\"0123456789-.;@ \n\t#x()".utf8) + [0, 0xFF]
        let limits = FormatLimits(maxLineBytes: 1 << 16, maxStackDepth: 4096, maxSamples: 100_000, maxJSONDepth: 64)
        var decoded = 0
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<1500 {
            var input = seed
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !input.isEmpty {
                let at = Int.random(in: 0..<input.count, using: &rng)
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: input[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                case 1: input.insert(structural.randomElement(using: &rng)!, at: at)
                case 2: input.removeSubrange(at..<min(input.count, at + Int.random(in: 1...64, using: &rng)))
                case 3:
                    let end = min(input.count, at + Int.random(in: 1...256, using: &rng))
                    input.insert(contentsOf: input[at..<end], at: Int.random(in: 0...input.count, using: &rng))
                case 4: input.removeSubrange(at...)
                default: input[at] = structural.randomElement(using: &rng)!
                }
            }
            do {
                let p = try ProfileReader.decode(input, format: format, formatLimits: limits)
                decoded += 1
                if decoded % 50 == 1 { expectWellFormed(p) }
                // Whatever decodes must build trees without trapping (checked on a quarter, for time).
                if decoded % 4 == 1 && !p.sampleTypes.isEmpty { _ = try? CallTree(profile: p) }
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        #expect(clock.now - start < .seconds(20))
        #expect(decoded > 0, "no mutant decoded at all: the mutations are too coarse to reach the parser's depths")
    }
}
