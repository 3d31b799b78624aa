import PyroscopeClient
import Testing

/// Time expressions, diff presets, query keys and configuration sources: no server involved.
@Suite struct TimeAndConfigTests {
    static let t0: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    static let hour: Int64 = 3_600_000

    @Test(arguments: [
        ("now", 0), ("NOW", 0), ("now-1h", -hour), ("now-30m", -hour / 2), ("now-1h30m", -hour * 3 / 2), ("now+5m", 300_000),
        ("now-2d", -48 * hour), ("now-1w", -168 * hour), ("now-500ms", -500), ("now-15s", -15_000), (" now-1h ", -hour),
    ] as [(String, Int64)])
    func relativeTimesResolveAgainstTheGivenNow(_ text: String, _ offset: Int64) throws {
        let now = Self.t0 + Self.hour
        #expect(try PyroscopeTime.parse(text, now: now) == now + offset)
    }

    @Test(arguments: [
        ("2026-01-01T00:00:00Z", t0), ("2026-01-01t00:00:00z", t0), ("2026-01-01 00:00:00Z", t0),
        ("2026-01-01T02:00:00+02:00", t0), ("2025-12-31T19:00:00-05:00", t0), ("2026-01-01T00:00:00.250Z", t0 + 250),
        ("2026-01-01T00:00:00.123456789Z", t0 + 123), ("2024-02-29T12:00:00Z", 1_709_208_000_000), ("1970-01-01T00:00:00Z", 0),
        ("1767225600000", t0),
    ] as [(String, Int64)])
    func absoluteTimesAreRFC3339OrMilliseconds(_ text: String, _ expected: Int64) throws {
        // "now" must not matter for an absolute time.
        #expect(try PyroscopeTime.parse(text, now: 42) == expected)
    }

    @Test(arguments: [
        "", "yesterday", "now-", "now-1", "now-1x", "now*1h", "nowish", "now-h", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-01-01T00:00:00", "2026-01-01", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00+2:00", "2026-01-01T00:00:00Zjunk",
        "now-99999999999999h", "99999999999999999999",
    ])
    func badTimesAreInvalidQueries(_ text: String) {
        #expect {
            try PyroscopeTime.parse(text, now: Self.t0)
        } throws: { error in
            guard case .invalidQuery = error as? PyroscopeError else { return false }
            return true
        }
    }

    @Test func rangesResolveBothEndsAgainstOneNowAndMustNotBeEmpty() throws {
        let now = Self.t0 + Self.hour
        #expect(try PyroscopeTimeRange.resolve(from: "now-1h", now: now) == PyroscopeTimeRange(start: Self.t0, end: now))
        #expect(try PyroscopeTimeRange.resolve(from: "now-2h", to: "now-1h", now: now) == PyroscopeTimeRange(start: Self.t0 - Self.hour, end: Self.t0))
        #expect(throws: PyroscopeError.self) { try PyroscopeTimeRange.resolve(from: "now", to: "now-1h", now: now) }
        #expect(throws: PyroscopeError.self) { try PyroscopeTimeRange.resolve(from: "now", to: "now", now: now) }
    }

    @Test func cacheKeysNameAbsoluteTimes() throws {
        let a = try PyroscopeQuery(profileTypeID: "process_cpu:cpu:nanoseconds:cpu:nanoseconds", labelSelector: "{service_name=\"checkout\"}", from: "now-1h", now: Self.t0 + Self.hour)
        let b = try PyroscopeQuery(profileTypeID: "process_cpu:cpu:nanoseconds:cpu:nanoseconds", labelSelector: "{service_name=\"checkout\"}", from: "now-1h", now: Self.t0 + Self.hour)
        let later = try PyroscopeQuery(profileTypeID: "process_cpu:cpu:nanoseconds:cpu:nanoseconds", labelSelector: "{service_name=\"checkout\"}", from: "now-1h", now: Self.t0 + 2 * Self.hour)
        #expect(a == b && a.cacheKey == b.cacheKey)
        #expect(a.cacheKey != later.cacheKey)
        #expect(a.cacheKey.contains(String(Self.t0)) && a.cacheKey.contains(String(Self.t0 + Self.hour)))
        #expect(!a.cacheKey.contains("now"))
        #expect(PyroscopeQuery(profileTypeID: "a:b:c:d:e", labelSelector: "  ", start: 1, end: 2).labelSelector == "{}")
    }

    @Test func diffPresetsShiftTheSameWindowBack() throws {
        let window = PyroscopeTimeRange(start: Self.t0, end: Self.t0 + Self.hour)
        #expect(PyroscopeDiffPreset.yesterday.baseline(for: window) == PyroscopeTimeRange(start: Self.t0 - 24 * Self.hour, end: Self.t0 - 23 * Self.hour))
        #expect(PyroscopeDiffPreset.lastWeek.baseline(for: window) == PyroscopeTimeRange(start: Self.t0 - 168 * Self.hour, end: Self.t0 - 167 * Self.hour))
        #expect(PyroscopeDiffPreset(name: "yesterday") == .yesterday)
        #expect(PyroscopeDiffPreset(name: "last-week") == .lastWeek)
        #expect(PyroscopeDiffPreset(name: "Last_Week") == .lastWeek)
        #expect(PyroscopeDiffPreset(name: "tomorrow") == nil)
        #expect(PyroscopeDiffPreset.lastWeek.rawValue == "last-week")
        let q = PyroscopeQuery(profileTypeID: "a:b:c:d:e", range: window)
        #expect(q.over(PyroscopeDiffPreset.yesterday.baseline(for: q.range)).range == PyroscopeDiffPreset.yesterday.baseline(for: window))
    }

    @Test func queriesAreCheckedBeforeTheyAreSent() {
        #expect(throws: PyroscopeError.unknownProfileType(id: "cpu", known: [])) {
            try PyroscopeQuery(profileTypeID: "cpu", start: 1, end: 2).validate()
        }
        #expect(throws: PyroscopeError.unknownProfileType(id: "a::c:d:e", known: [])) {
            try PyroscopeQuery(profileTypeID: "a::c:d:e", start: 1, end: 2).validate()
        }
        #expect(throws: Never.self) { try PyroscopeQuery(profileTypeID: "memory:alloc_space:bytes:space:bytes:delta", start: 1, end: 2).validate() }
        #expect(throws: PyroscopeError.self) { try PyroscopeQuery(profileTypeID: "a:b:c:d:e", start: 2, end: 2).validate() }
    }

    // MARK: - Configuration

    @Test func environmentGivesURLCredentialAndTenant() throws {
        #expect(try PyroscopeConfig.fromEnvironment([:]) == nil)
        #expect(try PyroscopeConfig.fromEnvironment(["FLAMEGRAPH_AI_PYROSCOPE_URL": "  "]) == nil)

        let basic = try #require(try PyroscopeConfig.fromEnvironment([
            "FLAMEGRAPH_AI_PYROSCOPE_URL": "https://profiles.example.net/", "FLAMEGRAPH_AI_PYROSCOPE_USERNAME": "123456",
            "FLAMEGRAPH_AI_PYROSCOPE_PASSWORD": "glc_pw", "FLAMEGRAPH_AI_PYROSCOPE_TENANT": "team-a",
        ]))
        #expect(basic.endpoint == .direct(url: "https://profiles.example.net"))
        #expect(basic.auth == .basic(user: "123456", password: Secret("glc_pw"), tenant: "team-a"))

        let cloud = try #require(try PyroscopeConfig.fromEnvironment([
            "FLAMEGRAPH_AI_PYROSCOPE_URL": "https://profiles.example.net", "FLAMEGRAPH_AI_PYROSCOPE_USERNAME": "123456",
            "FLAMEGRAPH_AI_PYROSCOPE_TOKEN": "glc_token",
        ]))
        #expect(cloud.auth == .basic(user: "123456", password: Secret("glc_token")))

        let bearer = try #require(try PyroscopeConfig.fromEnvironment([
            "FLAMEGRAPH_AI_PYROSCOPE_URL": "http://grafana:3000", "FLAMEGRAPH_AI_PYROSCOPE_TOKEN": "glsa_x",
            "FLAMEGRAPH_AI_PYROSCOPE_DATASOURCE_UID": "pyro",
        ]))
        #expect(bearer.endpoint == .grafana(url: "http://grafana:3000", datasourceUID: "pyro"))
        #expect(bearer.auth == .bearer(Secret("glsa_x")))
        #expect(bearer.endpoint.methodURL("ProfileTypes") == "http://grafana:3000/api/datasources/proxy/uid/pyro/querier.v1.QuerierService/ProfileTypes")

        #expect(throws: PyroscopeError.self) {
            try PyroscopeConfig.fromEnvironment(["FLAMEGRAPH_AI_PYROSCOPE_URL": "http://p:4040", "FLAMEGRAPH_AI_PYROSCOPE_PASSWORD": "x"])
        }
        #expect(throws: PyroscopeError.self) { try PyroscopeConfig.fromEnvironment(["FLAMEGRAPH_AI_PYROSCOPE_URL": "file:///etc/passwd"]) }
        #expect(throws: PyroscopeError.self) { try PyroscopeConfig.fromEnvironment(["FLAMEGRAPH_AI_PYROSCOPE_URL": "pyroscope:4040"]) }
    }

    @Test func grafanaSettingsGiveTheProxyOrADirectURL() throws {
        #expect(try PyroscopeConfig.fromSettings(jsonData: [:], secure: [:]) == nil)
        let proxy = try #require(try PyroscopeConfig.fromSettings(
            jsonData: ["pyroscopeDatasourceUid": "grafanacloud-profiles", "grafanaURL": "https://me.grafana.net/", "pyroscopeURL": "http://ignored"],
            secure: ["pyroscopeToken": "glsa_abc"]))
        #expect(proxy.endpoint == .grafana(url: "https://me.grafana.net", datasourceUID: "grafanacloud-profiles"))
        #expect(proxy.auth == .bearer(Secret("glsa_abc")))
        #expect(proxy.endpoint.baseURL == "https://me.grafana.net/api/datasources/proxy/uid/grafanacloud-profiles")

        let direct = try #require(try PyroscopeConfig.fromSettings(
            jsonData: ["pyroscopeURL": "http://pyroscope:4040", "pyroscopeUser": "42", "pyroscopeTenant": "t"],
            secure: ["pyroscopePassword": "pw"]))
        #expect(direct.endpoint == .direct(url: "http://pyroscope:4040"))
        #expect(direct.auth == .basic(user: "42", password: Secret("pw"), tenant: "t"))
        let token = try #require(try PyroscopeConfig.fromSettings(jsonData: ["pyroscopeURL": "http://pyroscope:4040"], secure: ["pyroscopeToken": "tok"]))
        #expect(token.auth == .bearer(Secret("tok")))

        #expect(throws: PyroscopeError.self) { try PyroscopeConfig.fromSettings(jsonData: ["pyroscopeDatasourceUid": "x"], secure: [:]) }
    }

    @Test func urlsLoseUserinfoQueryAndTrailingSlashes() {
        let config = PyroscopeConfig(endpoint: .direct(url: "https://123:glc_secret@profiles.example.net/prefix//?x=1#f"))
        #expect(config.endpoint.baseURL == "https://profiles.example.net/prefix")
        #expect(config.auth == .basic(user: "123", password: Secret("glc_secret")))
        #expect(!"\(config)".contains("glc_secret"))
        let explicit = PyroscopeConfig(endpoint: .direct(url: "https://a:b@h"), auth: .bearer(Secret("t")))
        #expect(explicit.auth == .bearer(Secret("t")))
        #expect(PyroscopeEndpoint.grafana(url: "http://g", datasourceUID: "a b/c").baseURL == "http://g/api/datasources/proxy/uid/a%20b%2Fc")
    }

    @Test func descriptionsAndDumpsShowNoSecret() {
        let config = PyroscopeConfig(
            endpoint: .direct(url: "https://user:url-pass-123@host"), auth: .basic(user: "u", password: Secret("pw-secret-456"), tenant: "t"))
        let bearer = PyroscopeConfig(endpoint: .grafana(url: "http://g", datasourceUID: "d"), auth: .bearer(Secret("glsa_token_789")))
        for c in [config, bearer] {
            var dumped = ""
            dump(c, to: &dumped)
            var dumpedAuth = ""
            dump(c.auth, to: &dumpedAuth)
            for text in ["\(c)", String(reflecting: c), "\(c.auth)", String(reflecting: c.auth), "\(c.endpoint)", dumped, dumpedAuth] {
                for secret in ["url-pass-123", "pw-secret-456", "glsa_token_789"] { #expect(!text.contains(secret), "\(text)") }
            }
        }
    }
}
