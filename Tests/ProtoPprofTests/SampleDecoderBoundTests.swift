@testable import ProtoPprof
import TestSupport
import Testing

/// The hand-written decoder checks an upper bound of what it will write against the memory limit before
/// writing anything: what it holds afterwards never exceeds that bound.
@Suite struct SampleDecoderBoundTests {
    static func held(_ bytes: [UInt8]) throws -> (held: Int, bound: Int) {
        let decoder = try bytes.withUnsafeBytes { raw in try SampleDecoder(raw) }
        return (decoder.heldBytes, decoder.memoryBoundBytes)
    }

    static func profile(sample: [UInt8], count: Int = 1) -> [UInt8] {
        var b = PprofBuilder()
        b.samples = []
        var w = ProtobufWriter()
        w.raw(b.encode())
        for _ in 0 ..< count { w.bytes(2, sample) }
        return w.bytes
    }

    @Test func oneByteValuesTakeEightBytes() throws {
        var w = ProtobufWriter()
        w.packed(2, [UInt64](repeating: 1, count: 200_000))
        let (held, bound) = try Self.held(Self.profile(sample: w.bytes))
        #expect(held >= 1_600_000)
        #expect(held <= bound)
    }

    @Test func twoByteLabelsTakeALabelEach() throws {
        var w = ProtobufWriter()
        for _ in 0 ..< 100_000 { w.raw([0x1A, 0x00]) }
        let (held, bound) = try Self.held(Self.profile(sample: w.bytes))
        #expect(held >= 100_000 * MemoryLayout<Label>.stride)
        #expect(held <= bound)
    }

    @Test func oneByteLocationsAndEmptySamples() throws {
        var w = ProtobufWriter()
        w.packed(1, (1 ... 100_000).map { UInt64($0 % 100 + 1) })
        var (held, bound) = try Self.held(Self.profile(sample: w.bytes))
        #expect(held <= bound)
        (held, bound) = try Self.held(Self.profile(sample: [], count: 100_000))  // 2-byte samples, each new nothing
        #expect(held <= bound)
    }

    @Test func generatedProfilesStayWithinTheBound() throws {
        var rng = SplitMix64(seed: 5)
        for _ in 0 ..< 100 {
            let bytes = VariedProfile.generate((0 ..< 800).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            guard let (held, bound) = try? Self.held(bytes) else { continue }
            #expect(held <= bound)
        }
    }
}
