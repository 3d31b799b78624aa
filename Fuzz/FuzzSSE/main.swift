import FuzzOracles
import FuzzSupport

// the SSE parser: the same events however the stream is split (FuzzOracle.sse, Fuzz/Oracles). Seeds and regressions: Fuzz/Corpus/FuzzSSE/, replayed by FuzzRegressionTests.

func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    if let problem = FuzzOracle.sse.check(Fuzzing.bytes(data, count)) { fatalError(problem) }
    return 0
}

Fuzzing.main(testOneInput)
