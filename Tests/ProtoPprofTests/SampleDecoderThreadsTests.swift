import Foundation
@testable import ProtoPprof
import TestSupport
import Testing

/// Sample messages of a generated profile: two sample types, locations 1...60 (one function each), label keys
/// "k0"..."k3" with values "v0"..."v9". Stacks and label sets come from pools where some are prefixes of
/// others, and samples are written several ways (split location fields, labels split by values), so that the
/// byte caches' rewrite paths run in both halves.
private struct GeneratedSamples {
    static let locationCount = 60
    static let keyString = 5 + locationCount + 1  // strings: "", 4 sample type strings, 61 function names
    static let valueString = keyString + 4

    var stacks: [[UInt64]] = []
    var labelSets: [[(key: UInt64, value: UInt64)]] = []
    var rng = SplitMix64(seed: 7)

    init() {
        for k in 0 ..< 400 {
            if k % 2 == 1 {
                // A stack that continues the one before: its first field's bytes may be cached as that stack.
                stacks.append(stacks[k - 1] + [next(Self.locationCount) + 1])
            } else {
                stacks.append((0 ... next(8)).map { _ in next(Self.locationCount) + 1 })
            }
        }
        stacks.append([])
        for k in 0 ..< 40 {
            let first = (key: next(4), value: next(10))
            labelSets.append(k % 2 == 0 ? [first] : labelSets[k - 1] + [(key: next(4), value: next(10))])
        }
        labelSets.append([])
    }

    mutating func next(_ bound: Int) -> UInt64 { rng.next() % UInt64(bound) }

    /// The message of sample `i`: stacks first used in either half, a seen or new label set, one of five encodings.
    mutating func message(_ i: Int, sampleCount: Int) -> [UInt8] {
        // The second half uses stacks the first never did, as well as shared ones.
        let pool = i < sampleCount / 2 ? 300 : stacks.count
        let stack = stacks[Int(next(pool))]
        let labels = labelSets[Int(next(labelSets.count))]
        let values = [1 + next(5), next(1 << 20)]
        var w = ProtobufWriter()
        func label(_ l: (key: UInt64, value: UInt64)) {
            w.message(3) { m in
                m.uint(1, UInt64(Self.keyString) + l.key)
                m.uint(2, UInt64(Self.valueString) + l.value)
            }
        }
        switch next(5) {
        case 0:  // split location fields: a cached prefix continued by another field
            w.packed(1, Array(stack.dropLast()))
            w.packed(1, Array(stack.suffix(1)))
            w.packed(2, values)
            labels.forEach(label)
        case 1:  // the stack's tail unpacked
            w.packed(1, Array(stack.prefix(1)))
            for id in stack.dropFirst() { w.uint(1, id) }
            labels.forEach(label)
            for v in values { w.uint(2, v) }
        case 2:  // labels split by the values: a cached first label continued after them
            labels.prefix(1).forEach(label)
            w.packed(1, stack)
            w.packed(2, values)
            labels.dropFirst().forEach(label)
        default:
            w.packed(1, stack)
            w.packed(2, values)
            labels.forEach(label)
        }
        return w.bytes
    }

    /// A profile around sample messages, with an extra location of id `extraLocation` when given.
    static func profile(_ samples: [[UInt8]], extraLocation: UInt64? = nil) -> [UInt8] {
        var w = ProtobufWriter()
        w.message(1) { m in m.int(1, 1); m.int(2, 2) }
        w.message(1) { m in m.int(1, 3); m.int(2, 4) }
        for s in samples { w.bytes(2, s) }
        let ids = Array(1 ... UInt64(locationCount)) + [extraLocation ?? UInt64(locationCount + 1)]
        for (k, id) in ids.enumerated() {
            w.message(4) { m in m.uint(1, id); m.message(4) { l in l.uint(1, UInt64(k + 1)); l.int(2, Int64(k)) } }
            w.message(5) { m in m.uint(1, UInt64(k + 1)); m.int(2, Int64(5 + k)) }
        }
        var strings = ["", "samples", "count", "cpu", "nanoseconds"] + ids.indices.map { "f\($0)" }
        strings += (0 ..< 4).map { "k\($0)" } + (0 ..< 10).map { "v\($0)" }
        #expect(strings.count == valueString + 10)
        for s in strings { w.bytes(6, Array(s.utf8)) }
        return w.bytes
    }
}

/// Decoding samples on two threads gives what one thread gives: the same profile, the same errors.
@Suite struct SampleDecoderThreadsTests {
    static let sampleCount = 6000
    /// A sample of the second half, for corruptions there.
    static let late = 4500

    static func messages() -> [[UInt8]] {
        var g = GeneratedSamples()
        return (0 ..< sampleCount).map { g.message($0, sampleCount: sampleCount) }
    }

    static func decode(_ bytes: [UInt8], threads: Int, lowered: Bool = false) -> Result<Profile, PprofError> {
        var limits = DecodeLimits(threads: threads)
        if lowered { limits.twoThreadMinimum = .init(samples: 2, sampleBytes: 2) }
        return Result { () throws(PprofError) -> Profile in try Profile.decode(bytes, limits: limits) }
    }

    /// The two ways agree on `bytes`; returns what one thread gave.
    @discardableResult
    static func expectSameBothWays(
        _ bytes: [UInt8], lowered: Bool = false, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Result<Profile, PprofError> {
        let one = decode(bytes, threads: 1)
        let two = decode(bytes, threads: 2, lowered: lowered)
        #expect(one == two, comment, sourceLocation: sourceLocation)
        return one
    }

    /// The decoder itself, to see which path it took: two halves report the larger memory bound.
    static func decoder(_ bytes: [UInt8], threads: Int, maxMemory: Int = .max) throws -> SampleDecoder {
        try bytes.withUnsafeBytes { raw in try SampleDecoder(raw, maxMemory: maxMemory, threads: threads) }
    }

    @Test func generatedProfileDecodesAlikeOnTwoThreads() throws {
        let bytes = GeneratedSamples.profile(Self.messages())
        let one = try Self.decoder(bytes, threads: 1)
        let two = try Self.decoder(bytes, threads: 2)
        #expect(two.memoryBoundBytes > one.memoryBoundBytes, "the two-thread path was not taken")
        #expect(two.heldBytes == one.heldBytes)
        #expect(two.heldBytes <= two.memoryBoundBytes)
        let profile = try Self.expectSameBothWays(bytes).get()
        #expect(profile.sampleCount == Self.sampleCount)
        #expect(profile.labelSetCount > 20)
        // The reference decoder agrees too, so equality is not two decoders sharing a mistake.
        #expect(profile == (try Profile.decode(bytes, limits: DecodeLimits(sampleDecoding: .protobufC))))
    }

    @Test(arguments: (try? Fixtures.decodableProfiles()) ?? [])
    func fixturesDecodeAlikeOnTwoThreads(_ file: String) throws {
        let bytes = try Fixtures.bytes(file)
        Self.expectSameBothWays(bytes, lowered: true, "\(file), small profiles split")
        Self.expectSameBothWays(bytes, "\(file)")
    }

    @Test func brokenFixturesFailAlikeOnTwoThreads() throws {
        let broken = try FileManager.default.contentsOfDirectory(atPath: Fixtures.profile("").path).filter { $0.hasPrefix("broken-") }
        #expect(broken.count >= 3)
        for file in broken {
            let bytes = try Fixtures.bytes(file)
            #expect(throws: PprofError.self) { try Self.decode(bytes, threads: 2, lowered: true).get() }
            Self.expectSameBothWays(bytes, lowered: true, "\(file)")
        }
    }

    /// Corruptions in the second half give the error one pass gives, naming the same sample.
    @Test func errorsInTheSecondHalfNameTheSameSample() throws {
        let messages = Self.messages()
        func corrupted(_ replacements: [Int: [UInt8]]) -> [UInt8] {
            GeneratedSamples.profile(messages.enumerated().map { replacements[$0.offset] ?? $0.element })
        }
        var w = ProtobufWriter()
        w.packed(1, [1, 999])
        w.packed(2, [1, 1])
        let missingLocation = w.bytes
        w = ProtobufWriter()
        w.packed(1, [1])
        w.packed(2, [1])
        let oneValue = w.bytes
        let truncatedVarint: [UInt8] = [0x0A, 0x01, 0x01, 0x10, 0x81]
        let valueAsFixed32: [UInt8] = [0x0A, 0x01, 0x01, 0x15, 1, 0, 0, 0]
        let packedOverrun: [UInt8] = [0x0A, 0x02, 0x01, 0x81, 0x01]
        let late = Self.late
        let cases: [(String, [Int: [UInt8]], expected: String)] = [
            ("missing location", [late: missingLocation], "sample[\(late)].location_id[1]"),
            ("one value", [late: oneValue], "sample[\(late)].value"),
            ("truncated varint", [late: truncatedVarint], "truncated varint at byte 5"),
            ("wire type", [late: valueAsFixed32], "sample[\(late)].value: wire type 5"),
            ("packed overrun", [late: packedOverrun], "sample[\(late)].location_id: packed field overruns"),
            // Both halves wrong: the first half's error comes first, as in one pass.
            ("both halves", [10: valueAsFixed32, late: truncatedVarint], "sample[10].value: wire type 5"),
            ("first half only", [10: oneValue], "sample[10].value"),
            // A decoding error in the second half comes before a validation error in the first.
            ("decoding after validation", [10: missingLocation, late: truncatedVarint], "truncated varint"),
            // A validation error in each: the earlier sample, whichever check finds it.
            ("two validations", [late: oneValue, late + 1: missingLocation, 3000: missingLocation], "sample[3000].location_id[1]"),
        ]
        for (name, replacements, expected) in cases {
            let bytes = corrupted(replacements)
            if case .failure(let error) = Self.expectSameBothWays(bytes, Comment(rawValue: name)) {
                #expect(error.description.contains(expected), "\(name): \(error)")
            } else {
                Issue.record("\(name): decoded")
            }
        }
    }

    /// A location id past 32 bits in the second half sends the whole profile to protobuf-c, as in one pass.
    @Test func wideLocationIDInTheSecondHalfFallsBack() throws {
        var messages = Self.messages()
        let wide: UInt64 = 1 << 33
        var w = ProtobufWriter()
        w.packed(1, [wide, 1])
        w.packed(2, [1, 1])
        messages[Self.late] = w.bytes
        let bytes = GeneratedSamples.profile(messages, extraLocation: wide)
        #expect(try Self.decoder(bytes, threads: 2).needsFallback)
        let profile = try Self.expectSameBothWays(bytes).get()
        #expect(profile.locations[Int(profile.locations(ofSample: Self.late).first!)].id == wide)
    }

    /// A memory limit that allows one pass but not two halves decodes in one pass, to the same profile.
    @Test func aTightMemoryLimitFallsBackToOneThread() throws {
        let bytes = GeneratedSamples.profile(Self.messages())
        let one = try Self.decoder(bytes, threads: 1)
        let tight = try Self.decoder(bytes, threads: 2, maxMemory: one.memoryBoundBytes)
        #expect(tight.memoryBoundBytes == one.memoryBoundBytes)
        #expect(tight.sampleStacks == one.sampleStacks)
        #expect(throws: SampleDecoder.Failure.self) { try Self.decoder(bytes, threads: 2, maxMemory: one.memoryBoundBytes - 1) }
    }
}
