import FlameDiff
import Testing

@Suite struct NumberTextTests {
    @Test func valuesScaleLikePprof() {
        #expect(NumberText.value(29_740_000_000, unit: "nanoseconds") == "29.74s")
        #expect(NumberText.value(310_000_000, unit: "nanoseconds") == "310ms")
        #expect(NumberText.value(1536, unit: "bytes") == "1.5kB")
        #expect(NumberText.value(0, unit: "bytes") == "0")
        #expect(NumberText.value(42, unit: "count") == "42")
    }

    @Test func fixedSharesAndPoints() {
        #expect(NumberText.fixed(2.5, places: 2) == "2.50")
        #expect(NumberText.fixed(-0.004, places: 2) == "0.00")
        #expect(NumberText.fixed(-1.005, places: 1) == "-1.0")
        #expect(NumberText.fixed(96.2, places: 0) == "96")
        #expect(NumberText.share(96.2049) == "96.2%")
        #expect(NumberText.share(0.01) == "<0.1%")
        #expect(NumberText.share(0) == "0.0%")
        #expect(NumberText.points(3.256) == "+3.26pp")
        #expect(NumberText.points(-0.5) == "-0.50pp")
        #expect(NumberText.trimmed(1.50) == "1.5")
    }
}
