import ArgumentParser
import Foundation
import ProfileService
import PyroscopeClient

/// Where Pyroscope is, with profilecli's flag names: flags, else the environment (FLAMEGRAPH_AI_PYROSCOPE_*).
/// Credentials come only from the environment (…_PASSWORD, …_TOKEN), so that none shows in a process list or a
/// shell history; a URL with userinfo is refused on the command line for the same reason.
struct PyroscopeConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("pyroscope"),
        help: ArgumentHelp(
            "Query profiles from Pyroscope at this URL (Grafana's with --datasource-uid); env FLAMEGRAPH_AI_PYROSCOPE_URL. "
                + "Credentials from the environment only: FLAMEGRAPH_AI_PYROSCOPE_USERNAME with …_PASSWORD (basic), or …_TOKEN (bearer).",
            valueName: "url"))
    var url: String?

    @Option(name: .customLong("tenant-id"), help: "X-Scope-OrgID for a multi-tenant Pyroscope (env FLAMEGRAPH_AI_PYROSCOPE_TENANT).")
    var tenant: String?

    @Option(help: "Basic-auth user; the password from FLAMEGRAPH_AI_PYROSCOPE_PASSWORD or …_TOKEN (env FLAMEGRAPH_AI_PYROSCOPE_USERNAME).")
    var username: String?

    @Option(
        name: .customLong("datasource-uid"),
        help: "Through Grafana's data source proxy: the Pyroscope data source's uid, --pyroscope being Grafana's URL and FLAMEGRAPH_AI_PYROSCOPE_TOKEN a service-account token (env FLAMEGRAPH_AI_PYROSCOPE_DATASOURCE_UID).")
    var datasourceUID: String?

    func validate() throws {
        if let url, Self.hasUserinfo(url) {
            throw ValidationError("--pyroscope must not carry credentials: set FLAMEGRAPH_AI_PYROSCOPE_USERNAME and FLAMEGRAPH_AI_PYROSCOPE_PASSWORD")
        }
    }

    /// The environment with the flags laid over it.
    private var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        if let url { env["FLAMEGRAPH_AI_PYROSCOPE_URL"] = url }
        if let tenant { env["FLAMEGRAPH_AI_PYROSCOPE_TENANT"] = tenant }
        if let username { env["FLAMEGRAPH_AI_PYROSCOPE_USERNAME"] = username }
        if let datasourceUID { env["FLAMEGRAPH_AI_PYROSCOPE_DATASOURCE_UID"] = datasourceUID }
        return env
    }

    /// Whether the command line or the environment names a Pyroscope.
    var isSet: Bool { !(environment["FLAMEGRAPH_AI_PYROSCOPE_URL"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }

    /// nil when no URL is set.
    func config() throws -> PyroscopeConfig? {
        do {
            return try PyroscopeConfig.fromEnvironment(environment)
        } catch {
            throw CLIError(description: error.description)
        }
    }

    static func hasUserinfo(_ url: String) -> Bool {
        guard let scheme = url.range(of: "://") else { return false }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return authority.contains("@")
    }
}

/// A merged-profile query, with profilecli's flag names. Without a FILE and with --pyroscope (or
/// FLAMEGRAPH_AI_PYROSCOPE_URL), `info`, `top`, `flamegraph`, `explain` and `diff` read this query's profile.
struct PyroscopeQueryOptions: ParsableArguments {
    @OptionGroup(title: "Pyroscope") var connection: PyroscopeConnectionOptions

    @Option(name: .customLong("profile-type"), help: "Profile type id (default process_cpu:cpu:nanoseconds:cpu:nanoseconds).")
    var profileType: String?

    @Option(help: "Label selector, e.g. '{service_name=\"checkout\"}' (default {}).")
    var query: String?

    @Option(help: "Start: now-1h (default), now-30m, RFC 3339 or ms since the epoch.")
    var from: String?

    @Option(help: "End: now (default), a relative time, RFC 3339 or ms since the epoch.")
    var to: String?

    static let defaultProfileType = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"

    var queryFlagsGiven: Bool { profileType != nil || query != nil || from != nil || to != nil }

    /// Whether the command reads from Pyroscope: no FILE, and a Pyroscope on the command line or in the environment.
    /// A FILE with --pyroscope or with query flags is refused; so is neither.
    func usesPyroscope(file given: Bool) throws -> Bool {
        if given {
            if connection.url != nil { throw ValidationError("give a profile FILE or --pyroscope, not both") }
            if queryFlagsGiven { throw ValidationError("--profile-type, --query, --from and --to query Pyroscope: give them without a FILE") }
            return false
        }
        guard connection.isSet else {
            throw ValidationError("give a profile FILE, or --pyroscope URL (or FLAMEGRAPH_AI_PYROSCOPE_URL) to query Pyroscope")
        }
        return true
    }

    /// The query's profile, its relative times resolved against `now`.
    func source(now: Int64, selector: String? = nil, from: String? = nil, to: String? = nil, parameter: String = "query") throws -> PyroscopeSource {
        guard let config = try connection.config() else { throw CLIError(description: "no Pyroscope URL: give --pyroscope or set FLAMEGRAPH_AI_PYROSCOPE_URL") }
        do {
            let query = try PyroscopeQuery(
                profileTypeID: profileType ?? Self.defaultProfileType, labelSelector: selector ?? self.query ?? "{}",
                from: from ?? self.from ?? "now-1h", to: to ?? self.to ?? "now", now: now)
            try query.validate()
            return PyroscopeSource(query: query, config: config, parameter: parameter)
        } catch {
            throw CLIError(description: error.description)
        }
    }
}

/// The baseline of a Pyroscope diff (`explain`, `diff`): the query (--query/--from/--to) is the comparison, what is
/// looked at; `--vs yesterday|last-week` or --vs-query/--vs-from/--vs-to (each defaulting to the query's own) name
/// what it is compared with.
struct PyroscopeBaselineOptions: ParsableArguments {
    @Option(name: .customLong("vs-query"), help: "Pyroscope baseline: another label selector (default: --query's).")
    var vsQuery: String?

    @Option(name: .customLong("vs-from"), help: "Pyroscope baseline: another start (default: --from's).")
    var vsFrom: String?

    @Option(name: .customLong("vs-to"), help: "Pyroscope baseline: another end (default: --to's).")
    var vsTo: String?

    var given: Bool { vsQuery != nil || vsFrom != nil || vsTo != nil }

    /// Baseline and comparison; `vs` holds the --vs arguments (in Pyroscope mode one preset name).
    func sides(_ query: PyroscopeQueryOptions, vs: [String], now: Int64) throws -> (baseline: PyroscopeSource, comparison: PyroscopeSource) {
        let comparison = try query.source(now: now)
        if !vs.isEmpty {
            guard vs.count == 1, let preset = PyroscopeDiffPreset(name: vs[0]) else {
                throw ValidationError("with Pyroscope, --vs takes yesterday or last-week (comparing files needs a FILE baseline)")
            }
            if given { throw ValidationError("--vs \(vs[0]) and --vs-query/--vs-from/--vs-to exclude each other") }
            return (comparison.over(preset.baseline(for: comparison.query.range), parameter: "baseline query (--vs \(preset.rawValue))"), comparison)
        }
        guard given else {
            throw ValidationError("give the Pyroscope baseline with --vs yesterday|last-week or --vs-query/--vs-from/--vs-to")
        }
        return (try query.source(now: now, selector: vsQuery, from: vsFrom, to: vsTo, parameter: "baseline query"), comparison)
    }

    /// `vs`: the --vs arguments; a Pyroscope diff needs a baseline.
    func validate(pyroscope: Bool, vs: [String], diff: Bool) throws {
        if pyroscope && diff && vs.isEmpty && !given {
            throw ValidationError("give the Pyroscope baseline with --vs yesterday|last-week or --vs-query/--vs-from/--vs-to")
        }
        if given && !pyroscope { throw ValidationError("--vs-query, --vs-from and --vs-to describe a Pyroscope baseline: give them with --pyroscope and no FILE") }
    }
}

extension PyroscopeQueryOptions {
    /// The profile a command reads: FILE when given, else the Pyroscope query (resolved now).
    func profile(file: String?, _ local: (String) -> LocalFile) throws -> any ProfileSource {
        if let file { return local(file) }
        return try source(now: PyroscopeTime.nowMilliseconds())
    }
}
