import Foundation
import ProtoPprof
@testable import PyroscopeClient
import TestSupport
import Testing

/// Response decoding in process: valid answers (written with TestSupport's independent protobuf writer) decode to
/// what they hold, and thousands of mutations of them end in a typed error or a value, never a crash.
@Suite struct DecodingFuzzTests {
    static let pprof = PprofBuilder().encode()

    static func binarySeeds() -> [[UInt8]] {
        var types = ProtobufWriter()
        types.message(1) { m in
            m.bytes(1, Array("process_cpu:cpu:nanoseconds:cpu:nanoseconds".utf8))
            m.bytes(2, Array("process_cpu".utf8))
            m.bytes(4, Array("cpu".utf8))
            m.bytes(5, Array("nanoseconds".utf8))
            m.bytes(6, Array("cpu".utf8))
            m.bytes(7, Array("nanoseconds".utf8))
            m.int(99, 7)  // an unknown field is skipped
        }
        var names = ProtobufWriter()
        names.bytes(1, Array("service_name".utf8))
        names.bytes(1, Array("env".utf8))
        var series = ProtobufWriter()
        series.message(2) { set in
            set.message(1) { pair in
                pair.bytes(1, Array("service_name".utf8))
                pair.bytes(2, Array("checkout".utf8))
            }
        }
        var stacktraces = ProtobufWriter()
        stacktraces.message(1) { fg in fg.bytes(1, Array("total".utf8)) }  // a flame graph beside the pprof
        stacktraces.message(5) { wrapper in wrapper.bytes(1, pprof) }
        return [types.bytes, names.bytes, series.bytes, stacktraces.bytes, pprof]
    }

    static let jsonSeeds: [String] = [
        #"{"profileTypes":[{"ID":"memory:alloc_space:bytes:space:bytes","name":"memory","sampleType":"alloc_space","sampleUnit":"bytes","periodType":"space","periodUnit":"bytes"}]}"#,
        #"{"names":["service_name","env"]}"#,
        #"{"labelsSet":[{"labels":[{"name":"service_name","value":"checkout"}]}]}"#,
        #"{"pprof":{"profile":{"sampleType":[{"type":"1","unit":"2"}],"sample":[{"locationId":["2","1"],"value":["5"]}],"location":[{"id":"1","line":[{"functionId":"1","line":"10"}]},{"id":"2","line":[{"functionId":"2","line":"20"}]}],"function":[{"id":"1","name":"3","filename":"5"},{"id":"2","name":"4","filename":"5"}],"stringTable":["","cpu","nanoseconds","main","work","main.go"]}}}"#,
    ]

    @Test func validAnswersDecodeToWhatTheyHold() throws {
        let b = Self.binarySeeds()
        #expect(try QuerierResponse.profileTypes(binary: b[0]) == [
            PyroscopeProfileType(id: "process_cpu:cpu:nanoseconds:cpu:nanoseconds", name: "process_cpu", sampleType: "cpu", sampleUnit: "nanoseconds", periodType: "cpu", periodUnit: "nanoseconds")
        ])
        #expect(try QuerierResponse.names(binary: b[1]) == ["service_name", "env"])
        #expect(try QuerierResponse.series(binary: b[2]) == [PyroscopeSeries(labels: [PyroscopeLabel(name: "service_name", value: "checkout")])])
        #expect(try QuerierResponse.stacktracesPprof(binary: b[3]) == Self.pprof)
        #expect(try QuerierResponse.stacktracesPprof(binary: b[0]) == nil)  // no field 5: an older server's answer
        #expect(try PyroscopeClient.hasSamples(Self.pprof, limit: 1 << 20))
        #expect(try PyroscopeClient.hasSamples(gzip(Self.pprof), limit: 1 << 20))
        #expect(try !PyroscopeClient.hasSamples([], limit: 1 << 20))

        let j = Self.jsonSeeds.map { Array($0.utf8) }
        #expect(try QuerierResponse.profileTypes(json: j[0]).map(\.id) == ["memory:alloc_space:bytes:space:bytes"])
        #expect(try QuerierResponse.names(json: j[1]) == ["service_name", "env"])
        #expect(try QuerierResponse.series(json: j[2])[0]["service_name"] == "checkout")
        #expect(try QuerierResponse.names(json: Array("{}".utf8)) == [])
        // The JSON pprof encodes to a profile equal to the one PprofBuilder writes.
        let fromJSON = try #require(try QuerierResponse.stacktracesPprof(json: j[3]))
        #expect(try Profile.decode(fromJSON) == Profile.decode(Self.pprof))
        #expect(try QuerierResponse.stacktracesPprof(json: j[1]) == nil)
        #expect(try QuerierResponse.stacktracesPprof(json: Array(#"{"pprof":{}}"#.utf8)) == nil)
    }

    static func mutate(_ seed: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = seed
        for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
            let i = b.isEmpty ? 0 : Int.random(in: 0 ..< b.count, using: &rng)
            switch Int.random(in: 0 ..< 7, using: &rng) {
            case 0 where !b.isEmpty: b[i] ^= UInt8(1 << Int.random(in: 0 ..< 8, using: &rng))
            case 1 where !b.isEmpty: b[i] = UInt8.random(in: 0 ... 255, using: &rng)
            case 2: b = Array(b.prefix(i))
            case 3: b.insert(contentsOf: (0 ..< Int.random(in: 1 ... 8, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }, at: i)
            case 4 where !b.isEmpty: b.insert(contentsOf: b[i ..< min(b.count, i + Int.random(in: 1 ... 32, using: &rng))], at: i)
            case 5 where !b.isEmpty: b.removeSubrange(i ..< min(b.count, i + Int.random(in: 1 ... 8, using: &rng)))
            case 6 where !b.isEmpty: b[i] = [0x00, 0x7f, 0x80, 0xff, UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "]")][Int.random(in: 0 ..< 7, using: &rng)]
            default: break
            }
        }
        return b
    }

    @Test func mutatedAnswersEndInTypedErrorsNotCrashes() throws {
        var rng = SplitMix64(seed: 0x5eed_2026)
        let binary = Self.binarySeeds()
        let json = Self.jsonSeeds.map { Array($0.utf8) }
        let started = ContinuousClock.now
        var outcomes = (values: 0, errors: 0)
        func run<T>(_ body: () throws -> T) {
            do {
                _ = try body()
                outcomes.values += 1
            } catch is ProtoDecodeError {
                outcomes.errors += 1
            } catch is PyroscopeError {
                outcomes.errors += 1
            } catch {
                Issue.record("untyped error \(error)")
            }
        }
        for _ in 0 ..< 2500 {
            let b = Self.mutate(binary[Int.random(in: 0 ..< binary.count, using: &rng)], &rng)
            run { try QuerierResponse.profileTypes(binary: b) }
            run { try QuerierResponse.names(binary: b) }
            run { try QuerierResponse.series(binary: b) }
            run { try PyroscopeClient.hasSamples(b, limit: 1 << 20) }
            run { () throws -> Bool in
                guard let p = try QuerierResponse.stacktracesPprof(binary: b) else { return false }
                return try PyroscopeClient.hasSamples(p, limit: 1 << 20)
            }
        }
        for _ in 0 ..< 1500 {
            let j = Self.mutate(json[Int.random(in: 0 ..< json.count, using: &rng)], &rng)
            run { try QuerierResponse.profileTypes(json: j) }
            run { try QuerierResponse.names(json: j) }
            run { try QuerierResponse.series(json: j) }
            run { try QuerierResponse.profile(json: j) }
            run { () throws -> Bool in
                guard let p = try QuerierResponse.stacktracesPprof(json: j) else { return false }
                return try PyroscopeClient.hasSamples(p, limit: 1 << 20)
            }
        }
        #expect(outcomes.values > 0 && outcomes.errors > 0)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func mutatedErrorBodiesAreTypedAndNeverCarryTheSecret() {
        let secret = "glsa_FUZZ_secret_token"
        let call = ConnectCall(config: PyroscopeConfig(endpoint: .direct(url: "http://127.0.0.1:9"), auth: .bearer(Secret(secret), tenant: "t")))
        let seeds = [
            #"{"code":"unauthenticated","message":"invalid credential: Bearer glsa_FUZZ_secret_token"}"#,
            #"{"code":"invalid_argument","message":"no org id"}"#, #"{"message":"Data source not found glsa_FUZZ_secret_token"}"#,
            "404 page not found glsa_FUZZ_secret_token\n", #"{"code":"unavailable","message":"x"}"#,
        ].map { Array($0.utf8) }
        var rng = SplitMix64(seed: 42)
        for _ in 0 ..< 2000 {
            let body = Self.mutate(seeds[Int.random(in: 0 ..< seeds.count, using: &rng)], &rng)
            let status = [400, 401, 403, 404, 429, 500, 501, 502, 503, 504, 418][Int.random(in: 0 ..< 11, using: &rng)]
            let error = call.statusError(status, body)
            #expect(!error.description.contains(secret))
            #expect(!error.kind.isEmpty)
        }
    }
}
