import FuzzOracles
import FuzzSupport

// the JSON-RPC server in process (framing, batches, cancellation, lifecycle): every line out is a JSON-RPC message (FuzzOracle.jsonRPC, Fuzz/Oracles). Seeds and regressions: Fuzz/Corpus/FuzzJSONRPC/, replayed by FuzzRegressionTests.

func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    if let problem = FuzzOracle.jsonRPC.check(Fuzzing.bytes(data, count)) { fatalError(problem) }
    return 0
}

Fuzzing.main(testOneInput)
