import Foundation
import JSONCore
import JSONRPC
import ProfileService
import PyroscopeClient
import Testing

/// How `{pyroscope}` params become sources, without a server: absolute times before any cache key, keys that
/// tell data sources and credentials apart without holding a secret, diff sides, settings and their errors.
@Suite struct PyroscopeSourceTests {
    static let now: Int64 = 1_767_229_200_000  // 2026-01-01T01:00:00Z
    static let cpu = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
    static let token = "tok_KEY_SECRET_77"

    func parser(_ auth: PyroscopeAuth = .bearer(Secret(token), tenant: "t1"), url: String = "http://pyro:4040") -> SourceParser {
        var parser = SourceParser(allowedDirectory: nil)
        parser.pyroscope = .success(PyroscopeConfig(endpoint: .direct(url: url), auth: auth))
        parser.now = Self.now
        return parser
    }

    func source(_ parser: SourceParser, _ query: JSONValue) throws -> PyroscopeSource {
        try #require(try parser.source(Params(["pyroscope": query], path: "profile.")) as? PyroscopeSource)
    }

    @Test func relativeTimesAreResolvedBeforeTheCacheKey() throws {
        let relative = try source(parser(), ["profileTypeID": .string(Self.cpu), "labelSelector": "{service_name=\"a\"}", "from": "now-1h", "to": "now"])
        let absolute = try source(parser(), [
            "profileTypeID": .string(Self.cpu), "labelSelector": "{service_name=\"a\"}", "from": .int(Self.now - 3_600_000),
            "to": "2026-01-01T01:00:00Z",
        ])
        #expect(relative.query.start == Self.now - 3_600_000 && relative.query.end == Self.now)
        #expect(relative.cacheKey == absolute.cacheKey)
        let key = try #require(relative.cacheKey)
        #expect(key.contains("|\(Self.now - 3_600_000)|\(Self.now)|"))
        #expect(key.contains("http://pyro:4040") && key.contains("tenant=t1"))
        #expect(!key.contains(Self.token) && !key.contains("now"))
        // Defaults: the last hour, every series.
        let defaults = try source(parser(), ["profileTypeID": .string(Self.cpu)])
        #expect(defaults.query.labelSelector == "{}" && defaults.query.start == Self.now - 3_600_000 && defaults.query.end == Self.now)
    }

    @Test func keysTellDataSourcesTenantsAndCredentialsApart() throws {
        let q: JSONValue = ["profileTypeID": .string(Self.cpu), "from": "now-1h"]
        let keys = [
            try source(parser(), q).cacheKey, try source(parser(.bearer(Secret("other_SECRET"), tenant: "t1")), q).cacheKey,
            try source(parser(.bearer(Secret(Self.token), tenant: "t2")), q).cacheKey, try source(parser(url: "http://pyro2:4040"), q).cacheKey,
            try source(parser(.basic(user: "u", password: Secret(Self.token), tenant: "t1")), q).cacheKey, try source(parser(.none), q).cacheKey,
        ]
        #expect(Set(keys.compactMap { $0 }).count == keys.count)
        #expect(try source(parser(), q).cacheKey == keys[0])
        for key in keys { #expect(!(key ?? "").contains(Self.token) && !(key ?? "").contains("other_SECRET")) }
    }

    @Test func diffSidesByPresetRangesOrSelectors() throws {
        let p = parser()
        let comparison: JSONValue = ["pyroscope": ["profileTypeID": .string(Self.cpu), "labelSelector": "{service_name=\"a\"}", "from": "now-1h"]]
        let preset = try p.sides(Params(["comparison": comparison, "vs": "last-week"]))
        let base = try #require(preset.baseline.first as? PyroscopeSource)
        let cmp = try #require(preset.comparison.first as? PyroscopeSource)
        #expect(base.query.start == cmp.query.start - 7 * 86_400_000 && base.query.end == cmp.query.end - 7 * 86_400_000)
        #expect(base.query.labelSelector == cmp.query.labelSelector && base.cacheKey != cmp.cacheKey)
        // A baseline that names only its range (or only its selector) takes the rest from the comparison.
        let ranges = try p.sides(Params(["comparison": comparison, "baseline": ["pyroscope": ["from": "now-3h", "to": "now-2h"]]]))
        let earlier = try #require(ranges.baseline.first as? PyroscopeSource)
        #expect(earlier.query.profileTypeID == Self.cpu && earlier.query.labelSelector == "{service_name=\"a\"}")
        #expect(earlier.query.start == Self.now - 3 * 3_600_000 && earlier.query.end == Self.now - 2 * 3_600_000)
        let selectors = try p.sides(Params(["comparison": comparison, "baseline": ["pyroscope": ["labelSelector": "{service_name=\"b\"}"]]]))
        let other = try #require(selectors.baseline.first as? PyroscopeSource)
        #expect(other.query.labelSelector == "{service_name=\"b\"}" && other.query.range == cmp.query.range)
        // Wrong shapes are named.
        for (params, parameter) in [
            (["comparison": comparison, "vs": "tomorrow"], "vs"), (["comparison": comparison, "baseline": comparison, "vs": "yesterday"], "vs"),
            (["comparison": ["pprof": "AAAA"], "vs": "yesterday"], "vs"),
        ] as [(JSONValue, String)] {
            #expect(throws: RPCError.self) { try p.sides(Params(params)) }
            do { _ = try p.sides(Params(params)) } catch { #expect(error.data?["parameter"] == .string(parameter)) }
        }
    }

    @Test func wrongQueriesAndMissingSettingsAreTypedErrors() throws {
        func failure(_ parser: SourceParser, _ query: JSONValue) -> RPCError? {
            do {
                _ = try parser.source(Params(["pyroscope": query], path: "profile."))
                return nil
            } catch { return error }
        }
        let kind = { (e: RPCError?) in e?.data?["kind"]?.stringValue }
        #expect(kind(failure(parser(), ["profileTypeID": "cpu"])) == "unknownProfileType")
        #expect(kind(failure(parser(), ["profileTypeID": .string(Self.cpu), "from": "yesterday"])) == "invalidQuery")
        #expect(kind(failure(parser(), ["profileTypeID": .string(Self.cpu), "from": "now", "to": "now-1h"])) == "invalidQuery")
        #expect(failure(parser(), ["labelSelector": "{}"])?.code == RPCError.invalidParamsCode)
        #expect(failure(parser(), ["profileTypeID": .string(Self.cpu), "from": true])?.code == RPCError.invalidParamsCode)
        let unconfigured = SourceParser(allowedDirectory: nil)
        let none = failure(unconfigured, ["profileTypeID": .string(Self.cpu)])
        #expect(none?.code == RPCError.dataSourceCode && kind(none) == "misconfigured")
        #expect(!unconfigured.kinds.contains("pyroscope") && parser().kinds.contains("pyroscope"))
    }

    /// The request's app settings win over the server's; a uid without Grafana's URL is an error of that request only.
    @Test func settingsComeFromThePluginContextElseTheServer() async throws {
        var config = ServiceConfig()
        config.pyroscope = PyroscopeConfig(endpoint: .direct(url: "http://server-pyro:4040"))
        let service = ProfileService(config: config)
        func settings(_ jsonData: JSONValue, _ secure: JSONValue = [:]) throws -> Params {
            try Params(["pluginContext": ["appInstanceSettings": ["jsonData": jsonData, "decryptedSecureJsonData": secure]]])
        }
        func endpoint(_ p: Params) throws -> String? {
            guard case .success(let c)? = service.sources(for: p).pyroscope else { return nil }
            return c.endpoint.description
        }
        #expect(try endpoint(Params([:])) == "http://server-pyro:4040")
        #expect(try endpoint(settings(["pyroscopeURL": "http://app-pyro:4040"])) == "http://app-pyro:4040")
        #expect(try endpoint(settings(["pyroscopeDatasourceUid": "uid1", "grafanaURL": "http://grafana:3000"], ["pyroscopeToken": .string(Self.token)]))
            == "http://grafana:3000/api/datasources/proxy/uid/uid1")
        guard case .failure(let error)? = service.sources(for: try settings(["pyroscopeDatasourceUid": "uid1"])).pyroscope else {
            Issue.record("a uid without grafanaURL was accepted")
            return
        }
        #expect(error.kind == "misconfigured")
    }
}
