import FuzzOracles
import FuzzSupport

// JSONCore's parser: what parses writes back to JSON that parses to the same value (FuzzOracle.json, Fuzz/Oracles). Seeds and regressions: Fuzz/Corpus/FuzzJSON/, replayed by FuzzRegressionTests.

func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    if let problem = FuzzOracle.json.check(Fuzzing.bytes(data, count)) { fatalError(problem) }
    return 0
}

Fuzzing.main(testOneInput)
