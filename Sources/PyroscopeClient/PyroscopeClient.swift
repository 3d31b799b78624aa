import ProtoPprof

/// Pyroscope's query API over Connect (no gRPC): directly, or through Grafana's data source proxy.
///
/// Every call is bounded by `config.requestTimeout` as a whole (retries, waits and a fallback request included).
public struct PyroscopeClient: Sendable {
    public let config: PyroscopeConfig

    public init(config: PyroscopeConfig) { self.config = config }

    /// The profile types the server holds in `range`.
    public func profileTypes(range: PyroscopeTimeRange) async throws(PyroscopeError) -> [PyroscopeProfileType] {
        try await profileTypes(range: range, deadline: deadline())
    }

    /// Label names of the series matching every selector in `matchers` (`{service_name="checkout"}`; none: all).
    public func labelNames(matchers: [String] = [], range: PyroscopeTimeRange) async throws(PyroscopeError) -> [String] {
        let answer = try await connect.call(.labelNames(matchers: matchers, start: range.start, end: range.end), deadline: deadline())
        return try decode(answer, binary: QuerierResponse.names(binary:), json: QuerierResponse.names(json:))
    }

    /// Values of label `name` in the series matching `matchers`.
    public func labelValues(name: String, matchers: [String] = [], range: PyroscopeTimeRange) async throws(PyroscopeError) -> [String] {
        let answer = try await connect.call(
            .labelValues(name: name, matchers: matchers, start: range.start, end: range.end), deadline: deadline())
        return try decode(answer, binary: QuerierResponse.names(binary:), json: QuerierResponse.names(json:))
    }

    /// The distinct label sets matching `matchers`, each cut to `labelNames` when given.
    public func series(matchers: [String] = [], labelNames: [String] = [], range: PyroscopeTimeRange) async throws(PyroscopeError)
        -> [PyroscopeSeries]
    {
        let answer = try await connect.call(
            .series(matchers: matchers, labelNames: labelNames, start: range.start, end: range.end), deadline: deadline())
        return try decode(answer, binary: QuerierResponse.series(binary:), json: QuerierResponse.series(json:))
    }

    /// The merged profile of `query` as pprof protobuf bytes, for `Profile.decode`.
    ///
    /// First `SelectMergeStacktraces` with `format = PROFILE_FORMAT_PPROF` (4), the pprof taken from the answer's
    /// `pprof.profile` field (5, then 1). A server older than that format does not know the value, ignores it and
    /// answers 200 with a flame graph: when the answer has no pprof field, or when the method itself is missing
    /// (404 / `unimplemented`), the deprecated `SelectMergeProfile` (which every server has and which answers a
    /// `google.v1.Profile`) is asked instead, with the same fields. A profile without samples is
    /// `unknownProfileType` when the server does not list the type in the range, else `emptyResult`.
    public func selectMergeProfile(_ query: PyroscopeQuery) async throws(PyroscopeError) -> [UInt8] {
        try query.validate()
        let deadline = deadline()
        var pprof: [UInt8]?
        do throws(PyroscopeError) {
            let answer = try await connect.call(.selectMergeStacktraces(query, format: QuerierRequest.formatPprof), deadline: deadline)
            pprof = try decode(answer, binary: QuerierResponse.stacktracesPprof(binary:), json: QuerierResponse.stacktracesPprof(json:))
        } catch {
            switch error {
            case .notFound, .server(501, _): pprof = nil  // no SelectMergeStacktraces at all: the legacy method may exist
            default: throw profileTypeError(error, query)
            }
        }
        if pprof == nil {
            do throws(PyroscopeError) {
                let answer = try await connect.call(.selectMergeProfile(query), deadline: deadline)
                pprof = try decode(answer, binary: { $0 }, json: QuerierResponse.profile(json:))
            } catch {
                throw profileTypeError(error, query)
            }
        }
        let bytes = pprof ?? []
        if try !Self.hasSamples(bytes, limit: config.maxResponseBytes) {
            // A well-formed type the server does not hold gives an empty profile, not an error: tell the two apart.
            if let known = try? await profileTypes(range: query.range, deadline: deadline).map(\.id), !known.contains(query.profileTypeID) {
                throw .unknownProfileType(id: query.profileTypeID, known: known.sorted())
            }
            throw .emptyResult(profileTypeID: query.profileTypeID, labelSelector: query.labelSelector)
        }
        return bytes
    }

    /// The merged profile of `query`, decoded (a profile that does not decode is a `malformedResponse`).
    public func profile(_ query: PyroscopeQuery, limits: DecodeLimits = DecodeLimits()) async throws(PyroscopeError) -> Profile {
        let bytes = try await selectMergeProfile(query)
        do {
            return try Profile.decode(bytes, limits: limits)
        } catch {
            switch error {
            case .inflatedSizeLimit(let limit), .decodeMemoryLimit(let limit): throw .tooLarge(limit: limit)
            default: break
            }
            throw .malformedResponse("the merged profile does not decode: \(error)")
        }
    }

    /// Reachability, the credential and the number of profile types in the hour before `now`, for checkHealth.
    /// One attempt, at most 10 seconds.
    public func health(now: Int64 = PyroscopeTime.nowMilliseconds()) async -> PyroscopeHealth {
        var quick = config
        quick.retry = .none
        quick.requestTimeout = min(config.requestTimeout, .seconds(10))
        let client = PyroscopeClient(config: quick)
        let started = ContinuousClock.now
        func elapsedMs() -> Double {
            let d = ContinuousClock.now - started
            return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        do throws(PyroscopeError) {
            try quick.validate()
            let types = try await client.profileTypes(range: PyroscopeTimeRange(start: now - 3_600_000, end: now))
            return PyroscopeHealth(reachable: true, authOK: true, profileTypeCount: types.count, latencyMs: elapsedMs())
        } catch {
            let reachable: Bool
            switch error {
            case .unreachable, .timeout, .misconfigured, .cancelled: reachable = false
            default: reachable = true
            }
            return PyroscopeHealth(
                reachable: reachable, authOK: false, profileTypeCount: nil, latencyMs: reachable ? elapsedMs() : nil,
                error: error.description, errorKind: error.kind)
        }
    }

    // MARK: - Internals

    private var connect: ConnectCall { ConnectCall(config: config) }

    private func deadline() -> ContinuousClock.Instant { ContinuousClock.now + config.requestTimeout }

    private func profileTypes(range: PyroscopeTimeRange, deadline: ContinuousClock.Instant) async throws(PyroscopeError) -> [PyroscopeProfileType] {
        let answer = try await connect.call(.profileTypes(start: range.start, end: range.end), deadline: deadline)
        return try decode(answer, binary: QuerierResponse.profileTypes(binary:), json: QuerierResponse.profileTypes(json:))
    }

    private func decode<T>(
        _ answer: ConnectCall.Answer, binary: ([UInt8]) throws(ProtoDecodeError) -> T, json: ([UInt8]) throws(ProtoDecodeError) -> T
    ) throws(PyroscopeError) -> T {
        do {
            return answer.codec == .binary ? try binary(answer.body) : try json(answer.body)
        } catch {
            throw .malformedResponse(error.reason)
        }
    }

    /// The server's complaint about a profile type id (Pyroscope: "profile-type selection must be of the form …").
    private func profileTypeError(_ error: PyroscopeError, _ query: PyroscopeQuery) -> PyroscopeError {
        if case .invalidQuery(let message) = error, message.lowercased().contains("profile-type") || message.lowercased().contains("profile type") {
            return .unknownProfileType(id: query.profileTypeID, known: [])
        }
        return error
    }

    /// Whether a pprof message holds at least one sample (field 2), read without decoding it. Gzip is undone first.
    static func hasSamples(_ bytes: [UInt8], limit: Int) throws(PyroscopeError) -> Bool {
        var data = bytes
        if bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b {
            let result: Result<[UInt8], PprofError> = bytes.withUnsafeBytes { raw in
                Result { () throws(PprofError) -> [UInt8] in try Gunzip.inflate(raw, limit: limit) }
            }
            switch result {
            case .success(let inflated): data = inflated
            case .failure(.inflatedSizeLimit): throw .tooLarge(limit: limit)
            case .failure(let error): throw .malformedResponse("the profile's gzip does not inflate: \(error)")
            }
        }
        var reader = ProtoReader(data)
        do {
            while let (field, value) = try reader.next() {
                if field == 2 {
                    _ = try value.payload("sample")
                    return true
                }
            }
        } catch {
            throw .malformedResponse("the profile is not a protobuf message: \(error.reason)")
        }
        return false
    }
}
