import ProfileFormats
import ProtoPprof
import TestSupport
import Testing

/// Detection by content: every fixture is recognized from its bytes alone, gzipped or not.
@Suite struct DetectTests {
    static let fixtures: [(String, ProfileFormat)] = [
        ("pyspy-regex.folded", .folded), ("pyspy-json.folded", .folded), ("pyspy-quadratic.folded", .folded),
        ("pyspy-regex.speedscope.json", .speedscope), ("pyspy-json.speedscope.json", .speedscope),
        ("pyspy-quadratic.speedscope.json", .speedscope),
        ("node-regex.cpuprofile", .cpuprofile), ("node-json.cpuprofile", .cpuprofile), ("node-quadratic.cpuprofile", .cpuprofile),
        ("perf-strlen.txt", .perfScript), ("perf-write.txt", .perfScript), ("perf-python-quadratic.txt", .perfScript),
    ]

    @Test(arguments: fixtures)
    func fixtureIsDetectedByContent(_ name: String, _ format: ProfileFormat) throws {
        let bytes = try FormatFixtures.bytes(name)
        #expect(ProfileReader.detect(bytes) == format)
        #expect(ProfileReader.detect(gzip(bytes)) == format, "gzip is looked through")
        let plain = try ProfileReader.decode(bytes)
        let zipped = try ProfileReader.decode(gzip(bytes))
        #expect(plain == zipped)
        #expect(plain == (try ProfileReader.decode(bytes, format: format)))
        expectWellFormed(plain)
        #expect(plain.sampleCount > 0)
    }

    @Test func legacyFixturesAreDetected() throws {
        for name in ["legacy-cpp-cpu.prof", "legacy-go-heap.txt"] {
            let bytes = try Fixtures.bytes(name)
            #expect(ProfileReader.detect(bytes) == .legacyPprof, "\(name)")
            #expect(ProfileReader.detect(gzip(bytes)) == .legacyPprof, "\(name) gzipped")
        }
    }

    /// pprof inputs keep going to the pprof decoder, valid or broken, so its messages are unchanged.
    @Test func pprofFixturesStayPprof() throws {
        for name in try Fixtures.decodableProfiles() {
            let bytes = try Fixtures.bytes(name)
            #expect(ProfileReader.detect(bytes) == .pprof, "\(name)")
            #expect((try ProfileReader.decode(bytes)) == (try Profile.decode(bytes)), "\(name)")
        }
        guard case .pprof(.malformedProtobuf)? = decodeError(try Fixtures.bytes("broken-truncated-protobuf.pb.gz")) else {
            Issue.record("a truncated pprof must fail in the pprof decoder")
            return
        }
        guard case .pprof(.corruptGzip)? = decodeError(try Fixtures.bytes("broken-truncated-gzip.pb.gz")) else {
            Issue.record("a truncated gzip must fail as pprof's corruptGzip")
            return
        }
    }

    @Test func nothingMatchesListsTheFormats() {
        for text in ["hello world\nthis is not a profile\n", "{\"traceEvents\": []}", "\u{0}\u{1}\u{2}\u{3}garbage", "[1, 2, 3]"] {
            #expect(ProfileReader.detect(Array(text.utf8)) == nil, "\(text)")
            let error = decodeError(text)
            #expect(error == .unrecognized(understood: ProfileFormat.allCases), "\(text)")
            let message = error?.description ?? ""
            for format in ProfileFormat.allCases { #expect(message.contains(format.summary)) }
        }
        #expect(decodeError([UInt8]()) == .empty)
        #expect(ProfileReader.detect([]) == nil)
    }

    @Test func formatNamesAndAliases() {
        #expect(ProfileFormat.allCases.map(\.rawValue) == ["pprof", "legacy-pprof", "folded", "cpuprofile", "speedscope", "perf-script"])
        #expect(ProfileFormat(name: "collapsed") == .folded)
        #expect(ProfileFormat(name: "perf") == .perfScript)
        #expect(ProfileFormat(name: "perfScript") == .perfScript)
        #expect(ProfileFormat(name: "legacyPprof") == .legacyPprof)
        #expect(ProfileFormat(name: "chrome") == .cpuprofile)
        #expect(ProfileFormat(name: "nonsense") == nil)
    }

    @Test func explicitFormatOverridesDetection() {
        // A folded file read as speedscope is not JSON: the error says so.
        guard case .malformed(.speedscope, _, let reason)? = decodeError("a;b 1\n", format: .speedscope) else {
            Issue.record("expected a speedscope error")
            return
        }
        #expect(reason.contains("JSON"))
    }

    @Test func errorKinds() {
        #expect(ProfileFormatError.unrecognized(understood: []).kind == "bad_profile")
        #expect(ProfileFormatError.limitExceeded(format: .folded, what: "x", limit: 1).kind == "limit_exceeded")
        #expect(ProfileFormatError.pprof(.inflatedSizeLimit(limit: 1)).kind == "limit_exceeded")
        #expect(
            ProfileFormatError.overflow(format: .folded, sampleType: "samples/count", location: "line 2").description.contains("line 2"))
    }
}
