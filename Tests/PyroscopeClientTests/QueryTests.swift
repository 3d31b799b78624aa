import FlameDiff
import ProtoPprof
import PyroscopeClient
import TestSupport
import Testing

let t0: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z, see Tests/Fixtures/pyroscope/catalogue.json
let hour: Int64 = 3_600_000
let window = PyroscopeTimeRange(start: t0, end: t0 + hour)
let cpu = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
/// Every profile type the test server holds in `window`.
let typesInWindow = [
    "memory:alloc_objects:count:space:bytes", "memory:alloc_space:bytes:space:bytes", "memory:inuse_objects:count:space:bytes",
    "memory:inuse_space:bytes:space:bytes", "process_cpu:cpu:nanoseconds:cpu:nanoseconds", "process_cpu:samples:count:cpu:nanoseconds",
]

func client(
    _ server: PyroscopeTestServer, auth: PyroscopeAuth = .none, codec: PyroscopeCodec = .binary, timeout: Duration = .seconds(30),
    retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), maxTotal: .seconds(25)),
    maxResponseBytes: Int = PyroscopeConfig.defaultMaxResponseBytes
) -> PyroscopeClient {
    PyroscopeClient(config: PyroscopeConfig(
        endpoint: .direct(url: server.baseURL + "/"), auth: auth, codec: codec, connectTimeout: .seconds(2), requestTimeout: timeout,
        retry: retry, maxResponseBytes: maxResponseBytes))
}

/// The merged profile equals the project's own merge of the fixture profiles the server holds for the query:
/// the same total, the same flat and cum per function (FlameDiff's DiffTree, one fixture list against the
/// merged profile), and the same top table.
func expectMerge(_ bytes: [UInt8], equals fixtures: [String], sampleType: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let merged = try Profile.decode(bytes)
    let sources = try fixtures.map { try Profile.decode(Fixtures.bytes($0)) }
    let options = TreeOptions(sampleType: .name(sampleType))
    #expect(merged.sampleTypes.count == 1 && merged.sampleTypes[0].type == sampleType, sourceLocation: sourceLocation)
    let diff = try DiffTree(baseline: sources, comparison: [merged], options: options)
    #expect(diff.leftTicks > 0, sourceLocation: sourceLocation)
    #expect(diff.leftTicks == diff.rightTicks, sourceLocation: sourceLocation)
    // Per function, named where they differ (the arrays are long).
    let flatDiffers = diff.names.indices.filter { diff.leftFlat[$0] != diff.rightFlat[$0] }.map { diff.names[$0] }
    let cumDiffers = diff.names.indices.filter { diff.leftCum[$0] != diff.rightCum[$0] }.map { diff.names[$0] }
    #expect(flatDiffers == [], sourceLocation: sourceLocation)
    #expect(cumDiffers == [], sourceLocation: sourceLocation)
    let expectedTotal = try sources.reduce(Int64(0)) { $0 + (try TopTable(profile: $1, options: options)).total }
    let top = try TopTable(profile: merged, options: options)
    #expect(top.total == expectedTotal, sourceLocation: sourceLocation)
    // The top table the fixtures give together: flat and cum summed per function, ordered as TopTable orders.
    struct Row: Equatable {
        var name: String
        var flat: Int64
        var cum: Int64
    }
    let expectedRows = diff.names.indices.filter { diff.leftFlat[$0] != 0 || diff.leftCum[$0] != 0 }
        .map { Row(name: diff.names[$0], flat: diff.leftFlat[$0], cum: diff.leftCum[$0]) }
        .sorted { $0.flat != $1.flat ? $0.flat > $1.flat : Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    let rows = top.rows.map { Row(name: $0.name, flat: $0.flat, cum: $0.cum) }
    #expect(Array(rows.prefix(20)) == Array(expectedRows.prefix(20)), sourceLocation: sourceLocation)
    #expect(top.rows.count == expectedRows.count, sourceLocation: sourceLocation)
}

/// Every call over real HTTP against the local test server.
@Suite(.serialized) struct QueryTests {
    @Test(arguments: PyroscopeCodec.allCases)
    func eachCallWorksInBothCodecs(_ codec: PyroscopeCodec) async throws {
        let server = try PyroscopeTestServer()
        let c = client(server, codec: codec)
        #expect(try await c.profileTypes(range: window).map(\.id).sorted() == typesInWindow)
        let fib = try #require(try await c.profileTypes(range: window).first { $0.id == cpu })
        #expect(fib == PyroscopeProfileType(id: cpu, name: "process_cpu", sampleType: "cpu", sampleUnit: "nanoseconds", periodType: "cpu", periodUnit: "nanoseconds"))
        #expect(try await c.labelNames(matchers: ["{service_name=\"checkout\"}"], range: window) == ["__name__", "__profile_type__", "env", "service_name"])
        #expect(try await c.labelValues(name: "service_name", range: window) == ["cart", "checkout", "search"])
        #expect(try await c.labelValues(name: "service_name", matchers: ["{env=\"prod\"}"], range: window) == ["cart", "checkout"])
        let series = try await c.series(matchers: ["{service_name=\"cart\"}"], labelNames: ["service_name", "__profile_type__"], range: window)
        #expect(series.count == 6)
        #expect(series.allSatisfy { $0["service_name"] == "cart" && $0.labels.count == 2 })
        #expect(Set(series.compactMap { $0["__profile_type__"] }) == Set(typesInWindow))
        #expect(try await c.labelNames(range: PyroscopeTimeRange(start: 1, end: 2)) == [])

        let bytes = try await c.selectMergeProfile(PyroscopeQuery(profileTypeID: cpu, labelSelector: "{env=\"prod\"}", range: window))
        try expectMerge(bytes, equals: ["go-cpu-fib.pb.gz", "go-cpu-labels.pb.gz", "go-cpu-pyroscope.pb.gz"], sampleType: "cpu")

        let seen = try await server.requests()
        let contentType = codec == .binary ? "application/proto" : "application/json"
        #expect(seen.allSatisfy { $0.contentType == contentType && $0.connectProtocolVersion == "1" && $0.acceptEncoding == "gzip" })
        #expect(seen.map(\.method).suffix(1) == ["SelectMergeStacktraces"])  // a current server: no fallback
        #expect(seen.allSatisfy { $0.path.hasPrefix("/querier.v1.QuerierService/") })
    }

    struct MergeCase: Sendable, CustomTestStringConvertible {
        var type: String
        var selector: String
        var range: PyroscopeTimeRange
        var fixtures: [String]
        var sampleType: String
        var testDescription: String { "\(type) \(selector)" }
    }

    @Test(arguments: [
        MergeCase(type: cpu, selector: "{service_name=\"checkout\"}", range: window, fixtures: ["go-cpu-fib.pb.gz", "go-cpu-labels.pb.gz"], sampleType: "cpu"),
        MergeCase(
            type: cpu, selector: "{service_name=~\"check.*|cart\"}", range: window,
            fixtures: ["go-cpu-fib.pb.gz", "go-cpu-labels.pb.gz", "go-cpu-pyroscope.pb.gz"], sampleType: "cpu"),
        MergeCase(
            type: cpu, selector: "{env!=\"prod\"}", range: window, fixtures: ["go-cpu-span-labels.pb.gz", "go-cpu-truncated-stacks.pb.gz"],
            sampleType: "cpu"),
        MergeCase(
            type: "process_cpu:samples:count:cpu:nanoseconds", selector: "{}", range: PyroscopeTimeRange(start: t0, end: t0 + 25 * 60_000),
            fixtures: ["go-cpu-fib.pb.gz", "go-cpu-labels.pb.gz"], sampleType: "samples"),
        MergeCase(
            type: "memory:alloc_space:bytes:space:bytes", selector: "{service_name=\"checkout\"}", range: window, fixtures: ["go-heap-small.pb.gz"],
            sampleType: "alloc_space"),
        MergeCase(type: cpu, selector: "{service_name=\"checkout\"}", range: PyroscopeDiffPreset.yesterday.baseline(for: window), fixtures: ["go-cpu-benchmark.pb.gz"], sampleType: "cpu"),
        MergeCase(type: cpu, selector: "{service_name=\"checkout\"}", range: PyroscopeDiffPreset.lastWeek.baseline(for: window), fixtures: ["go-cpu-inlined.pb.gz"], sampleType: "cpu"),
    ])
    func theMergedProfileEqualsTheMergeOfTheFixturesTheServerHolds(_ c: MergeCase) async throws {
        let server = try PyroscopeTestServer()
        let bytes = try await client(server).selectMergeProfile(PyroscopeQuery(profileTypeID: c.type, labelSelector: c.selector, range: c.range))
        try expectMerge(bytes, equals: c.fixtures, sampleType: c.sampleType)
    }

    @Test(arguments: PyroscopeCodec.allCases)
    func anOlderServerWithoutThePprofFormatIsAskedThroughSelectMergeProfile(_ codec: PyroscopeCodec) async throws {
        let server = try PyroscopeTestServer(["--old"])
        let c = client(server, codec: codec)
        let query = PyroscopeQuery(profileTypeID: cpu, labelSelector: "{service_name=\"checkout\"}", range: window)
        try expectMerge(try await c.selectMergeProfile(query), equals: ["go-cpu-fib.pb.gz", "go-cpu-labels.pb.gz"], sampleType: "cpu")
        let decoded = try await c.profile(query)
        #expect(decoded.sampleTypes.map(\.description) == ["cpu/nanoseconds"])
        #expect(try await server.requests().map(\.method) == ["SelectMergeStacktraces", "SelectMergeProfile", "SelectMergeStacktraces", "SelectMergeProfile"])
    }

    @Test func aServerWithoutSelectMergeStacktracesIsAskedThroughSelectMergeProfile() async throws {
        let server = try PyroscopeTestServer()
        let query = PyroscopeQuery(profileTypeID: cpu, labelSelector: "{service_name=\"checkout\", __fault__=\"ancient\"}", range: window)
        try expectMerge(try await client(server).selectMergeProfile(query), equals: ["go-cpu-fib.pb.gz", "go-cpu-labels.pb.gz"], sampleType: "cpu")
        #expect(try await server.requests().map(\.method) == ["SelectMergeStacktraces", "SelectMergeProfile"])
    }

    @Test func basicAuthAndTenantReachAMultiTenantServer() async throws {
        let server = try PyroscopeTestServer(["--basic", "123456:glc_SECRET_pw", "--tenants", "tenant-a"])
        let good = client(server, auth: .basic(user: "123456", password: Secret("glc_SECRET_pw"), tenant: "tenant-a"))
        #expect(try await good.profileTypes(range: window).count == typesInWindow.count)
        try expectMerge(
            try await good.selectMergeProfile(PyroscopeQuery(profileTypeID: cpu, labelSelector: "{service_name=\"checkout\"}", range: window)),
            equals: ["go-cpu-fib.pb.gz", "go-cpu-labels.pb.gz"], sampleType: "cpu")
        let seen = try await server.requests()
        #expect(seen.allSatisfy { $0.auth == "basic" && $0.tenant == "tenant-a" })

        // Without a tenant: Pyroscope's own "no org id", typed.
        let noTenant = client(server, auth: .basic(user: "123456", password: Secret("glc_SECRET_pw")))
        await #expect(throws: PyroscopeError.tenantMissing) { try await noTenant.profileTypes(range: window) }
        await #expect(throws: PyroscopeError.tenantMissing) {
            try await noTenant.selectMergeProfile(PyroscopeQuery(profileTypeID: cpu, range: window))
        }
        // Another tenant holds nothing: the type is unknown there, and the error says which types exist (none).
        let otherTenant = client(server, auth: .basic(user: "123456", password: Secret("glc_SECRET_pw"), tenant: "tenant-b"))
        #expect(try await otherTenant.profileTypes(range: window) == [])
        await #expect(throws: PyroscopeError.unknownProfileType(id: cpu, known: [])) {
            try await otherTenant.selectMergeProfile(PyroscopeQuery(profileTypeID: cpu, range: window))
        }
        // Credentials in the URL's userinfo become basic auth and never show.
        let port = server.port
        let viaURL = PyroscopeClient(config: PyroscopeConfig(
            endpoint: .direct(url: "http://123456:glc_SECRET_pw@127.0.0.1:\(port)"), auth: PyroscopeAuth(tenant: "tenant-a")))
        #expect(try await viaURL.labelValues(name: "env", range: window) == ["prod", "staging"])
        #expect(!"\(viaURL.config)".contains("glc_SECRET_pw"))
    }

    @Test func bearerTokenReachesTheServer() async throws {
        let server = try PyroscopeTestServer(["--token", "tok_SECRET_1"])
        #expect(try await client(server, auth: .bearer(Secret("tok_SECRET_1"))).labelValues(name: "env", range: window) == ["prod", "staging"])
        #expect(try await server.requests().map(\.auth) == ["bearer"])
        await #expect(throws: PyroscopeError.unauthorized("invalid credential: ")) {
            try await client(server).labelValues(name: "env", range: window)
        }
    }

    @Test(arguments: PyroscopeCodec.allCases)
    func grafanasDataSourceProxyTakesAServiceAccountToken(_ codec: PyroscopeCodec) async throws {
        let server = try PyroscopeTestServer(["--grafana-uid", "pyro-uid", "--grafana-token", "glsa_SECRET_sa", "--token", "direct-token"])
        func proxied(uid: String = "pyro-uid", token: String = "glsa_SECRET_sa") -> PyroscopeClient {
            PyroscopeClient(config: PyroscopeConfig(
                endpoint: .grafana(url: server.baseURL, datasourceUID: uid), auth: .bearer(Secret(token)), codec: codec,
                retry: RetryPolicy(maxAttempts: 1)))
        }
        let c = proxied()
        #expect(try await c.profileTypes(range: window).count == typesInWindow.count)
        #expect(try await c.series(matchers: ["{service_name=\"search\"}"], labelNames: ["env"], range: window) == [PyroscopeSeries(labels: [PyroscopeLabel(name: "env", value: "staging")])])
        try expectMerge(
            try await c.selectMergeProfile(PyroscopeQuery(profileTypeID: cpu, labelSelector: "{service_name=\"cart\"}", range: window)),
            equals: ["go-cpu-pyroscope.pb.gz"], sampleType: "cpu")
        #expect(try await server.requests().allSatisfy { $0.path.hasPrefix("/api/datasources/proxy/uid/pyro-uid/querier.v1.QuerierService/") })

        await #expect {
            try await proxied(uid: "missing").profileTypes(range: window)
        } throws: { error in
            guard case .notFound(let why) = error as? PyroscopeError else { return false }
            return why.contains("data source uid") && why.contains("Data source not found")
        }
        await #expect {
            try await proxied(token: "glsa_WRONG_token").profileTypes(range: window)
        } throws: { error in
            guard case .unauthorized(let why) = error as? PyroscopeError else { return false }
            return !why.contains("glsa_WRONG_token") && why.contains("<redacted>")
        }
    }
}
