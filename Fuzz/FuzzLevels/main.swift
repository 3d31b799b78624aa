import FuzzOracles
import FuzzSupport

// the levels (flame graph) input: what CallTree accepts is consistent and round-trips (FuzzOracle.levels, Fuzz/Oracles). Seeds and regressions: Fuzz/Corpus/FuzzLevels/, replayed by FuzzRegressionTests.

func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    if let problem = FuzzOracle.levels.check(Fuzzing.bytes(data, count)) { fatalError(problem) }
    return 0
}

Fuzzing.main(testOneInput)
