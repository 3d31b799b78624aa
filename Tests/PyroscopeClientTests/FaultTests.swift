import PyroscopeClient
import TestSupport
import Testing

/// Every misbehaviour of the test server arrives as a typed error, within its time, with no secret in it.
@Suite(.serialized) struct FaultTests {
    static let token = "tok_FAULT_SECRET_42"

    func query(_ fault: String? = nil, selector: String = "service_name=\"checkout\"", type: String = cpu) -> PyroscopeQuery {
        let matchers = [selector] + (fault.map { ["__fault__=\"\($0)\""] } ?? [])
        return PyroscopeQuery(profileTypeID: type, labelSelector: "{" + matchers.joined(separator: ", ") + "}", range: window)
    }

    func expectNoSecret(_ error: PyroscopeError, _ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for text in ["\(error)", String(reflecting: error), error.description] {
            for secret in secrets { #expect(!text.contains(secret), "\(text)", sourceLocation: sourceLocation) }
        }
    }

    /// The error `body` throws, checked to be typed and free of secrets.
    func failure(_ secrets: [String] = [token], _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> PyroscopeError? {
        do {
            try await body()
            Issue.record("no error", sourceLocation: sourceLocation)
            return nil
        } catch let error as PyroscopeError {
            expectNoSecret(error, secrets, sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test func statusFaultsAreTypedErrors() async throws {
        let server = try PyroscopeTestServer(["--token", Self.token])
        let c = client(server, auth: .bearer(Secret(Self.token)))
        #expect(await failure { _ = try await c.selectMergeProfile(query("401")) } == .unauthorized("invalid credential: Bearer <redacted>"))
        #expect(await failure { _ = try await c.selectMergeProfile(query("403")) } == .unauthorized("the access policy does not allow profiles:read"))
        #expect(await failure { _ = try await c.selectMergeProfile(query("notfound")) } == .notFound("no Pyroscope query API at \(server.baseURL) (404 page not found): check the URL"))
        #expect(await failure { _ = try await c.selectMergeProfile(query(selector: "service_name=checkout")) }.map(\.kind) == "invalidQuery")
        #expect(await failure { _ = try await c.selectMergeProfile(query("empty")) } == .emptyResult(profileTypeID: cpu, labelSelector: "{service_name=\"checkout\", __fault__=\"empty\"}"))
        #expect(await failure { _ = try await c.selectMergeProfile(query(selector: "service_name=\"nobody\"")) } == .emptyResult(profileTypeID: cpu, labelSelector: "{service_name=\"nobody\"}"))
        #expect(await failure { _ = try await c.selectMergeProfile(query(type: "process_cpu:cycles:count:cpu:nanoseconds")) }
            == .unknownProfileType(id: "process_cpu:cycles:count:cpu:nanoseconds", known: typesInWindow))
        #expect(await failure { _ = try await c.selectMergeProfile(query(type: "cpu")) } == .unknownProfileType(id: "cpu", known: []))
        #expect(await failure { _ = try await c.selectMergeProfile(query("garbage")) }.map(\.kind) == "malformedResponse")
        let html = await failure { _ = try await c.selectMergeProfile(query("html")) }
        guard case .malformedResponse(let why) = html else { Issue.record("\(String(describing: html))"); return }
        #expect(why.contains("text/html") && why.contains("Grafana"))
        // Server errors are retried (three attempts), then reported with the server's message.
        let before = try await server.requests().count
        #expect(await failure { _ = try await c.selectMergeProfile(query("500")) } == .server(status: 500, message: "the querier failed"))
        #expect(await failure { _ = try await c.labelNames(matchers: ["{__fault__=\"503\"}"], range: window) } == .server(status: 503, message: "no healthy queriers"))
        #expect(try await server.requests().count - before == 6)
    }

    @Test func transientFailuresAreRetriedAndRetryAfterIsHonouredNeverEarly() async throws {
        let server = try PyroscopeTestServer(["--token", Self.token])
        let c = client(server, auth: .bearer(Secret(Self.token)))
        try expectMerge(try await c.selectMergeProfile(query("500-once=a")), equals: ["go-cpu-fib.pb.gz", "go-cpu-labels.pb.gz"], sampleType: "cpu")
        var started = ContinuousClock.now
        #expect(try await c.labelValues(name: "env", matchers: ["{__fault__=\"503-once=b\"}"], range: window) == ["prod", "staging"])
        #expect(ContinuousClock.now - started >= .seconds(1))  // Retry-After: 1, waited in full
        // Retry-After past the retry window: the error at once, not an early retry.
        let before = try await server.requests().count
        started = ContinuousClock.now
        #expect(await failure { _ = try await c.labelNames(matchers: ["{__fault__=\"429=30\"}"], range: window) } == .server(status: 429, message: "too many requests"))
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(try await server.requests().count - before == 1)
    }

    @Test func timeoutsSizeCapsAndDeadConnectionsAreTyped() async throws {
        let server = try PyroscopeTestServer()
        let quick = client(server, timeout: .milliseconds(800))
        var started = ContinuousClock.now
        #expect(await failure { _ = try await quick.selectMergeProfile(query("slow=10000")) } == .timeout)
        #expect(ContinuousClock.now - started < .seconds(4))
        // The deadline bounds the whole call: many retries of a failing server stop at it.
        let persistent = client(
            server, timeout: .milliseconds(800),
            retry: RetryPolicy(maxAttempts: 1000, baseDelay: .milliseconds(100), maxDelay: .milliseconds(100), maxTotal: .seconds(60)))
        started = ContinuousClock.now
        let kind = await failure { _ = try await persistent.labelNames(matchers: ["{__fault__=\"503\"}"], range: window) }?.kind
        #expect(kind == "timeout" || kind == "server")
        #expect(ContinuousClock.now - started < .seconds(4))

        let capped = client(server, maxResponseBytes: 1 << 20)
        #expect(await failure { _ = try await capped.selectMergeProfile(query("huge=8")) } == .tooLarge(limit: 1 << 20))
        // Gzip does not get around the cap: the merged profile inflates past 64 KiB.
        let tiny = client(server, maxResponseBytes: 64 << 10)
        #expect(await failure { _ = try await tiny.selectMergeProfile(query(selector: "env=~\".*\"")) } == .tooLarge(limit: 64 << 10))

        started = ContinuousClock.now
        #expect(await failure { _ = try await client(server).selectMergeProfile(query("close")) }.map(\.kind) == "unreachable")
        #expect(ContinuousClock.now - started < .seconds(10))
        let nowhere = PyroscopeClient(config: PyroscopeConfig(endpoint: .direct(url: "http://127.0.0.1:1"), retry: RetryPolicy(maxAttempts: 1)))
        #expect(await failure { _ = try await nowhere.profileTypes(range: window) }.map(\.kind) == "unreachable")
        let wrongScheme = PyroscopeClient(config: PyroscopeConfig(endpoint: .direct(url: "file:///etc/passwd")))
        #expect(await failure { _ = try await wrongScheme.profileTypes(range: window) }.map(\.kind) == "misconfigured")
    }

    @Test func secretsNeverAppearInErrorsEvenWhenTheServerEchoesThem() async throws {
        let password = "glc_ECHOED_password_77"
        let server = try PyroscopeTestServer(["--basic", "123456:right-password"])
        for codec in PyroscopeCodec.allCases {
            let wrong = client(server, auth: .basic(user: "123456", password: Secret(password), tenant: "t"), codec: codec)
            let encoded = "MTIzNDU2OmdsY19FQ0hPRURfcGFzc3dvcmRfNzc="  // base64("123456:glc_ECHOED_password_77")
            let e1 = await failure([password, encoded]) { _ = try await wrong.selectMergeProfile(query()) }
            #expect(e1 == .unauthorized("invalid credential: Basic <redacted>"))
            let e2 = await failure([password, encoded]) { _ = try await wrong.series(range: window) }
            #expect(e2?.kind == "unauthorized")
            let health = await wrong.health(now: t0 + hour)
            #expect(!(health.error ?? "").contains(password) && !(health.error ?? "").contains(encoded))
        }
    }

    @Test func healthReportsReachabilityCredentialAndTypes() async throws {
        let server = try PyroscopeTestServer(["--token", Self.token, "--tenants", "acme"])
        let ok = await client(server, auth: .bearer(Secret(Self.token), tenant: "acme")).health(now: t0 + hour)
        #expect(ok.ok && ok.reachable && ok.authOK && ok.profileTypeCount == typesInWindow.count && ok.latencyMs != nil)

        let badToken = await client(server, auth: .bearer(Secret("nope-nope"), tenant: "acme")).health(now: t0 + hour)
        #expect(badToken.reachable && !badToken.authOK && badToken.errorKind == "unauthorized" && !badToken.ok)
        #expect(!(badToken.error ?? "").contains("nope-nope"))

        let noTenant = await client(server, auth: .bearer(Secret(Self.token))).health(now: t0 + hour)
        #expect(noTenant.reachable && !noTenant.authOK && noTenant.errorKind == "tenantMissing")

        let down = await PyroscopeClient(config: PyroscopeConfig(endpoint: .direct(url: "http://127.0.0.1:1"))).health()
        #expect(!down.reachable && !down.authOK && down.errorKind == "unreachable")
    }
}
