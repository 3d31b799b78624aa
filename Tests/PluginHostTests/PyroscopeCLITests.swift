import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

/// What the Pyroscope test server holds (Tests/Fixtures/pyroscope/catalogue.json) and what its merges must equal.
enum PyroscopeData {
    static let from = "2026-01-01T00:00:00Z"
    static let to = "2026-01-01T01:00:00Z"
    static let t0: Int64 = 1_767_225_600_000
    static let t1: Int64 = t0 + 3_600_000
    static let day: Int64 = 86_400_000
    static let cpu = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
    static let checkout = "{service_name=\"checkout\"}"
    /// Matches exactly one fixture in the window: go-cpu-pyroscope.pb.gz.
    static let cart = "{service_name=\"cart\"}"
    static let checkoutFixtures = ["go-cpu-fib.pb.gz", "go-cpu-labels.pb.gz"]
    /// checkout's profile a day before the window.
    static let checkoutYesterday = ["go-cpu-benchmark.pb.gz"]
    static let typesInWindow = [
        "memory:alloc_objects:count:space:bytes", "memory:alloc_space:bytes:space:bytes", "memory:inuse_objects:count:space:bytes",
        "memory:inuse_space:bytes:space:bytes", "process_cpu:cpu:nanoseconds:cpu:nanoseconds", "process_cpu:samples:count:cpu:nanoseconds",
    ]

    struct Row: Hashable, CustomStringConvertible {
        var name: String
        var flat: Int64
        var cum: Int64
        var description: String { "\(name) \(flat) \(cum)" }
    }

    /// The top table of the fixtures merged by the project itself (FlameDiff's DiffTree sums each side): the total
    /// and every function's flat and cum.
    static func merged(_ fixtures: [String], sampleType: String = "cpu") throws -> (total: Int64, rows: Set<Row>) {
        let profiles = try fixtures.map { try Profile.decode(Fixtures.bytes($0)) }
        let diff = try DiffTree(baseline: profiles, comparison: profiles, options: TreeOptions(sampleType: .name(sampleType)))
        let rows = diff.names.indices.filter { diff.leftFlat[$0] != 0 || diff.leftCum[$0] != 0 }
            .map { Row(name: diff.names[$0], flat: diff.leftFlat[$0], cum: diff.leftCum[$0]) }
        return (diff.leftTicks, Set(rows))
    }

    /// The environment for a child: every FLAMEGRAPH_AI_PYROSCOPE_* the test does not set is emptied, so that the
    /// developer's own settings cannot leak in.
    static func environment(_ values: [String: String]) -> [String: String] {
        var env: [String: String] = [:]
        for key in ["URL", "DATASOURCE_UID", "TENANT", "USERNAME", "PASSWORD", "TOKEN"] { env["FLAMEGRAPH_AI_PYROSCOPE_" + key] = "" }
        for (key, value) in values { env["FLAMEGRAPH_AI_PYROSCOPE_" + key] = value }
        return env
    }

    static func expectNoSecret(_ texts: [String], _ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for text in texts {
            for secret in secrets { #expect(!text.contains(secret), "a secret in: \(text.prefix(300))", sourceLocation: sourceLocation) }
        }
    }
}

/// The CLI against the Pyroscope test server over real HTTP: every command with a Pyroscope source, both auth
/// styles and Grafana's data source proxy, every fault a clear error, no secret in any output.
@Suite(.serialized) struct PyroscopeCLITests {
    typealias D = PyroscopeData
    static let token = "tok_CLI_SECRET_9f3a"

    /// `top --raw` lines as rows.
    func rows(_ text: String) -> Set<D.Row> {
        var out = Set<D.Row>()
        for line in text.split(separator: "\n").dropFirst(4) {
            let fields = line.split(separator: " ")
            guard fields.count >= 6, let flat = Int64(fields[0]), let cum = Int64(fields[3]) else { continue }
            out.insert(D.Row(name: fields[5...].joined(separator: " "), flat: flat, cum: cum))
        }
        return out
    }

    @Test func everyCommandReadsAPyroscopeQuery() throws {
        let server = try PyroscopeTestServer(["--token", Self.token])
        let env = D.environment(["TOKEN": Self.token])
        let window = ["--pyroscope", server.baseURL, "--from", D.from, "--to", D.to]
        var outputs: [String] = []
        func run(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            let r = try runFlamegraphAI(args, environment: env)
            #expect(r.status == 0, "\(args): \(r.stderr)", sourceLocation: sourceLocation)
            outputs += [r.stdoutText, r.stderr]
            return r.stdoutText
        }
        func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

        #expect(lines(try run(["pyroscope", "types"] + window)) == D.typesInWindow)
        #expect(lines(try run(["pyroscope", "labels", "--query", D.checkout] + window)) == ["__name__", "__profile_type__", "env", "service_name"])
        #expect(lines(try run(["pyroscope", "values", "service_name", "--query", "{env=\"prod\"}"] + window)) == ["cart", "checkout"])
        #expect(lines(try run(["pyroscope", "series", "--query", "{service_name=\"search\"}", "--label-names", "env"] + window)) == ["{env=\"staging\"}"])

        let expected = try D.merged(D.checkoutFixtures)
        let top = try run(["top", "--query", D.checkout, "-n", "0", "--raw"] + window)
        #expect(lines(top)[1] == "Total: \(expected.total)")
        #expect(rows(top) == expected.rows)
        let info = try run(["info", "--profile-type", D.cpu, "--query", D.checkout] + window)
        #expect(info.hasPrefix("Query: \(D.cpu) \(D.checkout) from \(D.from) to \(D.to) (Pyroscope at \(server.baseURL))\n"))
        #expect(info.contains("Total cpu/nanoseconds: \(expected.total)\n"))
        let folded = try run(["flamegraph", "--query", D.checkout, "--format", "folded"] + window)
        #expect(folded.split(separator: "\n").reduce(Int64(0)) { $0 + Int64($1.split(separator: " ").last!)! } == expected.total)

        // A diff: the query is the comparison, --vs yesterday (or the same range given by hand) the baseline.
        let yesterday = try D.merged(D.checkoutYesterday)
        for vs in [["--vs", "yesterday"], ["--vs-from", String(D.t0 - D.day), "--vs-to", String(D.t1 - D.day)]] {
            let tsv = try run(["diff", "--query", D.checkout, "--format", "tsv"] + vs + window)
            let columns = lines(tsv).dropFirst().map { $0.split(separator: "\t") }
            #expect(columns.reduce(Int64(0)) { $0 + Int64($1[1])! } == yesterday.total)
            #expect(columns.reduce(Int64(0)) { $0 + Int64($1[2])! } == expected.total)
        }
        let table = try run(["diff", "--query", D.checkout, "--vs-query", D.cart, "-n", "1"] + window)
        #expect(table.hasPrefix("Baseline: \(D.cpu) \(D.cart) from"))
        let explainDiff = try run(["explain", "--query", D.checkout, "--vs", "last-week"] + window)
        #expect(explainDiff.hasPrefix("Diff: \(D.cpu) \(D.checkout) from 2025-12-25T00:00:00Z"))
        #expect(explainDiff.contains("##### Performance change"))
        D.expectNoSecret(outputs, [Self.token])
    }

    /// The same data gives the same explanation: a selector matching one fixture profile against that file.
    @Test func explainNamesTheSameBottleneckAsTheFile() throws {
        let server = try PyroscopeTestServer()
        let remote = try runFlamegraphAI(
            ["explain", "--query", D.cart, "--from", D.from, "--to", D.to], environment: D.environment(["URL": server.baseURL]))
        let local = try runFlamegraphAI(["explain", Fixtures.profile("go-cpu-pyroscope.pb.gz").path], environment: D.environment([:]))
        #expect(remote.status == 0 && local.status == 0, "\(remote.stderr) \(local.stderr)")
        let remoteText = remote.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        let localText = local.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        #expect(remoteText.joined(separator: "\n") == localText.joined(separator: "\n"))
        #expect(remoteText.contains { $0.hasPrefix("`runtime.memclrNoHeapPointers` is the hottest function") })
    }

    @Test func basicAuthTenantsAndGrafanasDataSourceProxy() throws {
        let password = "glc_SECRET_pw_41"
        let saToken = "glsa_SECRET_sa_41"
        let server = try PyroscopeTestServer([
            "--basic", "123456:\(password)", "--tenants", "tenant-a", "--grafana-uid", "pyro-uid", "--grafana-token", saToken,
        ])
        let query = ["top", "--query", D.checkout, "--from", D.from, "--to", D.to, "-n", "0", "--raw"]
        let expected = try D.merged(D.checkoutFixtures)
        var outputs: [String] = []
        func run(_ args: [String], _ env: [String: String]) throws -> ProcessResult {
            let r = try runFlamegraphAI(args, environment: D.environment(env))
            outputs += [r.stdoutText, r.stderr]
            return r
        }
        // Basic auth and tenant from the environment, or user and tenant by flag with the password from the environment.
        let basic = try run(query, ["URL": server.baseURL, "USERNAME": "123456", "PASSWORD": password, "TENANT": "tenant-a"])
        #expect(basic.status == 0 && rows(basic.stdoutText) == expected.rows, "\(basic.stderr)")
        let flags = try run(query + ["--pyroscope", server.baseURL, "--username", "123456", "--tenant-id", "tenant-a"], ["PASSWORD": password])
        #expect(flags.status == 0 && rows(flags.stdoutText) == expected.rows, "\(flags.stderr)")
        let noTenant = try run(query, ["URL": server.baseURL, "USERNAME": "123456", "PASSWORD": password])
        #expect(noTenant.status == 1 && noTenant.stderr.contains("needs a tenant"))
        // Through Grafana: Grafana's URL, the data source uid, a service-account token.
        let grafana = ["URL": server.baseURL, "DATASOURCE_UID": "pyro-uid", "TOKEN": saToken, "TENANT": "tenant-a"]
        let proxied = try run(query, grafana)
        #expect(proxied.status == 0 && rows(proxied.stdoutText) == expected.rows, "\(proxied.stderr)")
        let types = try run(["pyroscope", "types", "--from", D.from, "--to", D.to, "--datasource-uid", "pyro-uid"], grafana)
        #expect(types.stdoutText.split(separator: "\n").map(String.init) == D.typesInWindow)
        let missing = try run(query + ["--datasource-uid", "nope"], grafana)
        #expect(missing.status == 1 && missing.stderr.contains("not found"))
        // A URL with credentials is refused on the command line (process lists show it); they belong in the environment.
        let inURL = try run(query + ["--pyroscope", "http://123456:\(password)@127.0.0.1:\(server.port)"], [:])
        #expect(inURL.status != 0 && inURL.stderr.contains("must not carry credentials"))
        D.expectNoSecret(outputs, [password, saToken, Data("123456:\(password)".utf8).base64EncodedString()])
    }

    /// Each fault: exit status 1, nothing on stdout, one line on stderr that says what is wrong, no secret.
    @Test func everyFaultIsAClearErrorWithoutSecrets() throws {
        let wrong = "tok_WRONG_SECRET_77"
        let server = try PyroscopeTestServer(["--token", Self.token])
        func fail(_ selector: String, type: String = D.cpu, url: String? = nil, token: String = Self.token) throws -> String {
            let r = try runFlamegraphAI(
                ["top", "--profile-type", type, "--query", selector, "--from", D.from, "--to", D.to],
                environment: D.environment(["URL": url ?? server.baseURL, "TOKEN": token]))
            #expect(r.status == 1 && r.stdout.isEmpty, "\(selector): \(r.status) \(r.stdoutText)")
            #expect(r.stderr.hasPrefix("Error: query: "), "\(r.stderr)")
            D.expectNoSecret([r.stderr], [Self.token, wrong])
            return r.stderr
        }
        func fault(_ name: String) -> String { "{service_name=\"checkout\", __fault__=\"\(name)\"}" }
        #expect(try fail(D.checkout, token: wrong).contains("Pyroscope refused the credential: invalid credential: Bearer <redacted>"))
        #expect(try fail(fault("401")).contains("refused the credential"))
        #expect(try fail(fault("403")).contains("does not allow profiles:read"))
        #expect(try fail(fault("notfound")).contains("not found: no Pyroscope query API at"))
        #expect(try fail(fault("html")).contains("malformed Pyroscope response"))
        #expect(try fail(fault("garbage")).contains("malformed Pyroscope response"))
        #expect(try fail(fault("500")).contains("Pyroscope error (HTTP 500): the querier failed"))
        #expect(try fail(fault("empty")).contains("no samples of \(D.cpu)"))
        #expect(try fail("{service_name=checkout}").contains("invalid query"))
        #expect(try fail(D.checkout, type: "process_cpu:cycles:count:cpu:nanoseconds").contains("unknown profile type 'process_cpu:cycles:count:cpu:nanoseconds'; known types: memory:alloc_objects"))
        #expect(try fail(D.checkout, url: "http://127.0.0.1:9").contains("Pyroscope unreachable"))
        // Usage errors name the flag.
        let both = try runFlamegraphAI(["top", Fixtures.profile("go-cpu-fib.pb.gz").path, "--pyroscope", server.baseURL])
        #expect(both.status != 0 && both.stderr.contains("give a profile FILE or --pyroscope, not both"))
        let none = try runFlamegraphAI(["top"], environment: D.environment([:]))
        #expect(none.status != 0 && none.stderr.contains("give a profile FILE, or --pyroscope URL"))
        let noBaseline = try runFlamegraphAI(["diff", "--pyroscope", server.baseURL], environment: D.environment([:]))
        #expect(noBaseline.status != 0 && noBaseline.stderr.contains("give the Pyroscope baseline"))
        let badPreset = try runFlamegraphAI(["explain", "--pyroscope", server.baseURL, "--vs", "tomorrow"], environment: D.environment([:]))
        #expect(badPreset.status != 0 && badPreset.stderr.contains("--vs takes yesterday or last-week"))
    }
}
