import Foundation
import JSONCore
import JSONRPC
import ProfileService
import TestSupport
import Testing

/// The service in process, through the same handler `serve` uses: no subprocess, no pipes.
@Suite struct ServiceTests {
    let service: ProfileService
    let handler: ServiceHandler
    let context = RequestContext(id: nil, output: OutputChannel(fd: open("/dev/null", O_WRONLY)))

    init() {
        var config = ServiceConfig()
        config.testMethods = true
        service = ProfileService(config: config)
        handler = ServiceHandler(service: service)
    }

    func call(_ method: String, _ params: JSONValue) async throws(RPCError) -> JSONValue {
        try await handler.handle(method, params, context)
    }

    func profile(_ name: String) throws -> JSONValue {
        ["pprof": .string(Data(try Fixtures.bytes(name)).base64EncodedString())]
    }

    /// One table: every method is registered once, initialize lists exactly the table (test methods aside),
    /// and callResource routes are the table's resource paths.
    @Test func theTableDrivesDispatchInitializeAndRoutes() async throws {
        let names = MethodTable.all.map { $0.name }
        #expect(Set(names).count == names.count)
        let paths = MethodTable.all.compactMap { $0.resourcePath }
        #expect(Set(paths).count == paths.count)
        let listed = try await call("initialize", [:])["methods"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(Set(listed) == Set(names.filter { !$0.hasPrefix("debug.") } + MethodTable.serverNotifications))
        for m in MethodTable.all {
            do {
                _ = try await call(m.name, ["definitely": "wrong", "profile": ["pprof": "x"]])
            } catch {
                #expect(error.code != RPCError.methodNotFoundCode, "\(m.name) is listed but not dispatched")
            }
        }
        let notFound = try await call("callResource", ["path": "/nowhere", "method": "POST"])
        let body = try JSONParser.parse([UInt8](Data(base64Encoded: notFound["body"]!.stringValue!)!))
        #expect(Set(body["routes"]?.arrayValue?.compactMap(\.stringValue) ?? []) == Set(paths))
    }

    /// The method added as the example of "one type plus one table entry".
    @Test func sampleTypesFollowTheOneRule() async throws {
        let r = try await call("profile.sampleTypes", ["profile": profile("dotnet-labels.pb")])
        let types = r["sampleTypes"]?.arrayValue ?? []
        #expect(types.count > 1)
        // pprof's default is the last type (an empty lock time); the commands use the first with values.
        #expect(r["defaultSampleType"] == .int(Int64(types.count - 1)))
        let chosen = Int(r["chosenSampleType"]?.intValue ?? -1)
        #expect(types[chosen]["type"] == "cpu")
        let top = try await call("profile.top", ["profile": profile("dotnet-labels.pb"), "limit": 1])
        #expect(top["sampleType"]?["type"] == "cpu")
    }

    /// Explain reads the profile with the same query as top: sample type, key, focus, labels.
    @Test func explainUsesTheSameQueryAsTop() async throws {
        let p = try profile("go-cpu-fib.pb.gz")
        for query: [String: JSONValue] in [
            ["sampleType": "samples"], ["focus": "runtime\\."], ["ignore": "math/big"], ["key": "function+line"],
        ] {
            var topParams = query
            topParams["profile"] = p
            topParams["limit"] = 1
            var explainParams = query
            explainParams["profile"] = p
            let top = try await call("profile.top", .object(topParams))
            let explained = try await call("flamegraph.explain", .object(explainParams))
            let analysis = explained["analysis"]
            #expect(analysis?["sampleType"] == top["sampleType"], "\(query)")
            #expect(analysis?["total"] == top["total"], "\(query)")
            #expect(analysis?["bottleneck"] == top["rows"]?.arrayValue?.first?["name"], "\(query)")
        }
    }

    /// The cache key: the same profile and params give one key, another profile or another param another key;
    /// a path is never cached.
    @Test func cacheKeysFollowTheSources() async throws {
        let a = InlineProfile(try Fixtures.bytes("go-cpu-fib.pb.gz"))
        let b = InlineProfile(try Fixtures.bytes("go-cpu-benchmark.pb.gz"))
        #expect(a.cacheKey != b.cacheKey)
        #expect(a.cacheKey == InlineProfile(try Fixtures.bytes("go-cpu-fib.pb.gz")).cacheKey)
        #expect(ConfinedFile(path: "x", directory: "/tmp", parameter: "p").cacheKey == nil)
    }

    @Test func levelsInputAndErrorsAreTyped() async throws {
        do {
            _ = try await call("profile.top", ["profile": ["pprof": "AAAA"]])
            Issue.record("garbage decoded")
        } catch let error as RPCError {
            #expect(error.code == RPCError.badProfileCode)
        }
        do {
            _ = try await call("profile.top", ["profile": profile("go-cpu-fib.pb.gz"), "sampleType": "nope"])
            Issue.record("unknown sample type accepted")
        } catch let error as RPCError {
            #expect(error.code == RPCError.badRequestCode)
        }
    }

    /// A diff decodes its profiles two at a time, but the error is the first bad source's in request order
    /// (baseline before comparison, by index within a side), whichever decode finished first.
    @Test func diffDecodesTogetherAndReportsTheFirstBadSourceInOrder() async throws {
        let good = try profile("go-cpu-large.pb.gz")
        let bad: JSONValue = ["pprof": "AAAA"]
        func failure(_ params: JSONValue) async -> String? {
            do {
                _ = try await call("profile.diff", params)
                return nil
            } catch {
                #expect(error.code == RPCError.badProfileCode)
                return error.message
            }
        }
        // baseline[0] (good, slow) and baseline[1] (bad, fast) start together; comparison (bad) waits its turn.
        let both = await failure(["baseline": [good, bad], "comparison": bad])
        #expect(both?.contains("baseline[1]") == true, "\(both ?? "no error")")
        let comparisonOnly = await failure(["baseline": good, "comparison": [good, bad]])
        #expect(comparisonOnly?.contains("comparison[1]") == true, "\(comparisonOnly ?? "no error")")
        // Good sides still diff, with the same answer as before.
        let answer = try await call("profile.diff", ["baseline": [good, good], "comparison": try profile("go-cpu-fib.pb.gz")])
        #expect((answer["functions"]?.intValue ?? 0) > 0)
    }
}
