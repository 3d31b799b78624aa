import ProtoPprof
import TestSupport
import Testing

@Suite struct DecodeTests {
    @Test func decodesBuiltProfile() throws {
        let p = try Profile.decode(PprofBuilder().encode())
        #expect(p.sampleTypes == [ValueType(type: "cpu", unit: "nanoseconds")])
        #expect(p.sampleCount == 1)
        #expect(Array(p.locations(ofSample: 0)) == [1, 0])  // dense indexes, leaf first
        #expect(p.value(ofSample: 0, type: 0) == 5)
        #expect(p.strings[Int(p.functions[1].name)] == "work")
    }

    @Test func gzipAndRawDecodeTheSame() throws {
        let raw = try Profile.decode(Fixtures.bytes("go-cpu-uncompressed.pb"))
        let gz = try Profile.decode(Fixtures.bytes("go-cpu-pyroscope.pb.gz"))
        #expect(raw.sampleCount == gz.sampleCount)
        #expect(raw.sampleValues == gz.sampleValues)
        #expect(raw.stackLocations == gz.stackLocations)
        #expect(raw.sampleStacks == gz.sampleStacks)
        #expect(raw.strings == gz.strings)
    }

    @Test func keepsMetadata() throws {
        let p = try Profile.decode(Fixtures.bytes("go-cpu-large.pb.gz"))
        #expect(p.sampleTypes.map(\.description) == ["samples/count", "cpu/nanoseconds"])
        #expect(p.defaultSampleTypeIndex == 1)
        #expect(p.periodType == ValueType(type: "cpu", unit: "nanoseconds"))
        #expect(p.period == 10_000_000)
        #expect((240_355_000_000 ..< 240_365_000_000).contains(p.durationNanos))  // pprof prints 240.36s
        #expect(p.sampleCount == 20430)
        #expect(p.locations.count == 23355)
        #expect(p.total(ofType: 1) == 240_290_000_000)
    }

    @Test func inlinedLinesKeepPprofOrder() throws {
        let p = try Profile.decode(Fixtures.bytes("go-cpu-inlined.pb.gz"))
        let inlined = p.locations.filter { $0.lineCount > 1 }
        #expect(inlined.count == 9)
        // The last line is the caller: for an inlined math.Abs the caller is a main function.
        let names = inlined.map { l in l.lineRange.map { p.strings[Int(p.functions[Int(p.lines[$0].function)].name)] } }
        #expect(names.contains { $0.first == "math.Abs" })
    }

    @Test func stringAndNumericLabels() throws {
        let p = try Profile.decode(Fixtures.bytes("go-cpu-labels.pb.gz"))
        let keys = Set(p.labels.map { p.strings[Int($0.key)] })
        #expect(keys == ["foo", "function", "profile_id"])
        #expect(p.labels(ofSample: 0).count == 3)
    }

    @Test func invalidUTF8NamesAreKeptNotCut() throws {
        let p = try Profile.decode(Fixtures.bytes("edge-invalid-utf8.pb.gz"))
        // A name holding every byte 0x00...0xff must not be cut at its first NUL byte.
        #expect(p.strings.contains { $0.utf8.count > 200 && $0.hasPrefix("\u{0}\u{1}") })
    }

    @Test func stacksAndLabelSetsAreInterned() throws {
        var b = PprofBuilder()
        b.strings += ["span", "a", "b"]
        b.samples = [
            .init(locationIDs: [2, 1], values: [1], labels: [(key: 6, str: 7, num: 0)]),
            .init(locationIDs: [1], values: [2]),
            .init(locationIDs: [2, 1], values: [3], labels: [(key: 6, str: 8, num: 0)]),
            .init(locationIDs: [2, 1], values: [4], labels: [(key: 6, str: 7, num: 0)]),
        ]
        for decoding in [SampleDecoding.handWritten, .protobufC] {
            let p = try Profile.decode(b.encode(), limits: DecodeLimits(sampleDecoding: decoding))
            #expect(p.stackCount == 2)
            #expect(p.sampleStacks == [0, 1, 0, 0])
            #expect(p.labelSetCount == 3)  // the empty set and two others
            #expect(p.sampleLabelSets == [1, 0, 2, 1])
            #expect(p.strings[Int(p.labels(ofSample: 2).first!.str)] == "b")
            #expect(Array(p.locations(ofSample: 3)) == [1, 0])
        }
    }

    @Test func internsDuplicateStrings() throws {
        var b = PprofBuilder()
        b.strings.append("main")  // index 6 duplicates index 3
        b.functions[1].name = 6
        let p = try Profile.decode(b.encode())
        #expect(p.functions[0].name == p.functions[1].name)
    }

    @Test func sparseIDsResolve() throws {
        var b = PprofBuilder()
        b.locations = [
            .init(id: 1_000_000_007, lines: [(1, 1)]), .init(id: 42, lines: [(2, 2)]),
        ]
        b.samples = [.init(locationIDs: [42, 1_000_000_007], values: [3])]
        let p = try Profile.decode(b.encode())
        #expect(Array(p.locations(ofSample: 0)) == [1, 0])
    }

    @Test func defaultSampleTypeIsNamedElseLast() throws {
        var b = PprofBuilder()
        b.strings += ["samples", "count"]
        b.sampleTypes = [(6, 7), (1, 2)]
        b.samples = [.init(locationIDs: [1], values: [1, 2])]
        #expect(try Profile.decode(b.encode()).defaultSampleTypeIndex == 1)
        b.defaultSampleType = 6
        #expect(try Profile.decode(b.encode()).defaultSampleTypeIndex == 0)
    }
}

/// The hand-written sample decoder and protobuf-c give the same profile, fixture by fixture.
@Suite struct DecoderEquivalenceTests {
    static let files: [String] = (try? Fixtures.decodableProfiles()) ?? []

    @Test(arguments: files)
    func handWrittenEqualsProtobufC(_ file: String) throws {
        let bytes = try Fixtures.bytes(file)
        let fast = try Profile.decode(bytes, limits: DecodeLimits(sampleDecoding: .handWritten))
        let reference = try Profile.decode(bytes, limits: DecodeLimits(sampleDecoding: .protobufC))
        #expect(fast == reference)
    }

    @Test func unpackedRepeatedFieldsDecode() throws {
        // proto3 writers may emit repeated scalars unpacked; both forms are valid on the wire.
        var w = ProtobufWriter()
        w.message(1) { m in m.int(1, 1); m.int(2, 2) }
        w.message(2) { m in m.uint(1, 2); m.uint(1, 1); m.int(2, 7) }
        w.message(4) { m in m.uint(1, 1); m.message(4) { l in l.uint(1, 1) } }
        w.message(4) { m in m.uint(1, 2); m.message(4) { l in l.uint(1, 2) } }
        w.message(5) { m in m.uint(1, 1); m.int(2, 3) }
        w.message(5) { m in m.uint(1, 2); m.int(2, 4) }
        for s in ["", "cpu", "nanoseconds", "main", "work"] { w.bytes(6, Array(s.utf8)) }
        let p = try Profile.decode(w.bytes)
        #expect(Array(p.locations(ofSample: 0)) == [1, 0])
        #expect(p.sampleValues == [7])
        #expect(p == (try Profile.decode(w.bytes, limits: DecodeLimits(sampleDecoding: .protobufC))))
    }

    @Test func byteCachesHandleSplitStacksAndInterleavedLabels() throws {
        // The decoder caches stacks and label sets by raw bytes; these samples reuse the same bytes in
        // ways the cache must not be fooled by: a stack continued by another field, labels split by values.
        var w = ProtobufWriter()
        w.message(1) { m in m.int(1, 1); m.int(2, 2) }
        func label(_ m: inout ProtobufWriter, _ str: Int64) { m.message(3) { l in l.int(1, 5); l.int(2, str) } }
        w.message(2) { m in m.packed(1, [2, 1]); m.int(2, 1); label(&m, 6) }
        w.message(2) { m in m.packed(1, [2, 1]); m.uint(1, 1); m.int(2, 2); label(&m, 6) }  // same bytes, longer stack
        w.message(2) { m in m.packed(1, [2, 1]); label(&m, 6); m.int(2, 3); label(&m, 7) }  // same label run, then more
        w.message(2) { m in m.packed(1, [2, 1]); m.int(2, 4); label(&m, 6) }
        w.message(4) { m in m.uint(1, 1); m.message(4) { l in l.uint(1, 1) } }
        w.message(4) { m in m.uint(1, 2); m.message(4) { l in l.uint(1, 2) } }
        w.message(5) { m in m.uint(1, 1); m.int(2, 3) }
        w.message(5) { m in m.uint(1, 2); m.int(2, 4) }
        for s in ["", "cpu", "nanoseconds", "main", "work", "k", "v1", "v2"] { w.bytes(6, Array(s.utf8)) }
        let fast = try Profile.decode(w.bytes)
        let reference = try Profile.decode(w.bytes, limits: DecodeLimits(sampleDecoding: .protobufC))
        #expect(fast == reference)
        #expect(Array(fast.locations(ofSample: 1)) == [1, 0, 0])
        #expect(fast.labels(ofSample: 2).count == 2)
        #expect(fast.sampleStacks == [0, 1, 0, 0])
        #expect(fast.sampleLabelSets == [1, 1, 2, 1])
    }

    @Test func truncatedSampleIsMalformed() throws {
        var bytes = PprofBuilder().encode()
        // Cut inside the first sample message: its length now runs past the end.
        let sampleTag = bytes.firstIndex(of: 0x12)!
        bytes = Array(bytes[..<(sampleTag + 3)])
        #expect(throws: PprofError.self) { try Profile.decode(bytes) }
    }

    @Test func labelStringIndexOutOfRangeNamesTheLabel() throws {
        var b = PprofBuilder()
        b.samples = [.init(locationIDs: [1], values: [1], labels: [(key: 3, str: 99, num: 0)])]
        #expect(throws: PprofError.invalid(field: "sample[0].label[0].str", reason: "string index 99 out of range (string table has 6 entries)")) {
            try Profile.decode(b.encode())
        }
    }
}
