import CLibFuzzer
import Foundation

/// What every fuzz target's main.swift does: write its seeds when scripts/fuzz asks, else run libFuzzer.
///
///     Fuzzing.main(seeds: { [("name", bytes)] }, testOneInput)
///
/// `testOneInput` must be a C function (a global func, or a closure capturing nothing) that returns 0; it
/// traps on a finding (a crash, a sanitizer report, or `fatalError` for a wrong answer).
public enum Fuzzing {
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    public static func main(seeds: () -> [(name: String, bytes: [UInt8])] = { [] }, _ testOneInput: TestOneInput) -> Never {
        if writeSeedsIfAsked(seeds) { exit(0) }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }

    /// Writes the seeds into FLAMEGRAPH_AI_FUZZ_SEEDS when it is set. Everything it allocates is released
    /// before the caller exits, so LeakSanitizer has nothing to report.
    private static func writeSeedsIfAsked(_ seeds: () -> [(name: String, bytes: [UInt8])]) -> Bool {
        guard let directory = ProcessInfo.processInfo.environment["FLAMEGRAPH_AI_FUZZ_SEEDS"] else { return false }
        let made = seeds()
        for (name, bytes) in made {
            _ = FileManager.default.createFile(atPath: directory + "/seed-" + name, contents: Data(bytes))
        }
        print("wrote \(made.count) seeds to \(directory)")
        return true
    }

    /// The input as an array.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
        data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    }

    /// The fixture profiles (Tests/Fixtures/profiles, as scripts/fuzz passes it), by file name.
    public static func fixtures() -> [(name: String, bytes: [UInt8])] {
        guard let directory = ProcessInfo.processInfo.environment["FLAMEGRAPH_AI_FIXTURES"],
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
        else { return [] }
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: directory + "/" + name).map { (name, Array($0)) }
        }
    }

    /// Deterministic pseudo-random inputs, for targets whose inputs are choices rather than files.
    public static func randomSeeds(count: Int, length: Int) -> [(name: String, bytes: [UInt8])] {
        var state: UInt64 = 0x5EED
        return (0 ..< count).map { k in
            ("random-\(k)", (0 ..< length).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 33)
            })
        }
    }
}
