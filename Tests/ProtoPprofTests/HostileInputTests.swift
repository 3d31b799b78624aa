import ProtoPprof
import TestSupport
import Testing

/// Every broken input yields a typed error naming what is wrong, never a crash.
@Suite struct HostileInputTests {
    private func decodeError(_ bytes: [UInt8], limits: DecodeLimits = DecodeLimits()) -> PprofError? {
        do {
            _ = try Profile.decode(bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func emptyFile() {
        #expect(decodeError([]) == .empty)
    }

    @Test func randomBytes() {
        var rng = SplitMix64(seed: 7)
        for _ in 0 ..< 50 {
            let bytes = (0 ..< 4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let error = decodeError(bytes)
            #expect(error != nil, "random bytes decoded as a profile")
            if case .malformedProtobuf = error {} else if case .invalid = error {} else {
                Issue.record("unexpected error \(String(describing: error))")
            }
        }
    }

    @Test func truncatedProtobuf() throws {
        guard case .malformedProtobuf(let detail) = decodeError(try Fixtures.bytes("broken-truncated-protobuf.pb.gz")) else {
            Issue.record("expected malformedProtobuf")
            return
        }
        #expect(detail.contains("perftools.profiles.Profile"))
    }

    @Test func truncatedGzip() throws {
        guard case .corruptGzip = decodeError(try Fixtures.bytes("broken-truncated-gzip.pb.gz")) else {
            Issue.record("expected corruptGzip")
            return
        }
    }

    @Test func gzipOfGarbage() {
        var garbage: [UInt8] = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]
        garbage += (0 ..< 200).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        guard case .corruptGzip = decodeError(garbage) else {
            Issue.record("expected corruptGzip")
            return
        }
    }

    @Test func notPprofOTLP() throws {
        #expect(decodeError(try Fixtures.bytes("broken-not-pprof-otlp.bin")) != nil)
    }

    @Test func gzipBombOverTheCap() {
        // 64 MiB of zeros compress to ~64 KiB; with a 1 MiB cap this must stop, not allocate 64 MiB.
        let bomb = gzip([UInt8](repeating: 0, count: 64 << 20))
        #expect(bomb.count < 200_000)
        #expect(decodeError(bomb, limits: DecodeLimits(maxInflatedBytes: 1 << 20)) == .inflatedSizeLimit(limit: 1 << 20))
    }

    @Test func gzipBombWithLyingTrailer() {
        // ISIZE claims 100 bytes; the stream really inflates to 8 MiB: growth stops at the cap.
        var bomb = gzip([UInt8](repeating: 0, count: 8 << 20))
        let n = bomb.count
        bomb[n - 4] = 100
        bomb[n - 3] = 0
        bomb[n - 2] = 0
        bomb[n - 1] = 0
        #expect(decodeError(bomb, limits: DecodeLimits(maxInflatedBytes: 1 << 20)) == .inflatedSizeLimit(limit: 1 << 20))
    }

    @Test func rawProfileOverTheCap() {
        let raw = PprofBuilder().encode()
        #expect(decodeError(raw, limits: DecodeLimits(maxInflatedBytes: 8)) == .inflatedSizeLimit(limit: 8))
    }

    @Test func decodeMemoryCap() {
        var b = PprofBuilder()
        b.samples = Array(repeating: .init(locationIDs: [2, 1], values: [1]), count: 10_000)
        #expect(
            decodeError(b.encode(), limits: DecodeLimits(maxDecodeMemoryBytes: 64 << 10))
                == .decodeMemoryLimit(limit: 64 << 10))
    }

    /// The decoder's up-front bound covers what it writes: 8 bytes per one-byte value, a 24-byte label per
    /// two-byte label field (it counted 4 per byte, so a small gzip could make it write gigabytes).
    @Test func decodeMemoryBoundCoversWhatIsWritten() {
        func profile(sample: [UInt8]) -> [UInt8] {
            var b = PprofBuilder()
            b.samples = []
            var w = ProtobufWriter()
            w.raw(b.encode())
            w.bytes(2, sample)
            return w.bytes
        }
        var values = ProtobufWriter()
        values.packed(1, [1])
        values.packed(2, [UInt64](repeating: 1, count: 200_000))  // 200 KB, 1.6 MB of values
        var labels = ProtobufWriter()
        labels.packed(1, [1])
        labels.packed(2, [1])
        for _ in 0 ..< 100_000 { labels.raw([0x1A, 0x00]) }  // 200 KB, 2.4 MB of labels
        let limit = 1_200_000
        for decoding in [SampleDecoding.handWritten, .protobufC] {
            for bytes in [profile(sample: values.bytes), profile(sample: labels.bytes)] {
                #expect(
                    decodeError(bytes, limits: DecodeLimits(maxDecodeMemoryBytes: limit, sampleDecoding: decoding))
                        == .decodeMemoryLimit(limit: limit))
            }
            let p = try? Profile.decode(profile(sample: labels.bytes), limits: DecodeLimits(maxDecodeMemoryBytes: 16 << 20, sampleDecoding: decoding))
            #expect(p?.labels(ofSample: 0).count == 100_000)
        }
    }

    /// Offsets in the decoded profile are 32-bit: no profile of 2 GiB or more is read, whatever was asked.
    @Test func maxInflatedBytesStaysBelow2GiB() {
        #expect(DecodeLimits.maxInflatedBytesCeiling == Int(Int32.max))
        #expect(DecodeLimits(maxInflatedBytes: 4 << 30).maxInflatedBytes == DecodeLimits.maxInflatedBytesCeiling)
        var limits = DecodeLimits(maxInflatedBytes: 1 << 30)
        #expect(limits.maxInflatedBytes == 1 << 30)
        limits.maxInflatedBytes = .max
        #expect(limits.maxInflatedBytes == DecodeLimits.maxInflatedBytesCeiling)
        #expect(limits == DecodeLimits(maxInflatedBytes: Int(Int32.max)))
    }

    /// Values near Int64's limits: two of 2^62 under one parent would overflow its total later.
    @Test func valueSumsBeyondInt64AreRefused() {
        for decoding in [SampleDecoding.handWritten, .protobufC] {
            let limits = DecodeLimits(sampleDecoding: decoding)
            var b = PprofBuilder()
            b.samples = [.init(locationIDs: [2, 1], values: [1 << 62]), .init(locationIDs: [1], values: [1 << 62])]
            #expect(decodeError(b.encode(), limits: limits) == .valueSumOverflow(sampleType: "cpu/nanoseconds"))
            b.samples = [.init(locationIDs: [1], values: [1 << 62]), .init(locationIDs: [2], values: [-(1 << 62)])]
            #expect(decodeError(b.encode(), limits: limits) == .valueSumOverflow(sampleType: "cpu/nanoseconds"))
            b.samples = [.init(locationIDs: [1], values: [.min])]
            #expect(decodeError(b.encode(), limits: limits) == .valueSumOverflow(sampleType: "cpu/nanoseconds"))
            b.samples = [.init(locationIDs: [1], values: [.max - 1]), .init(locationIDs: [2], values: [-1])]
            #expect(decodeError(b.encode(), limits: limits) == nil)

            // The error names the type whose sum overflows.
            b.strings += ["samples", "count"]
            b.sampleTypes = [(6, 7), (1, 2)]
            b.samples = [.init(locationIDs: [1], values: [1, 1 << 62]), .init(locationIDs: [1], values: [1, 1 << 62])]
            #expect(decodeError(b.encode(), limits: limits) == .valueSumOverflow(sampleType: "cpu/nanoseconds"))
            b.samples = [.init(locationIDs: [1], values: [1 << 62, 1]), .init(locationIDs: [1], values: [1 << 62, 1])]
            #expect(decodeError(b.encode(), limits: limits) == .valueSumOverflow(sampleType: "samples/count"))
        }
        let error = PprofError.valueSumOverflow(sampleType: "cpu/nanoseconds")
        #expect(error.description.contains("cpu/nanoseconds"))
        #expect(error.kind == "bad_profile")
    }

    @Test func locationIDThatDoesNotExist() {
        var b = PprofBuilder()
        b.samples = [.init(locationIDs: [2, 99], values: [1])]
        #expect(
            decodeError(b.encode()) == .invalid(field: "sample[0].location_id[1]", reason: "location id 99 does not exist"))
    }

    @Test func stringIndexOutOfRange() {
        var b = PprofBuilder()
        b.functions[0].name = 77
        #expect(
            decodeError(b.encode())
                == .invalid(field: "function[0].name", reason: "string index 77 out of range (string table has 6 entries)"))
    }

    @Test func valueCountDiffersFromSampleTypes() {
        var b = PprofBuilder()
        b.samples = [.init(locationIDs: [1], values: [1, 2])]
        #expect(
            decodeError(b.encode())
                == .invalid(field: "sample[0].value", reason: "sample has 2 values but the profile has 1 sample types"))
    }

    @Test func functionWithReservedIDZero() throws {
        guard case .invalid(let field, let reason) = decodeError(try Fixtures.bytes("broken-dotnet-function-id0.pb")) else {
            Issue.record("expected invalid")
            return
        }
        #expect(field.hasPrefix("function["))
        #expect(reason.contains("reserved"))
    }

    @Test func duplicateLocationIDs() {
        var b = PprofBuilder()
        b.locations = [.init(id: 5, lines: [(1, 1)]), .init(id: 5, lines: [(2, 1)])]
        b.samples = [.init(locationIDs: [5], values: [1])]
        #expect(decodeError(b.encode()) == .invalid(field: "location[1].id", reason: "duplicate id 5"))
    }

    @Test func lineWithMissingFunction() {
        var b = PprofBuilder()
        b.locations[0].lines = [(9, 1)]
        #expect(
            decodeError(b.encode())
                == .invalid(field: "location[0].line[0].function_id", reason: "function id 9 does not exist"))
    }

    @Test func mappingThatDoesNotExist() {
        var b = PprofBuilder()
        b.locations[0].mappingID = 3
        #expect(
            decodeError(b.encode()) == .invalid(field: "location[0].mapping_id", reason: "mapping id 3 does not exist"))
    }

    @Test func firstStringMustBeEmpty() {
        var b = PprofBuilder()
        b.strings[0] = "x"
        #expect(decodeError(b.encode()) == .invalid(field: "string_table[0]", reason: "must be the empty string"))
    }

    @Test func samplesWithoutSampleTypes() {
        var b = PprofBuilder()
        b.sampleTypes = []
        b.samples = [.init(locationIDs: [1], values: [])]
        guard case .invalid(let field, _) = decodeError(b.encode()) else {
            Issue.record("expected invalid")
            return
        }
        #expect(field == "sample_type")
    }

    @Test func unknownFieldsAreSkipped() throws {
        var w = ProtobufWriter()
        w.int(99, 12345)
        w.bytes(98, Array("future".utf8))
        let bytes = PprofBuilder().encode() + w.bytes
        #expect(try Profile.decode(bytes).sampleCount == 1)
    }

    @Test func errorMessagesAreActionable() {
        #expect(PprofError.inflatedSizeLimit(limit: 10).description.contains("maxInflatedBytes"))
        #expect(PprofError.empty.kind == "bad_profile")
        #expect(PprofError.decodeMemoryLimit(limit: 1).kind == "limit_exceeded")
    }
}
