import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `flamegraph-ai dev` over real HTTP on 127.0.0.1 (a raw socket client, so requests go out exactly as written):
/// the Host, token and Origin rules, the page's files and nothing else, uploads, the resource and health
/// mapping onto the `serve` child, and its restart.
@Suite(.serialized) struct DevHostHTTPTests {
    /// One host for the suite: FILE and CMP outside --profiles, a page folder with symlinks that lead out, an LLM
    /// test server as the model (its request count shows what reached it), uploads capped at 2 MB.
    final class Fixture: @unchecked Sendable {
        let llm: LLMTestServer
        let host: DevHostProcess
        let work: String

        init() throws {
            llm = try LLMTestServer()
            work = NSTemporaryDirectory() + "devhost-\(UUID().uuidString)"
            let fm = FileManager.default
            try fm.createDirectory(atPath: work + "/outside", withIntermediateDirectories: true)
            try "window.__leak = 'OUTSIDE-SECRET';\n".write(toFile: work + "/outside/secret.js", atomically: true, encoding: .utf8)
            try fm.copyItem(atPath: Fixtures.packageRoot.appendingPathComponent("frontend-stub").path, toPath: work + "/page")
            try fm.createSymbolicLink(atPath: work + "/page/leak.js", withDestinationPath: work + "/outside/secret.js")
            try fm.createSymbolicLink(atPath: work + "/page/outdir", withDestinationPath: work + "/outside")
            let interpret = Fixtures.root.appendingPathComponent("interpret")
            host = try DevHostProcess(
                [
                    interpret.appendingPathComponent("service-base.pb.gz").path, "--vs",
                    interpret.appendingPathComponent("service-regex.pb.gz").path,
                    "--profiles", Fixtures.root.appendingPathComponent("profiles").path, "--page-dir", work + "/page",
                    "--llm-url", llm.baseURL, "--llm-mode", "openai", "--llm-model", "test-model", "--max-upload-mb", "2",
                ], environment: ["FLAMEGRAPH_AI_LLM_API_KEY": llm.token])
        }
    }

    nonisolated(unsafe) static var shared: Fixture?
    static func fixture() throws -> Fixture {
        if let shared { return shared }
        let f = try Fixture()
        shared = f
        return f
    }

    @Test func hostHeaderMustNameThisMachine() throws {
        let h = try Self.fixture().host
        for badHost in [
            "evil.example:\(h.port)", "evil.example", "localhost:1", "127.0.0.1.evil.example:\(h.port)", "127.0.0.1:\(h.port)@evil",
        ] {
            for path in [DevHostProcess.page + "?token=\(h.token!)", DevHostProcess.api + "/profiles"] {
                let r = try RawHTTP.request(port: h.port, "GET \(path) HTTP/1.1\r\nHost: \(badHost)\r\nCookie: \(h.cookie)")
                #expect(r.status == 403, "Host \(badHost) \(path): \(r)")
                #expect(!r.text.contains("service-base"), "\(r)")
                #expect(r.text.split(separator: "\n").count == 1, "a one-line reason: \(r.text)")
            }
        }
        let none = try RawHTTP.request(port: h.port, "GET \(DevHostProcess.api)/profiles HTTP/1.1\r\nCookie: \(h.cookie)")
        #expect(none.status == 403)
        for goodHost in ["127.0.0.1:\(h.port)", "localhost:\(h.port)", "LOCALHOST:\(h.port)", "[::1]:\(h.port)"] {
            let r = try RawHTTP.request(
                port: h.port, "GET \(DevHostProcess.api)/profiles HTTP/1.1\r\nHost: \(goodHost)\r\nCookie: \(h.cookie)")
            #expect(r.status == 200, "Host \(goodHost): \(r)")
        }
    }

    @Test func theTokenIsNeededAndKeptInAStrictCookie() throws {
        let h = try Self.fixture().host
        let noCookie = try RawHTTP.request(port: h.port, "GET \(DevHostProcess.api)/profiles HTTP/1.1\r\nHost: \(h.host)")
        #expect(noCookie.status == 403)
        #expect((json(noCookie)["error"] as? String)?.contains("token") == true, "\(noCookie)")
        let wrongCookie = try RawHTTP.request(
            port: h.port,
            "GET \(DevHostProcess.api)/profiles HTTP/1.1\r\nHost: \(h.host)\r\nCookie: flamegraph_ai_token_\(h.port)=\(String(repeating: "0", count: 64))"
        )
        #expect(wrongCookie.status == 403)
        // the API takes no token in the URL: only the page does, once
        let apiQuery = try RawHTTP.request(port: h.port, "GET \(DevHostProcess.api)/profiles?token=\(h.token!) HTTP/1.1\r\nHost: \(h.host)")
        #expect(apiQuery.status == 403)
        #expect(try RawHTTP.request(port: h.port, "GET \(DevHostProcess.page) HTTP/1.1\r\nHost: \(h.host)").status == 403)
        #expect(try RawHTTP.request(port: h.port, "GET \(DevHostProcess.page)?token=nope HTTP/1.1\r\nHost: \(h.host)").status == 403)

        let first = try RawHTTP.request(
            port: h.port, "GET \(DevHostProcess.page)?open=go-cpu-fib.pb.gz&token=\(h.token!) HTTP/1.1\r\nHost: \(h.host)")
        #expect(first.status == 303, "\(first)")
        let cookie = first.headers["set-cookie"] ?? ""
        #expect(cookie.hasPrefix("flamegraph_ai_token_\(h.port)=\(h.token!);"), "\(cookie)")
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "\(cookie)")
        #expect(first.headers["location"] == DevHostProcess.page + "?open=go-cpu-fib.pb.gz", "the token leaves the address bar: \(first)")

        let page = try h.pageRequest("GET", DevHostProcess.page)
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.text.contains("<script type=\"module\" src=\"app.js\">"))
        let csp = page.headers["content-security-policy"] ?? ""
        #expect(
            csp.contains("script-src 'self';") && csp.contains("connect-src 'self'") && csp.contains("frame-ancestors 'none'"), "\(csp)")
        #expect(page.headers["x-content-type-options"] == "nosniff")
        #expect(page.headers["x-frame-options"] == "DENY")
        #expect(!page.headers.keys.contains { $0.hasPrefix("access-control-") }, "no CORS headers: \(page.headers)")
        let script = try h.pageRequest("GET", DevHostProcess.page + "app.js")
        #expect(script.status == 200 && script.headers["content-type"] == "text/javascript; charset=utf-8")
        let preflight = try h.pageRequest(
            "OPTIONS", DevHostProcess.api + "/explain", extra: ["Origin: http://evil.example", "Access-Control-Request-Method: POST"])
        #expect(!preflight.headers.keys.contains { $0.hasPrefix("access-control-") }, "\(preflight)")
    }

    @Test func crossSitePostsNeverReachTheModel() throws {
        let f = try Self.fixture()
        let h = f.host
        let body = #"{"profile": {"name": "go-cpu-fib.pb.gz"}}"#
        // The page's own request reaches the model (the settings path works)…
        let before = try f.llm.requestCount()
        let own = try h.postJSON("/explain", body)
        #expect(own.status == 200, "\(own)")
        // (The test server echoes the prompt, which the quality gate rejects: a verdict says the model answered.)
        #expect((json(own)["quality"] as? [String: Any])?["verdict"] as? String == "reject", "\(own.text.prefix(400))")
        let reached = try f.llm.requestCount()
        #expect(reached > before)
        // …other origins are refused before anything is computed.
        let cases: [[String]] = [
            ["Origin: http://evil.example", "Sec-Fetch-Site: cross-site"],
            ["Origin: http://evil.example"],
            ["Origin: null"],
            ["Origin: http://localhost:\(h.port)"],  // another of our names is another origin
            ["Origin: \(h.origin)", "Sec-Fetch-Site: cross-site"],
            ["Origin: \(h.origin)", "Sec-Fetch-Site: same-site"],
            [],  // no Origin at all
        ]
        for headers in cases {
            var head = [
                "POST \(DevHostProcess.api)/explain HTTP/1.1", "Host: \(h.host)", "Cookie: \(h.cookie)", "Content-Type: application/json",
            ]
            head += headers
            let r = try RawHTTP.request(port: h.port, head.joined(separator: "\r\n"), body: Array(body.utf8))
            #expect(r.status == 403, "\(headers): \(r)")
            #expect(json(r)["error"] is String)
        }
        for route in ["/explainDiff", "/explain/followUp", "/upload", "/flamegraph"] {
            let r = try RawHTTP.request(
                port: h.port,
                "POST \(DevHostProcess.api)\(route) HTTP/1.1\r\nHost: \(h.host)\r\nCookie: \(h.cookie)\r\nOrigin: http://evil.example\r\nContent-Type: application/json",
                body: Array(body.utf8))
            #expect(r.status == 403, "\(route): \(r)")
        }
        #expect(try f.llm.requestCount() == reached, "a refused request reached the model")
    }

    /// The page's explain POST with `Accept: application/x-ndjson`: a chunked answer of `delta` lines (the child's
    /// `$/progress`) and one `end` line with the resource's status and body; the same Origin rule as ever.
    @Test func anExplainAskedForNDJSONStreamsDeltasThenTheResult() throws {
        let f = try Self.fixture()
        let h = f.host
        let body = #"{"profile": {"name": "go-cpu-fib.pb.gz"}}"#
        let r = try h.postJSON("/explain", body, extra: ["Accept: application/x-ndjson, application/json"])
        #expect(r.status == 200, "\(r)")
        #expect(r.headers["content-type"]?.hasPrefix("application/x-ndjson") == true)
        #expect(r.headers["transfer-encoding"] == "chunked")
        let chunks = Self.dechunk([UInt8](r.body))
        let lines = chunks.joined().split(separator: UInt8(ascii: "\n")).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
        }
        let deltas = lines.filter { $0["event"] as? String == "delta" }.compactMap { $0["text"] as? String }
        #expect(deltas.count > 3)
        #expect(deltas.joined().hasPrefix("echo: "))
        // Written as they came: more than one HTTP chunk, and the result last.
        #expect(chunks.count > 3)
        let end = try #require(lines.last)
        #expect(end["event"] as? String == "end" && end["status"] as? Int == 200, "\(end)")
        let result = try #require(end["body"] as? [String: Any])
        // The test server echoes the prompt, which the answer-quality gate rejects: the result is the offline
        // answer with the gate's verdict, after the model's streamed text.
        #expect((result["quality"] as? [String: Any])?["verdict"] as? String == "reject", "\(result.keys.sorted())")
        #expect((result["fallback"] as? [String: Any])?["reason"] as? String == "low_quality" && result["sections"] is [String: Any])
        // An error of the routed method is the end line's status and body.
        let bad = try h.postJSON("/explain", #"{"profile": {"name": "go-cpu-fib.pb.gz"}, "subtree": []}"#, extra: ["Accept: application/x-ndjson"])
        let badEnd = Self.dechunk([UInt8](bad.body)).joined().split(separator: UInt8(ascii: "\n")).last.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
        }
        #expect(badEnd?["status"] as? Int == 400 && ((badEnd?["body"] as? [String: Any])?["error"] as? String)?.contains("subtree") == true)
        let foreign = try RawHTTP.request(
            port: h.port,
            "POST \(DevHostProcess.api)/explain HTTP/1.1\r\nHost: \(h.host)\r\nCookie: \(h.cookie)\r\nOrigin: http://evil.example\r\nAccept: application/x-ndjson\r\nContent-Type: application/json",
            body: Array(body.utf8))
        #expect(foreign.status == 403)
    }

    /// The chunks of a chunked body.
    static func dechunk(_ body: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < body.count {
            guard let eol = body[i...].firstIndex(of: UInt8(ascii: "\r")), let size = Int(String(decoding: body[i ..< eol], as: UTF8.self), radix: 16),
                size > 0, eol + 2 + size <= body.count
            else { break }
            out.append(Array(body[(eol + 2) ..< (eol + 2 + size)]))
            i = eol + 2 + size + 2
        }
        return out
    }

    @Test func staticFilesNeverComeFromOutsideThePage() throws {
        let h = try Self.fixture().host
        let p = DevHostProcess.page
        let attempts = [
            p + "../../Package.swift", p + "../../../../../../etc/passwd", p + "%2e%2e/%2e%2e/Package.swift",
            p + "%2E%2E/%2E%2E/Package.swift",
            p + "..%2f..%2fPackage.swift", p + "..%2F..%2F..%2F..%2Fetc%2Fpasswd", p + "%2e%2e%2f%2e%2e%2fPackage.swift",
            p + "%252e%252e/Package.swift",
            p + "..\\..\\Package.swift", p + "..%5c..%5cPackage.swift", p + "/etc/passwd", p + "%2fetc%2fpasswd", p + "//etc/passwd",
            p + "./../../Package.swift", p + "img/../../../Package.swift", p + "%00index.html", p + "index.html%00.js", p + "leak.js",
            p + "outdir/secret.js", p + "README.md", p + "img/", p + "img", p + ".", "/Package.swift", "/etc/passwd",
            "/a/flamegraphai-explain-app/../../Package.swift", "/a/../Package.swift", "/%2e%2e/Package.swift",
        ]
        for path in attempts {
            let r = try h.pageRequest("GET", path)
            #expect(r.status == 400 || r.status == 404, "\(path): \(r)")
            for leaked in ["OUTSIDE-SECRET", "PackageDescription", "root:x:0", "<script"] {
                #expect(!r.text.contains(leaked), "\(path) leaked \(leaked)")
            }
        }
        let logo = try h.pageRequest("GET", p + "img/logo.svg")
        #expect(logo.status == 200 && logo.headers["content-type"] == "image/svg+xml", "\(logo)")
        #expect(try h.pageRequest("POST", p + "index.html").status == 405)
    }

    @Test func anOversizedUploadIsRefusedBeforeItsBodyIsRead() throws {
        let h = try Self.fixture().host
        for length in [2_000_001, 10_000_000_000] {
            let fd = try RawHTTP.connect(port: h.port, timeoutSeconds: 10)
            defer { close(fd) }
            // Only the head: a host that waited for the body would never answer.
            let head = [
                "POST \(DevHostProcess.api)/upload?filename=big.pb.gz HTTP/1.1", "Host: \(h.host)", "Cookie: \(h.cookie)",
                "Origin: \(h.origin)",
                "Content-Type: application/octet-stream", "Content-Length: \(length)", "", "",
            ]
            let started = ContinuousClock.now
            try RawHTTP.write(fd, Array(head.joined(separator: "\r\n").utf8))
            let r = try RawHTTP.readResponse(fd)
            #expect(r.status == 413, "\(r)")
            #expect((json(r)["error"] as? String)?.contains("2.0 MB") == true, "\(r)")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
        // No Content-Length (a chunked body): refused, as its size cannot be checked first.
        let fd = try RawHTTP.connect(port: h.port, timeoutSeconds: 10)
        defer { close(fd) }
        let head = [
            "POST \(DevHostProcess.api)/upload HTTP/1.1", "Host: \(h.host)", "Cookie: \(h.cookie)", "Origin: \(h.origin)",
            "Transfer-Encoding: chunked", "", "",
        ]
        try RawHTTP.write(fd, Array(head.joined(separator: "\r\n").utf8))
        let chunked = try RawHTTP.readResponse(fd)
        #expect(chunked.status == 411, "\(chunked)")
    }

    @Test func anUploadIsSentOnceAndNamedAfterwards() throws {
        let h = try Self.fixture().host
        let bytes = try Fixtures.bytes("go-cpu-fib.pb.gz")
        let up = try h.pageRequest(
            "POST", DevHostProcess.api + "/upload?filename=go-cpu-fib.pb.gz", body: bytes, contentType: "application/octet-stream")
        #expect(up.status == 200, "\(up)")
        let name = try #require(json(up)["name"] as? String)
        #expect(name.hasPrefix("upload-"))
        #expect(json(up)["bytes"] as? Int == bytes.count)
        let fg = try h.postJSON("/flamegraph", #"{"profile": {"name": "\#(name)"}, "maxNodes": 8192}"#)
        #expect(fg.status == 200, "\(fg)")
        let names = (json(fg)["flamegraph"] as? [String: Any])?["names"] as? [String] ?? []
        #expect(names.contains("math/big.addVV"))
        let top = try h.postJSON("/top", #"{"profile": {"name": "\#(name)"}, "limit": 5}"#)
        #expect(((json(top)["rows"] as? [[String: Any]])?.first?["name"] as? String) == "math/big.addVV", "\(top)")
        #expect(try h.postJSON("/info", #"{"profile": {"name": "\#(name)"}}"#).status == 200)
        // paths are the host's business; unknown names are told apart from expired uploads
        let path = try h.postJSON("/top", #"{"profile": {"path": "go-cpu-fib.pb.gz"}}"#)
        #expect(path.status == 400 && (json(path)["error"] as? String)?.contains("{name}") == true, "\(path)")
        #expect(try h.postJSON("/top", #"{"profile": {"name": "../../etc/passwd"}}"#).status == 404)
        #expect(try h.postJSON("/top", #"{"profile": {"name": "upload-0000000000000000"}}"#).status == 404)
        #expect(try h.postJSON("/nope", "{}").status == 404)
        #expect(try h.pageRequest("GET", DevHostProcess.api + "/top").status == 405)
    }

    @Test func profilesSessionAndDiffByName() throws {
        let h = try Self.fixture().host
        let list = ((json(try h.pageRequest("GET", DevHostProcess.api + "/profiles"))["profiles"] as? [[String: Any]]) ?? []).compactMap {
            $0["name"] as? String
        }
        #expect(Array(list.prefix(2)) == ["service-base.pb.gz", "service-regex.pb.gz"], "\(list.prefix(5))")
        #expect(list.contains("go-cpu-fib.pb.gz"))
        let session = json(try h.pageRequest("GET", DevHostProcess.api + "/session"))
        let open = session["open"] as? [String: Any]
        #expect((open?["profile"] as? [String: Any])?["name"] as? String == "service-base.pb.gz")
        #expect((open?["vs"] as? [String: Any])?["name"] as? String == "service-regex.pb.gz")
        #expect((session["limits"] as? [String: Any])?["maxUploadBytes"] as? Int == 2_000_000)
        let diff = try h.postJSON(
            "/diff",
            #"{"baseline": {"name": "service-base.pb.gz"}, "comparison": {"name": "service-regex.pb.gz"}, "format": "levels", "maxNodes": 8192}"#
        )
        #expect(diff.status == 200, "\(diff)")
        #expect(((json(diff)["flamegraph"] as? [String: Any])?["names"] as? [String])?.contains("regexp.MustCompile") == true)
    }

    @Test func healthIsTheBackendsCheckHealth() throws {
        let h = try Self.fixture().host
        let r = try h.pageRequest("GET", "/api/plugins/flamegraphai-explain-app/health")
        #expect(r.status == 200, "\(r)")
        let body = json(r)
        #expect(body["status"] as? String == "OK")
        let gateway = (body["details"] as? [String: Any])?["llmGateway"] as? [String: Any]
        #expect(gateway?["configured"] as? Bool == true && gateway?["ok"] as? Bool == true, "\(r)")
        #expect(!r.text.contains("test-token"), "the key is never echoed")
    }

    /// Last: kills the child.
    @Test func aKilledBackendIsRestartedAndTheNextAnswerSaysSo() throws {
        let h = try Self.fixture().host
        #expect(try h.postJSON("/top", #"{"profile": {"name": "go-cpu-fib.pb.gz"}}"#).status == 200)
        let first = try #require(h.childPID())
        kill(first, SIGKILL)
        var waited = 0
        while kill(first, 0) == 0 && waited < 100 {
            usleep(50_000)
            waited += 1
        }
        usleep(200_000)
        let next = try h.postJSON("/top", #"{"profile": {"name": "go-cpu-fib.pb.gz"}}"#)
        #expect(next.status == 200, "\(next)")
        #expect(next.headers["x-backend-restarted"] == "1", "\(next.headers)")
        let after = try h.postJSON("/top", #"{"profile": {"name": "go-cpu-fib.pb.gz"}}"#)
        #expect(after.status == 200 && after.headers["x-backend-restarted"] == nil)
        let second = try #require(h.childPID())
        #expect(second != first)
        #expect(h.log.contains("was killed by signal 9"), "\(h.log)")
    }
}

/// `--record`: the JSON-RPC traffic to the child as `serve --record` writes it (0600, secrets redacted), so a
/// browser session replays; and a browser that goes away cancels its backend request (`$/cancelRequest`).
@Suite(.serialized) struct DevHostRecordTests {
    static func lines(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    @Test func aRecordedSessionReplaysAndHoldsNoSecret() throws {
        let prefix = NSTemporaryDirectory() + "dev-record-\(UUID().uuidString)"
        let profiles = Fixtures.root.appendingPathComponent("profiles").path
        let key = "sk-recorded-secret-4711"
        let h = try DevHostProcess(
            ["--profiles", profiles, "--record", prefix, "--llm-url", "http://127.0.0.1:9", "--llm-mode", "openai"],
            environment: ["FLAMEGRAPH_AI_LLM_API_KEY": key])
        let up = try h.pageRequest(
            "POST", DevHostProcess.api + "/upload?filename=fib.pb.gz", body: try Fixtures.bytes("go-cpu-fib.pb.gz"),
            contentType: "application/octet-stream")
        let name = try #require(json(up)["name"] as? String)
        #expect(try h.postJSON("/flamegraph", #"{"profile": {"name": "\#(name)"}, "maxNodes": 200}"#).status == 200)
        #expect(try h.postJSON("/top", #"{"profile": {"name": "go-cpu-fib.pb.gz"}, "limit": 10}"#).status == 200)
        #expect(try h.postJSON("/info", #"{"profile": {"name": "go-heap-small.pb.gz"}}"#).status == 200)
        h.stop()
        for file in [prefix + ".requests.jsonl", prefix + ".responses.jsonl"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(file)")
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(!text.contains(key), "\(file) holds the key")
        }
        let requests = Self.lines(prefix + ".requests.jsonl")
        #expect(requests.filter { $0["method"] as? String == "callResource" }.count == 3)
        #expect(String(describing: requests).contains("<redacted>"))
        let replay = try runFlamegraphAI(
            ["replay", prefix + ".requests.jsonl", "--expect", prefix + ".responses.jsonl", "--", "--allow-dir", profiles])
        #expect(replay.status == 0, "\(replay.stderr)")
    }

    @Test func aClientThatSendsItsRequestTooSlowlyIsCutOff() throws {
        let h = try DevHostProcess(["--idle-seconds", "1"])
        let fd = try RawHTTP.connect(port: h.port, timeoutSeconds: 10)
        defer { close(fd) }
        try RawHTTP.write(fd, Array("GET \(DevHostProcess.page) HTTP/1.1\r\nHost: \(h.host)\r\n".utf8))  // and then nothing
        let started = ContinuousClock.now
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        #expect(n == 0, "the connection was not closed (recv \(n))")
        #expect(ContinuousClock.now - started < .seconds(5))
        // a prompt client is still served
        #expect(
            try RawHTTP.request(port: h.port, "GET \(DevHostProcess.api)/session HTTP/1.1\r\nHost: \(h.host)\r\nCookie: \(h.cookie)").status
                == 200)
    }

    @Test func uploadsLiveInAPrivateFolderThatGoesAtExit() throws {
        let file = Fixtures.profile("go-cpu-fib.pb.gz").path
        let h = try DevHostProcess([file])
        let up = try h.pageRequest(
            "POST", DevHostProcess.api + "/upload?filename=fib.pb.gz", body: try Fixtures.bytes("go-cpu-fib.pb.gz"),
            contentType: "application/octet-stream")
        let name = try #require(json(up)["name"] as? String)
        // the child reads uploads and the command line's FILE by path in the host's folder
        #expect(try h.postJSON("/top", #"{"profile": {"name": "\#(name)"}}"#).status == 200)
        #expect(try h.postJSON("/top", #"{"profile": {"name": "go-cpu-fib.pb.gz"}}"#).status == 200)
        let folder = try #require(h.log.split(separator: " ").drop { $0 != "--allow-dir" }.dropFirst().first.map(String.init))
        let fm = FileManager.default
        #expect(try fm.attributesOfItem(atPath: folder)[.posixPermissions] as? Int == 0o700)
        #expect(try fm.attributesOfItem(atPath: folder + "/" + name)[.posixPermissions] as? Int == 0o600)
        #expect(fm.fileExists(atPath: folder + "/file-1"))
        h.process.interrupt()
        h.process.waitUntilExit()
        #expect(!fm.fileExists(atPath: folder), "\(folder) is left behind")
    }

    @Test func aBrowserThatGoesAwayCancelsItsBackendRequest() throws {
        let llm = try LLMTestServer()
        let prefix = NSTemporaryDirectory() + "dev-cancel-\(UUID().uuidString)"
        let h = try DevHostProcess(
            [
                "--profiles", Fixtures.root.appendingPathComponent("profiles").path, "--record", prefix, "--llm-url", llm.baseURL,
                "--llm-mode", "openai", "--llm-model", "fault:slow=8000",
            ], environment: ["FLAMEGRAPH_AI_LLM_API_KEY": llm.token])
        let fd = try RawHTTP.connect(port: h.port)
        let body = #"{"profile": {"name": "go-cpu-fib.pb.gz"}}"#
        let head = [
            "POST \(DevHostProcess.api)/explain HTTP/1.1", "Host: \(h.host)", "Cookie: \(h.cookie)", "Origin: \(h.origin)",
            "Content-Type: application/json", "Content-Length: \(body.utf8.count)", "", body,
        ]
        try RawHTTP.write(fd, Array(head.joined(separator: "\r\n").utf8))
        // The model answers after 8 s; the browser leaves after 1.
        usleep(1_000_000)
        close(fd)
        var cancel: [String: Any]? = nil
        for _ in 0..<60 where cancel == nil {
            usleep(100_000)
            cancel = Self.lines(prefix + ".requests.jsonl").first { $0["method"] as? String == "$/cancelRequest" }
        }
        let request = Self.lines(prefix + ".requests.jsonl").first { $0["method"] as? String == "callResource" }
        let cancelled = try #require(cancel, "no $/cancelRequest: \(h.log)")
        #expect((cancelled["params"] as? [String: Any])?["id"] as? Int == request?["id"] as? Int)
        var answer: [String: Any]? = nil
        for _ in 0..<30 where answer == nil {
            usleep(100_000)
            answer = Self.lines(prefix + ".responses.jsonl").first { $0["id"] as? Int == request?["id"] as? Int }
        }
        #expect((answer?["error"] as? [String: Any])?["code"] as? Int == -32800, "\(String(describing: answer))")
        #expect(h.log.contains("the browser went away"))
        h.stop()
    }
}
