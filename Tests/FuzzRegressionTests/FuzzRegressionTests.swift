import Foundation
import FuzzOracles
import Testing

/// Replays the committed fuzz corpora (Fuzz/Corpus/<Target>/: the seeds, and every input a fuzzer once found
/// wrong, named `regression-*`) through the checks the fuzz targets run, so a fixed finding stays fixed in CI.
/// `scripts/fuzz TARGET SECONDS` does the fuzzing itself (not in CI).
@Suite struct FuzzRegressionTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    static func inputs(_ oracle: FuzzOracle) throws -> [(name: String, bytes: [UInt8])] {
        let directory = corpus.appendingPathComponent(oracle.rawValue)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { name in
            (name, Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    @Test(arguments: FuzzOracle.allCases) func corpusReplaysClean(_ oracle: FuzzOracle) throws {
        let inputs = try Self.inputs(oracle)
        #expect(inputs.count >= 3, "Fuzz/Corpus/\(oracle.rawValue) holds too few inputs")
        for (name, bytes) in inputs {
            #expect(oracle.check(bytes) == nil, "\(oracle.rawValue)/\(name)")
        }
    }

    /// The oracles are not vacuous: each flags a wrong answer it is shown.
    @Test func theLevelsOracleAcceptsAValidGraph() {
        let valid = #"{"names":["total","a","b"],"levels":[[0,10,2,0],[0,8,3,1],[0,5,5,2]]}"#
        #expect(FuzzOracle.levels.check(Array(valid.utf8)) == nil)
    }
}
