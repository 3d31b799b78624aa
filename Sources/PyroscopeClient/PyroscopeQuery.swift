/// One merged-profile query: a profile type, a label selector and an absolute time range.
public struct PyroscopeQuery: Sendable, Hashable, CustomStringConvertible {
    /// `<name>:<sample type>:<sample unit>:<period type>:<period unit>`, e.g. `process_cpu:cpu:nanoseconds:cpu:nanoseconds`.
    public var profileTypeID: String
    /// A label selector, e.g. `{service_name="checkout"}`; `{}` selects everything.
    public var labelSelector: String
    /// Milliseconds since the epoch.
    public var start: Int64
    public var end: Int64
    /// Asks the server to keep only the heaviest nodes (servers may ignore it for pprof output).
    public var maxNodes: Int64?

    public init(profileTypeID: String, labelSelector: String = "{}", start: Int64, end: Int64, maxNodes: Int64? = nil) {
        self.profileTypeID = profileTypeID.trimmingWhitespace()
        let selector = labelSelector.trimmingWhitespace()
        self.labelSelector = selector.isEmpty ? "{}" : selector
        self.start = start
        self.end = end
        self.maxNodes = maxNodes
    }

    public init(profileTypeID: String, labelSelector: String = "{}", range: PyroscopeTimeRange, maxNodes: Int64? = nil) {
        self.init(profileTypeID: profileTypeID, labelSelector: labelSelector, start: range.start, end: range.end, maxNodes: maxNodes)
    }

    /// `from`/`to` as time expressions (`now-1h`, RFC 3339, ms) resolved against `now`.
    public init(profileTypeID: String, labelSelector: String = "{}", from: String, to: String = "now", now: Int64, maxNodes: Int64? = nil)
        throws(PyroscopeError)
    {
        self.init(
            profileTypeID: profileTypeID, labelSelector: labelSelector,
            range: try PyroscopeTimeRange.resolve(from: from, to: to, now: now), maxNodes: maxNodes)
    }

    public var range: PyroscopeTimeRange { PyroscopeTimeRange(start: start, end: end) }

    /// The same query over another window (a diff's other side).
    public func over(_ range: PyroscopeTimeRange) -> PyroscopeQuery {
        var q = self
        q.start = range.start
        q.end = range.end
        return q
    }

    /// A stable text naming the query exactly (absolute times), for cache keys.
    public var cacheKey: String {
        "pyroscope|\(profileTypeID)|\(labelSelector)|\(start)|\(end)|\(maxNodes.map(String.init) ?? "-")"
    }

    public var description: String { "\(profileTypeID) \(labelSelector) \(range)" }

    /// Checks the query before it is sent: a profile type of five (or six, `:delta`) parts, a range that is not empty.
    public func validate() throws(PyroscopeError) {
        let parts = profileTypeID.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 5 || parts.count == 6, parts.prefix(5).allSatisfy({ !$0.isEmpty }) else {
            throw .unknownProfileType(id: profileTypeID, known: [])
        }
        guard start < end else { throw .invalidQuery("the time range is empty (start \(start) ms is not before end \(end) ms)") }
        if let maxNodes, maxNodes < 0 { throw .invalidQuery("maxNodes must not be negative") }
    }
}

/// One profile type a server holds.
public struct PyroscopeProfileType: Sendable, Hashable {
    /// `<name>:<sample type>:<sample unit>:<period type>:<period unit>`.
    public var id: String
    public var name: String
    public var sampleType: String
    public var sampleUnit: String
    public var periodType: String
    public var periodUnit: String

    public init(id: String, name: String, sampleType: String, sampleUnit: String, periodType: String, periodUnit: String) {
        self.id = id
        self.name = name
        self.sampleType = sampleType
        self.sampleUnit = sampleUnit
        self.periodType = periodType
        self.periodUnit = periodUnit
    }
}

/// One label of a series.
public struct PyroscopeLabel: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A series: one distinct label set.
public struct PyroscopeSeries: Sendable, Hashable {
    public var labels: [PyroscopeLabel]

    public init(labels: [PyroscopeLabel]) { self.labels = labels }

    public subscript(name: String) -> String? { labels.first { $0.name == name }?.value }
}

/// What checkHealth reports about the configured Pyroscope.
public struct PyroscopeHealth: Sendable, Equatable {
    /// Whether the server answered at all (any HTTP status).
    public var reachable: Bool
    /// Whether it accepted the credential and tenant (and answered the call).
    public var authOK: Bool
    /// Profile types in the last hour, when the call succeeded.
    public var profileTypeCount: Int?
    public var latencyMs: Double?
    /// The typed error's text when something failed (never a secret).
    public var error: String?
    /// The typed error's `kind`.
    public var errorKind: String?

    public var ok: Bool { reachable && authOK && error == nil }
}
