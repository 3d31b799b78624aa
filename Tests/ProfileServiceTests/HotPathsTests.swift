import FlameDiff
import Foundation
import JSONCore
import JSONRPC
import ProfileService
import TestSupport
import Testing

/// `profile.hotPaths`, the counts `profile.diff` reports beside its rows, and `key` in top tables.
@Suite struct HotPathsTests {
    let handler = ServiceHandler(service: ProfileService())
    let context = RequestContext(id: nil, output: OutputChannel(fd: open("/dev/null", O_WRONLY)))

    func call(_ method: String, _ params: JSONValue) async throws(RPCError) -> JSONValue {
        try await handler.handle(method, params, context)
    }

    func profile(_ name: String) throws -> JSONValue {
        ["pprof": .string(Data(try Fixtures.bytes(name)).base64EncodedString())]
    }

    /// Literal stacks: the heaviest self node's path comes first, root to leaf, with its share.
    @Test func pathsAreRankedBySelfValue() {
        let tree = CallTree(stacks: [(["main", "a", "hot"], 70), (["main", "b", "warm"], 20), (["main", "cold"], 10)])
        let r = HotPathsMethod.render(tree, HotPathsRequest(profile: ProfileRequest(profile: InlineProfile([]))))
        #expect(r.paths.map(\.frames) == [["main", "a", "hot"], ["main", "b", "warm"], ["main", "cold"]])
        #expect(r.paths.map(\.share) == [70, 20, 10])
        #expect(r.text.contains("1. 70.0% 70  main > a > hot\n"))
        #expect(r.pathsAvailable == 3 && r.omittedValue == 0 && !r.text.contains("left out"))
    }

    /// The text never exceeds maxTokens; what did not fit is counted, and long paths keep both ends.
    @Test func theBudgetHoldsAndSaysWhatItLeftOut() async throws {
        let deep = (0 ..< 40).map { "frame\($0)" }
        let tree = CallTree(stacks: [(deep, 50)] + (0 ..< 200).map { (["main", "f\($0)"], Int64(1)) })
        let r = HotPathsMethod.render(
            tree, HotPathsRequest(profile: ProfileRequest(profile: InlineProfile([])), maxPaths: 1000, maxFrames: 6, maxTokens: 600))
        #expect(r.tokenBound <= 600)
        #expect(r.paths.first?.frames == ["frame0", "frame1", "frame36", "frame37", "frame38", "frame39"])
        #expect(r.paths.first?.elidedFrames == 34)
        #expect(r.text.contains("frame1 > … 34 frames … > frame36"))
        #expect(r.paths.count < 201 && r.pathsAvailable == 201)
        #expect(r.text.contains("left out: \(201 - r.paths.count) more paths"))
        #expect(r.omittedValue == Int64(201 - r.paths.count))

        for budget: Int64 in [256, 1000, 5000] {
            let answer = try await call("profile.hotPaths", ["profile": profile("go-cpu-fib.pb.gz"), "maxTokens": .int(budget), "maxPaths": 1000])
            let text = answer["text"]?.stringValue ?? ""
            #expect(text.utf8.count <= Int(budget) && answer["tokenBound"] == .int(Int64(text.utf8.count)))
            #expect(Int(answer["pathsShown"]?.intValue ?? -1) == answer["paths"]?.arrayValue?.count)
        }
    }

    /// The first path of a real profile is the hot path the analysis names, and the method is in the table.
    @Test func theHeaviestPathOfARealProfile() async throws {
        #expect(MethodTable.all.contains { $0.name == "profile.hotPaths" })
        let r = try await call("profile.hotPaths", ["profile": profile("go-cpu-fib.pb.gz")])
        let first = r["paths"]?.arrayValue?.first?["frames"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(first.last == "math/big.addVV")
        #expect(first.first == "main.calculateFib")
        do {
            _ = try await call("profile.hotPaths", ["profile": profile("go-cpu-fib.pb.gz"), "maxTokens": 10])
            Issue.record("a budget under 256 was accepted")
        } catch let error as RPCError {
            #expect(error.code == RPCError.invalidParamsCode)
        }
    }

    /// `key: function+line` groups top rows by line and names them `function file:line`, as the tree does.
    @Test func topHonoursTheKey() async throws {
        let byLine = try await call("profile.top", ["profile": profile("go-cpu-fib.pb.gz"), "key": "function+line", "limit": 0])
        let rows = byLine["rows"]?.arrayValue ?? []
        #expect(!rows.isEmpty && rows.allSatisfy { ($0["name"]?.stringValue ?? "").contains(".go:") || ($0["name"]?.stringValue ?? "").contains(".s:") })
        let byFunction = try await call("profile.top", ["profile": profile("go-cpu-fib.pb.gz"), "limit": 0])
        #expect(byLine["total"] == byFunction["total"])
        #expect((byLine["functions"]?.intValue ?? 0) > (byFunction["functions"]?.intValue ?? 0))
        let top = rows.first?["name"]?.stringValue ?? ""
        #expect(top.hasPrefix("math/big.addVV "))
    }

    /// A diff table says how many functions there were and how many grew and shrank, beyond its limit.
    @Test func diffCountsWhatTheLimitLeftOut() async throws {
        let r = try await call(
            "profile.diff", ["baseline": profile("go-cpu-fib.pb.gz"), "comparison": profile("go-cpu-benchmark.pb.gz"), "limit": 2])
        #expect(r["increases"]?.arrayValue?.count == 2)
        let increasing = r["increasing"]?.intValue ?? 0
        let decreasing = r["decreasing"]?.intValue ?? 0
        #expect(increasing > 2 && decreasing > 2)
        #expect((r["functions"]?.intValue ?? 0) >= increasing + decreasing)
    }
}
