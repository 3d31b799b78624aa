import ProtoPprof
import TestSupport
import Testing

// Strings: 6 "k", 7 "v", 8 "w"; locations 1...3.
private let craftedStrings = ["", "cpu", "nanoseconds", "main", "work", "main.go", "k", "v", "w"]

/// A one-type profile around hand-made sample messages (each given with its top-level tag).
private func profile(_ samples: [(tag: [UInt8], message: [UInt8])]) -> [UInt8] {
    var w = ProtobufWriter()
    w.message(1) { m in m.int(1, 1); m.int(2, 2) }
    for s in samples {
        w.raw(s.tag)
        w.varint(UInt64(s.message.count))
        w.raw(s.message)
    }
    for id in 1 ... 3 as ClosedRange<UInt64> {
        w.message(4) { m in m.uint(1, id); m.message(4) { l in l.uint(1, id) } }
        w.message(5) { m in m.uint(1, id); m.int(2, 3); m.int(4, 5) }
    }
    for s in craftedStrings { w.bytes(6, Array(s.utf8)) }
    return w.bytes
}

private func profile(_ messages: [[UInt8]]) -> [UInt8] { profile(messages.map { (tag: [0x12], message: $0) }) }

/// A tag `bytes` long.
private func tag(_ field: Int, _ wire: Int, bytes: Int = 1) -> [UInt8] {
    let v = UInt64(field << 3 | wire)
    return VariedProfile.paddedVarint(v, extra: bytes - VariedProfile.canonicalVarint(v).count)
}

private func packed(_ field: Int, _ numbers: [UInt64], tagBytes: Int = 1) -> [UInt8] {
    let payload = numbers.flatMap { VariedProfile.canonicalVarint($0) }
    return tag(field, 2, bytes: tagBytes) + VariedProfile.canonicalVarint(UInt64(payload.count)) + payload
}

private func unpacked(_ field: Int, _ number: UInt64, tagBytes: Int = 1) -> [UInt8] {
    tag(field, 0, bytes: tagBytes) + VariedProfile.canonicalVarint(number)
}

/// A label field: key "k", and str (a string index) or num.
private func label(str: UInt64 = 0, num: UInt64 = 0, tagBytes: Int = 1) -> [UInt8] {
    var m: [UInt8] = [0x08, 6]
    if str != 0 { m += [0x10] + VariedProfile.canonicalVarint(str) }
    if num != 0 { m += [0x18] + VariedProfile.canonicalVarint(num) }
    return tag(3, 2, bytes: tagBytes) + VariedProfile.canonicalVarint(UInt64(m.count)) + m
}

private func expectParity(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(DecoderParity.difference(bytes) == nil, sourceLocation: sourceLocation)
}

private func labelCounts(_ bytes: [UInt8]) throws -> [Int] {
    let p = try Profile.decode(bytes)
    return (0 ..< p.sampleCount).map { p.labels(ofSample: $0).count }
}

/// Crafted encodings of samples, valid and not: the hand-written decoder must give exactly what protobuf-c
/// gives (samples compared by location ids, values and label strings), and must never crash.
@Suite struct SampleDecoderParityTests {
    /// The reported crash: a two-byte label tag neither started a run nor stopped the run's bytes from
    /// being cached as the whole set, so 3,000 later samples each copied 2,001 labels into a buffer sized
    /// for half their bytes.
    @Test func longLabelTagsAfterACachedRunDoNotOverflow() throws {
        var first = packed(1, [1]) + packed(2, [1]) + label(str: 7)
        for _ in 0 ..< 2000 { first += label(str: 7, tagBytes: 2) }
        var messages = [first]
        for i in 1 ... 3000 as ClosedRange<UInt64> {
            messages.append(unpacked(1, 1) + unpacked(2, 1) + label(str: 7) + unpacked(1, 1) + label(num: i))
        }
        let bytes = profile(messages)
        #expect(bytes.count < 90_000)
        expectParity(bytes)
        let counts = try labelCounts(bytes)
        #expect(counts[0] == 2001)
        #expect(counts[1...].allSatisfy { $0 == 2 })
    }

    /// A cached run followed by a label the run does not cover (a long tag) keeps both.
    @Test func labelAfterACachedRunIsKept() throws {
        let bytes = profile([
            packed(1, [1]) + packed(2, [1]) + label(str: 7),
            packed(1, [1]) + packed(2, [2]) + label(str: 7) + label(str: 8, tagBytes: 2),
            packed(1, [1]) + packed(2, [3]) + label(str: 7) + label(str: 8, tagBytes: 5),
            packed(1, [1]) + packed(2, [4]) + label(str: 7),
        ])
        expectParity(bytes)
        #expect(try labelCounts(bytes) == [1, 2, 2, 1])
    }

    @Test func longTagsForEverySampleField() throws {
        var reference: [DecoderParity.ResolvedSample]?
        for n in 1 ... 5 {
            let bytes = profile([
                (tag: tag(2, 2, bytes: n), message: packed(1, [2, 1], tagBytes: n) + packed(2, [5], tagBytes: n) + label(str: 7, tagBytes: n)),
                (tag: tag(2, 2, bytes: n), message: unpacked(1, 2, tagBytes: n) + unpacked(1, 1, tagBytes: n) + unpacked(2, 5, tagBytes: n) + label(str: 7, tagBytes: n)),
                // A long tag naming field 0 is an unknown field to protobuf-c, skipped.
                (tag: [0x12], message: [0x80, 0x00, 0x01] as [UInt8] + packed(1, [2, 1]) + packed(2, [5])),
            ])
            expectParity(bytes)
            let samples = DecoderParity.resolvedSamples(try Profile.decode(bytes))
            #expect(samples[0] == samples[1])
            if let reference { #expect(samples == reference, "tags of \(n) bytes") } else { reference = samples }
        }
    }

    @Test func labelRunsSplitRepeatedAndInterleaved() throws {
        let run = label(str: 7) + label(str: 8)
        let bytes = profile([
            packed(1, [1]) + packed(2, [1]) + run,
            packed(1, [1]) + run + packed(2, [2]),  // the same run before the values
            packed(1, [1]) + label(str: 7) + packed(2, [3]) + label(str: 8),  // run split by values
            label(str: 7) + packed(1, [1]) + label(str: 8) + packed(2, [4]),  // split by locations
            packed(1, [1]) + packed(2, [5]) + label(str: 7),  // a prefix of the run
            packed(1, [1]) + packed(2, [6]) + run + run,  // the run twice
            packed(1, [1]) + packed(2, [7]) + run + unpacked(1, 2) + run,  // twice, split by a location
            packed(1, [1]) + packed(2, [8]) + label(str: 7, tagBytes: 2) + label(str: 8),  // long tag first
            packed(1, [1]) + packed(2, [9]) + run,
        ])
        expectParity(bytes)
        #expect(try labelCounts(bytes) == [2, 2, 2, 2, 1, 4, 4, 2, 2])
    }

    @Test func stacksPackedUnpackedSplitAndEmpty() throws {
        let stack = packed(1, [3, 2, 1])
        let bytes = profile([
            stack + packed(2, [1]),
            stack + unpacked(1, 1) + packed(2, [2]),  // cached stack continued unpacked
            stack + packed(1, [2]) + packed(2, [3]),  // continued packed
            stack + packed(1, []) + packed(2, [4]),  // followed by an empty packed field
            packed(1, []) + stack + packed(2, [5]),  // preceded by one
            packed(2, [6]) + label(str: 7) + stack,  // after values and labels
            stack + label(str: 7) + unpacked(1, 3) + packed(2, [7]),  // continued after a label
            packed(1, [3], tagBytes: 3) + packed(1, [2, 1]) + packed(2, [8]),  // split, long tag
            packed(1, [3, 2, 1], tagBytes: 2) + packed(2, [9]),  // same content, long tag
            packed(1, []) + packed(2, [10]),  // empty stack
            stack + packed(2, [11]),
        ])
        expectParity(bytes)
        let p = try Profile.decode(bytes)
        let ids = DecoderParity.resolvedSamples(p).map(\.locationIDs)
        #expect(ids == [[3, 2, 1], [3, 2, 1, 1], [3, 2, 1, 2], [3, 2, 1], [3, 2, 1], [3, 2, 1], [3, 2, 1, 3], [3, 2, 1], [3, 2, 1], [], [3, 2, 1]])
    }

    /// What protobuf-c refuses inside a sample, the hand-written decoder refuses too.
    @Test func malformedSamplesAreRefusedByBoth() throws {
        let longLength: [UInt8] = [0x0A, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01]  // 6-byte length prefix
        let cases: [(String, tag: [UInt8], message: [UInt8])] = [
            ("6-byte tag", [0x12], tag(1, 2, bytes: 6) + ([1, 1] as [UInt8]) + packed(2, [1])),
            ("field 0", [0x12], [0x00, 0x01] as [UInt8] + packed(1, [1]) + packed(2, [1])),
            ("6-byte length", [0x12], longLength + packed(2, [1])),
            ("location_id as fixed64", [0x12], [0x09, 1, 0, 0, 0, 0, 0, 0, 0] as [UInt8] + packed(2, [1])),
            ("value as fixed32", [0x12], packed(1, [1]) + ([0x15, 1, 0, 0, 0] as [UInt8])),
            ("label as varint", [0x12], packed(1, [1]) + packed(2, [1]) + ([0x18, 0x01] as [UInt8])),
            ("label key as bytes", [0x12], packed(1, [1]) + packed(2, [1]) + ([0x1A, 0x03, 0x0A, 0x01, 0x06] as [UInt8])),
            ("label with a group", [0x12], packed(1, [1]) + packed(2, [1]) + ([0x1A, 0x02, 0x2B, 0x2C] as [UInt8])),
            ("6-byte sample tag", tag(2, 2, bytes: 6), packed(1, [1]) + packed(2, [1])),
            ("unterminated packed varint", [0x12], [0x0A, 0x01, 0x81] as [UInt8] + packed(2, [1])),
        ]
        for (name, tag, message) in cases {
            let bytes = profile([(tag: tag, message: message)])
            #expect(DecoderParity.difference(bytes) == nil, "\(name)")
            for decoding in [SampleDecoding.handWritten, .protobufC] {
                #expect(throws: PprofError.self, "\(name)") { try Profile.decode(bytes, limits: DecodeLimits(sampleDecoding: decoding)) }
            }
        }
    }

    /// The first bad sample is reported, whichever check finds it, as the protobuf-c path reports it.
    @Test func validationErrorsNameTheSameSample() {
        let badLocation = packed(1, [9]) + packed(2, [1])
        let badValues = packed(1, [1]) + packed(2, [1, 2])
        let good = packed(1, [1]) + packed(2, [1])
        for messages in [[good, badLocation, badValues], [good, badValues, badLocation], [packed(1, [9]) + packed(2, [1, 2])]] {
            let bytes = profile(messages)
            #expect(DecoderParity.difference(bytes) == nil)
        }
        let bytes = profile([good, badValues, badLocation])
        #expect(throws: PprofError.invalid(field: "sample[1].value", reason: "sample has 2 values but the profile has 1 sample types")) {
            try Profile.decode(bytes)
        }
    }

    /// Generated profiles, each encoded its own way: no difference, and most decode.
    @Test func variedEncodingsDecodeAlike() {
        var rng = SplitMix64(seed: 11)
        var decoded = 0
        var errors: [String: Int] = [:]
        let runs = 300
        for run in 0 ..< runs {
            let choices = (0 ..< 600).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let bytes = VariedProfile.generate(choices)
            if let difference = DecoderParity.difference(bytes) {
                Issue.record("run \(run): \(difference)")
            }
            do {
                _ = try Profile.decode(bytes)
                decoded += 1
            } catch {
                errors[String(String(describing: error).prefix(40)), default: 0] += 1
            }
        }
        #expect(decoded > runs / 3, "only \(decoded) of \(runs) generated profiles decode; errors: \(errors)")
    }

    /// Samples written as choices (how the fuzz target seeds its corpus from fixtures) come back as they were.
    @Test func choicesForSamplesRoundTrip() throws {
        let samples: [VariedProfile.Sample] = [
            .init(locations: [2, 1, 0], values: [5, 1 << 40], labels: [.init(key: 0, str: 3), .init(key: 1, str: 0, num: -7, unit: 2)]),
            .init(locations: [], values: [-3, 0]),
            .init(locations: [2, 1, 0], values: [1023, -1023], labels: [.init(key: 0, str: 3)]),
        ]
        let bytes = VariedProfile.generate(VariedProfile.choices(typeCount: 2, locationCount: 3, samples: samples))
        let p = try Profile.decode(bytes)
        let resolved = DecoderParity.resolvedSamples(p)
        #expect(resolved.map(\.locationIDs) == [[3, 2, 1], [], [3, 2, 1]])
        #expect(resolved.map(\.values) == samples.map(\.values))
        #expect(resolved[0].labels.map(\.description) == ["k0=s2", "k1=-7unit1"])
        #expect(p.labelSetCount == 3)
    }
}
