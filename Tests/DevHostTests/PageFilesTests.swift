import Foundation
import TestSupport
import Testing

@testable import DevHost

/// The page's files: an exact list made at start, and raw request paths checked before any lookup.
@Suite struct PageFilesTests {
    static func makePage() throws -> (PageFiles, String) {
        let work = NSTemporaryDirectory() + "pagefiles-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: work + "/page/img", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: work + "/outside", withIntermediateDirectories: true)
        for (path, text) in [
            ("page/index.html", "<!doctype html>"), ("page/app.js", "export {};"), ("page/img/logo.svg", "<svg/>"),
            ("page/README.md", "docs"), ("page/.hidden.js", "x"), ("outside/secret.js", "OUTSIDE"), ("page/inside-target.css", "a{}"),
        ] {
            try text.write(toFile: work + "/" + path, atomically: true, encoding: .utf8)
        }
        try fm.createSymbolicLink(atPath: work + "/page/leak.js", withDestinationPath: work + "/outside/secret.js")
        try fm.createSymbolicLink(atPath: work + "/page/outdir", withDestinationPath: work + "/outside")
        try fm.createSymbolicLink(atPath: work + "/page/alias.css", withDestinationPath: "inside-target.css")
        return (try PageFiles(directory: work + "/page"), work)
    }

    @Test func onlyThePagesOwnFilesAreListed() throws {
        let (page, _) = try Self.makePage()
        #expect(Set(page.files.keys) == ["index.html", "app.js", "img/logo.svg", "inside-target.css", "alias.css"])
        #expect(page.lookup(rawPath: PageFiles.prefix) == .file(path: page.root + "/index.html", contentType: "text/html; charset=utf-8"))
        #expect(
            page.lookup(rawPath: PageFiles.prefix + "app.js")
                == .file(path: page.root + "/app.js", contentType: "text/javascript; charset=utf-8"))
        #expect(page.read(page.root + "/app.js") == Data("export {};".utf8))
        for missing in ["leak.js", "outdir/secret.js", "README.md", ".hidden.js", "img", "img/", "nothing.js"] {
            #expect(page.lookup(rawPath: PageFiles.prefix + missing) != .file(path: "", contentType: ""), "\(missing)")
            if case .file = page.lookup(rawPath: PageFiles.prefix + missing) { Issue.record("\(missing) is served") }
        }
    }

    @Test func escapingPathsAreRefusedBeforeLookup() throws {
        let (page, _) = try Self.makePage()
        for raw in [
            "../../Package.swift", "%2e%2e/%2e%2e/Package.swift", "%2E%2E/x", "..%2f..%2fPackage.swift", "..%2F", "%2e%2e%2fPackage.swift",
            "/etc/passwd", "%2fetc%2fpasswd", "img//logo.svg", "./app.js", "img/./logo.svg", "img/../app.js", "..\\app.js", "..%5capp.js",
            "%252e%252e/app.js", "app.js%00", "%zz", "%",
        ] {
            guard case .refused = page.lookup(rawPath: PageFiles.prefix + raw) else {
                Issue.record("\(raw) was not refused: \(page.lookup(rawPath: PageFiles.prefix + raw))")
                continue
            }
        }
        #expect(page.lookup(rawPath: "/Package.swift") == .notFound)
        #expect(page.lookup(rawPath: "/a/flamegraphai-explain-app") == .notFound)
    }

    @Test func aFileSwappedForASymlinkAfterStartIsNotRead() throws {
        let (page, work) = try Self.makePage()
        let target = page.root + "/app.js"
        try FileManager.default.removeItem(atPath: target)
        try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: work + "/outside/secret.js")
        #expect(page.read(target) == nil)
    }

    @Test func base64MatchesFoundation() {
        for n in [0, 1, 2, 3, 4, 5, 100, 1001] {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }
            #expect(String(decoding: Base64.encode(bytes), as: UTF8.self) == Data(bytes).base64EncodedString(), "\(n)")
        }
    }
}

/// The JSON-RPC client against a real `serve` child: ids matched in any order, progress routed to its request,
/// cancellation sent as `$/cancelRequest`, a killed child restarted.
@Suite struct BackendTests {
    static func backend() -> Backend {
        Backend(options: .init(executable: Fixtures.executable.path, arguments: []), recorder: nil, log: { _ in })
    }

    static var fib: JSONValue {
        let bytes = try! Fixtures.bytes("go-cpu-fib.pb.gz")
        return ["pprof": .string(Data(bytes).base64EncodedString())]
    }

    @Test func concurrentCallsGetTheirOwnAnswers() async throws {
        let b = Self.backend()
        try await b.start()
        let limits = [1, 2, 3, 4, 5, 6, 7, 8]
        let rows = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for n in limits {
                group.addTask {
                    let (result, _) = try await b.call("profile.top", ["profile": Self.fib, "limit": .int(Int64(n))])
                    return (n, result["rows"]?.arrayValue?.count ?? -1)
                }
            }
            var out: [Int: Int] = [:]
            for try await (n, count) in group { out[n] = count }
            return out
        }
        #expect(rows == Dictionary(uniqueKeysWithValues: limits.map { ($0, $0) }))
        await b.stop()
    }

    @Test func progressGoesToItsRequest() async throws {
        let b = Self.backend()
        try await b.start()
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var values: [JSONValue] = []
        }
        let seen = Seen()
        let (result, restarted) = try await b.call("profile.flamegraph", ["profile": Self.fib, "progress": true]) { value in
            seen.lock.lock()
            seen.values.append(value)
            seen.lock.unlock()
        }
        #expect(result["flamegraph"] != nil)
        #expect(!restarted)
        #expect(!seen.values.isEmpty)
        await b.stop()
    }

    @Test func anErrorAnswerIsTyped() async throws {
        let b = Self.backend()
        try await b.start()
        await #expect(throws: BackendError.self) { try await b.call("profile.top", ["profile": ["pprof": "bm90IGEgcHJvZmlsZQ=="]]) }
        await #expect(throws: BackendError.self) { try await b.call("no.such.method", [:]) }
        await b.stop()
    }
}
