import FlameDiff
import Foundation
import FuzzSupport
import ProfileFormats
import ProtoPprof

// The readers of ProfileFormats under libFuzzer. The first input byte picks the reader (or detection), the rest is
// the file. Every input must decode to a well-formed profile that FlameDiff can build a tree from, or fail with a
// typed error; a trap, a sanitizer report or a broken model is a finding. Declared in Package.swift's fuzzTargets
// as ("FuzzProfileFormats", ["ProfileFormats", "FlameDiff", "ProtoPprof"]); run with
// `scripts/fuzz FuzzProfileFormats 600`. A finding replays with `ProfileReader.decode(Array(input.dropFirst()),
// format: selector(input[0]), formatLimits: limits)` in Tests/ProfileFormatsTests/HostileInputTests.swift.

let formats: [ProfileFormat?] = [nil, .legacyPprof, .folded, .cpuprofile, .speedscope, .perfScript]
let limits = FormatLimits(maxLineBytes: 1 << 16, maxStackDepth: 4096, maxSamples: 100_000, maxJSONDepth: 64)

func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = Fuzzing.bytes(data, count)
    guard let selector = input.first else { return 0 }
    let format = formats[Int(selector) % formats.count]
    let bytes = Array(input.dropFirst())
    if format == nil { _ = ProfileReader.detect(bytes) }
    guard let p = try? ProfileReader.decode(bytes, format: format, formatLimits: limits) else { return 0 }
    if let broken = brokenInvariant(p) { fatalError("\(format?.rawValue ?? "detected") profile breaks the model: \(broken)") }
    if !p.sampleTypes.isEmpty {
        do {
            _ = try CallTree(profile: p)
            _ = try TopTable(profile: p)
        } catch {
            // A typed refusal (e.g. values too large) is fine; a trap is not.
        }
    }
    return 0
}

/// The first model invariant `p` breaks, or nil: every reference in range, stacks and label sets well formed.
func brokenInvariant(_ p: Profile) -> String? {
    if p.strings.first != "" { return "strings[0] is not empty" }
    if p.sampleValues.count != p.sampleCount * p.sampleTypes.count { return "value count" }
    if p.sampleLabelSets.count != p.sampleCount { return "label set count" }
    if p.stackOffsets.first != 0 || p.stackOffsets.last.map(Int.init) != p.stackLocations.count { return "stack offsets" }
    if !p.sampleStacks.allSatisfy({ $0 >= 0 && Int($0) < p.stackCount }) { return "sample stack out of range" }
    if !p.sampleLabelSets.allSatisfy({ $0 >= 0 && Int($0) < p.labelSetCount }) { return "sample label set out of range" }
    if !p.stackLocations.allSatisfy({ $0 >= 0 && Int($0) < p.locations.count }) { return "stack location out of range" }
    if !p.lines.allSatisfy({ $0.function >= 0 && Int($0.function) < p.functions.count }) { return "line function out of range" }
    if !p.locations.allSatisfy({
        $0.mapping >= -1 && Int($0.mapping) < p.mappings.count && Int($0.firstLine) + Int($0.lineCount) <= p.lines.count
    }) {
        return "location out of range"
    }
    let n = p.strings.count
    if !p.functions.allSatisfy({ Int($0.name) < n && Int($0.systemName) < n && Int($0.filename) < n }) {
        return "function string out of range"
    }
    if !p.mappings.allSatisfy({ Int($0.filename) < n && Int($0.buildID) < n }) { return "mapping string out of range" }
    if !p.labels.allSatisfy({ Int($0.key) < n && Int($0.str) < n && Int($0.numUnit) < n }) { return "label string out of range" }
    return nil
}

/// Seeds: small crafted files of every format, and the starts of the recorded fixtures (Tests/Fixtures/formats,
/// found beside the FLAMEGRAPH_AI_FIXTURES folder scripts/fuzz passes), cut at a line or kept whole when small.
func seeds() -> [(name: String, bytes: [UInt8])] {
    func seed(_ format: ProfileFormat?, _ text: String) -> [UInt8] { [UInt8(formats.firstIndex(of: format)!)] + Array(text.utf8) }
    var out: [(name: String, bytes: [UInt8])] = [
        ("folded", seed(.folded, "main;work (app.py:3);leaf 5\nmain;other 2\n 1\n")),
        (
            "cpuprofile",
            seed(
                .cpuprofile,
                """
                {"nodes":[{"id":1,"callFrame":{"functionName":"(root)","url":"","lineNumber":-1,"columnNumber":-1},"children":[2,3]},\
                {"id":2,"callFrame":{"functionName":"a","url":"x.js","lineNumber":1,"columnNumber":2},"children":[4]},\
                {"id":3,"callFrame":{"functionName":"(idle)"}},{"id":4,"parent":2,"callFrame":{"functionName":""}}],\
                "startTime":0,"endTime":100,"samples":[2,4,3,4],"timeDeltas":[1,10,-5,30]}
                """)
        ),
        (
            "speedscope",
            seed(
                .speedscope,
                """
                {"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[{"name":"a","file":"f","line":1},{"name":"b"}]},\
                "profiles":[{"type":"sampled","name":"t1","unit":"seconds","startValue":0,"endValue":1,"samples":[[0,1],[0],[]],"weights":[0.5,0.25,0.25]},\
                {"type":"evented","name":"t2","unit":"seconds","startValue":0,"endValue":2,"events":[{"type":"O","frame":0,"at":0},{"type":"O","frame":1,"at":1},{"type":"C","frame":1,"at":1.5}]}]}
                """)
        ),
        (
            "perf",
            seed(
                .perfScript,
                """
                app 12/34 [001] 100.000001: 250000 cpu-clock:ppp:
                \tffffffff81000130 entry_SYSCALL_64+0x10 ([kernel.kallsyms])
                \t    4011aa work+0x1a (/usr/bin/app)
                \t    7f0000001000 [unknown] ([unknown])

                app 12/34 [001] 100.000002: 1000 cycles:u:  4011aa work+0x1a (/usr/bin/app)
                """)
        ),
        (
            "heap",
            seed(
                .legacyPprof,
                """
                heap profile: 2: 64 [4: 128] @ heap/1048576
                1: 32 [2: 64] @ 0x401001 0x402001
                #\t0x401000\tmain.alloc+0x10\t/src/main.go:12
                1: 32 [2: 64] @ 0x403001
                --- Memory map: ---
                00400000-00500000 r-xp 00000000 08:01 123 /usr/bin/app
                """)
        ),
        ("mutex", seed(.legacyPprof, "--- mutex:\ncycles/second=2000000000\nsampling period=5\n4000 3 @ 0x401001 0x402001\n")),
        ("threadcreate", seed(.legacyPprof, "threadcreate profile: total 3\n2 @\n1 @ 0x43c5a5 0x43c9cf\n")),
    ]
    var cpu: [UInt8] = []
    for w: UInt64 in [0, 3, 0, 10000, 0, 2, 2, 0x401000, 0x402001, 1, 1, 0x401500, 0, 1, 0] {
        cpu += (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) }
    }
    out.append(
        ("legacy-cpu", [UInt8(formats.firstIndex(of: .legacyPprof)!)] + cpu + Array("00400000-00500000 r-xp 00000000 00:00 1 app\n".utf8)))
    if let profiles = ProcessInfo.processInfo.environment["FLAMEGRAPH_AI_FIXTURES"] {
        let directory = URL(fileURLWithPath: profiles).deletingLastPathComponent().appendingPathComponent("formats").path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted() ?? [] {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            var bytes = Array(data)
            let format = ProfileReader.detect(bytes)
            if bytes.count > 3500 {
                // JSON does not survive a cut; text is cut after a line.
                guard format != .cpuprofile && format != .speedscope else { continue }
                bytes = Array(bytes.prefix(3500))
                if let lastLine = bytes.lastIndex(of: 0x0A) { bytes = Array(bytes[...lastLine]) }
            }
            out.append((name, [UInt8(formats.firstIndex(of: format) ?? 0)] + bytes))
        }
    }
    return out
}

Fuzzing.main(seeds: seeds, testOneInput)
