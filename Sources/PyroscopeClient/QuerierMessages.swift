import Foundation

/// The QuerierService methods this client calls.
enum QuerierMethod: String, Sendable {
    case profileTypes = "ProfileTypes"
    case labelNames = "LabelNames"
    case labelValues = "LabelValues"
    case series = "Series"
    case selectMergeStacktraces = "SelectMergeStacktraces"
    case selectMergeProfile = "SelectMergeProfile"
}

/// A request message, encodable in both codecs. Field numbers from grafana/pyroscope `api/querier/v1/querier.proto`
/// and `api/types/v1/types.proto` (LabelNamesRequest, LabelValuesRequest).
enum QuerierRequest: Sendable {
    /// ProfileTypesRequest {start = 1, end = 2}
    case profileTypes(start: Int64, end: Int64)
    /// types.v1.LabelNamesRequest {matchers = 1, start = 2, end = 3}
    case labelNames(matchers: [String], start: Int64, end: Int64)
    /// types.v1.LabelValuesRequest {name = 1, matchers = 2, start = 3, end = 4}
    case labelValues(name: String, matchers: [String], start: Int64, end: Int64)
    /// SeriesRequest {matchers = 1, label_names = 2, start = 3, end = 4}
    case series(matchers: [String], labelNames: [String], start: Int64, end: Int64)
    /// SelectMergeStacktracesRequest {profile_typeID = 1, label_selector = 2, start = 3, end = 4,
    /// optional max_nodes = 5, format = 6}; format PROFILE_FORMAT_PPROF = 4.
    case selectMergeStacktraces(PyroscopeQuery, format: Int64)
    /// SelectMergeProfileRequest {profile_typeID = 1, label_selector = 2, start = 3, end = 4, optional max_nodes = 5}
    case selectMergeProfile(PyroscopeQuery)

    static let formatPprof: Int64 = 4

    var method: QuerierMethod {
        switch self {
        case .profileTypes: return .profileTypes
        case .labelNames: return .labelNames
        case .labelValues: return .labelValues
        case .series: return .series
        case .selectMergeStacktraces: return .selectMergeStacktraces
        case .selectMergeProfile: return .selectMergeProfile
        }
    }

    /// Binary protobuf (`application/proto`).
    func binary() -> [UInt8] {
        var w = ProtoWriter()
        switch self {
        case .profileTypes(let start, let end):
            w.int(1, start)
            w.int(2, end)
        case .labelNames(let matchers, let start, let end):
            w.strings(1, matchers)
            w.int(2, start)
            w.int(3, end)
        case .labelValues(let name, let matchers, let start, let end):
            w.string(1, name)
            w.strings(2, matchers)
            w.int(3, start)
            w.int(4, end)
        case .series(let matchers, let labelNames, let start, let end):
            w.strings(1, matchers)
            w.strings(2, labelNames)
            w.int(3, start)
            w.int(4, end)
        case .selectMergeStacktraces(let q, let format):
            w.string(1, q.profileTypeID)
            w.string(2, q.labelSelector)
            w.int(3, q.start)
            w.int(4, q.end)
            w.optionalInt(5, q.maxNodes)
            w.int(6, format)
        case .selectMergeProfile(let q):
            w.string(1, q.profileTypeID)
            w.string(2, q.labelSelector)
            w.int(3, q.start)
            w.int(4, q.end)
            w.optionalInt(5, q.maxNodes)
        }
        return w.bytes
    }

    /// protojson (`application/json`): lowerCamel names, 64-bit integers as strings, the format enum as its number
    /// (an older server's parser rejects an enum name it does not know, but keeps an unknown number).
    func json() -> [UInt8] {
        var o: [String: Any] = [:]
        func range(_ start: Int64, _ end: Int64) {
            o["start"] = String(start)
            o["end"] = String(end)
        }
        switch self {
        case .profileTypes(let start, let end):
            range(start, end)
        case .labelNames(let matchers, let start, let end):
            o["matchers"] = matchers
            range(start, end)
        case .labelValues(let name, let matchers, let start, let end):
            o["name"] = name
            o["matchers"] = matchers
            range(start, end)
        case .series(let matchers, let labelNames, let start, let end):
            o["matchers"] = matchers
            o["labelNames"] = labelNames
            range(start, end)
        case .selectMergeStacktraces(let q, let format):
            o["profileTypeID"] = q.profileTypeID
            o["labelSelector"] = q.labelSelector
            range(q.start, q.end)
            if let m = q.maxNodes { o["maxNodes"] = String(m) }
            o["format"] = format
        case .selectMergeProfile(let q):
            o["profileTypeID"] = q.profileTypeID
            o["labelSelector"] = q.labelSelector
            range(q.start, q.end)
            if let m = q.maxNodes { o["maxNodes"] = String(m) }
        }
        let data = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return [UInt8](data)
    }
}

/// Decoding of the response messages, binary and JSON. Unknown fields are skipped, as protobuf and protojson
/// parsers do; a field of the wrong type is an error.
enum QuerierResponse {
    // MARK: Binary

    /// ProfileTypesResponse {repeated types.v1.ProfileType profile_types = 1}; ProfileType {ID = 1, name = 2,
    /// sample_type = 4, sample_unit = 5, period_type = 6, period_unit = 7}.
    static func profileTypes(binary: [UInt8]) throws(ProtoDecodeError) -> [PyroscopeProfileType] {
        var out: [PyroscopeProfileType] = []
        var r = ProtoReader(binary)
        while let (field, value) = try r.next() {
            guard field == 1 else { continue }
            var t = PyroscopeProfileType(id: "", name: "", sampleType: "", sampleUnit: "", periodType: "", periodUnit: "")
            var m = ProtoReader(try value.payload("profile_types"))
            while let (f, v) = try m.next() {
                switch f {
                case 1: t.id = try v.string("ProfileType.ID")
                case 2: t.name = try v.string("ProfileType.name")
                case 4: t.sampleType = try v.string("ProfileType.sample_type")
                case 5: t.sampleUnit = try v.string("ProfileType.sample_unit")
                case 6: t.periodType = try v.string("ProfileType.period_type")
                case 7: t.periodUnit = try v.string("ProfileType.period_unit")
                default: break
                }
            }
            out.append(t)
        }
        return out
    }

    /// LabelNamesResponse / LabelValuesResponse {repeated string names = 1}.
    static func names(binary: [UInt8]) throws(ProtoDecodeError) -> [String] {
        var out: [String] = []
        var r = ProtoReader(binary)
        while let (field, value) = try r.next() {
            if field == 1 { out.append(try value.string("names")) }
        }
        return out
    }

    /// SeriesResponse {repeated types.v1.Labels labels_set = 2}; Labels {repeated LabelPair labels = 1};
    /// LabelPair {name = 1, value = 2}.
    static func series(binary: [UInt8]) throws(ProtoDecodeError) -> [PyroscopeSeries] {
        var out: [PyroscopeSeries] = []
        var r = ProtoReader(binary)
        while let (field, value) = try r.next() {
            guard field == 2 else { continue }
            var labels: [PyroscopeLabel] = []
            var set = ProtoReader(try value.payload("labels_set"))
            while let (f, v) = try set.next() {
                guard f == 1 else { continue }
                var label = PyroscopeLabel(name: "", value: "")
                var pair = ProtoReader(try v.payload("Labels.labels"))
                while let (pf, pv) = try pair.next() {
                    if pf == 1 { label.name = try pv.string("LabelPair.name") }
                    if pf == 2 { label.value = try pv.string("LabelPair.value") }
                }
                labels.append(label)
            }
            out.append(PyroscopeSeries(labels: labels))
        }
        return out
    }

    /// SelectMergeStacktracesResponse {… pprof = 5}; PprofProfile {google.v1.Profile profile = 1}: the profile's
    /// bytes, or nil when the response has no pprof (an older server answered with a flame graph). A message field
    /// seen more than once merges, which for the wire format is the concatenation of its occurrences.
    static func stacktracesPprof(binary: [UInt8]) throws(ProtoDecodeError) -> [UInt8]? {
        var wrapper: [UInt8]?
        var r = ProtoReader(binary)
        while let (field, value) = try r.next() {
            if field == 5 { wrapper = (wrapper ?? []) + (try value.payload("pprof")) }
        }
        guard let wrapper else { return nil }
        var profile: [UInt8]?
        var w = ProtoReader(wrapper)
        while let (field, value) = try w.next() {
            if field == 1 { profile = (profile ?? []) + (try value.payload("pprof.profile")) }
        }
        return profile
    }

    // MARK: JSON

    static func object(_ body: [UInt8]) throws(ProtoDecodeError) -> [String: Any] {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body)), let o = json as? [String: Any] else {
            throw ProtoDecodeError(reason: "the body is not a JSON object")
        }
        return o
    }

    static func array(_ o: [String: Any], _ key: String, _ alt: String? = nil) throws(ProtoDecodeError) -> [Any] {
        guard let v = o[key] ?? alt.flatMap({ o[$0] }), !(v is NSNull) else { return [] }
        guard let a = v as? [Any] else { throw ProtoDecodeError(reason: "\(key) is not an array") }
        return a
    }

    static func string(_ o: [String: Any], _ key: String, _ alt: String? = nil) throws(ProtoDecodeError) -> String {
        guard let v = o[key] ?? alt.flatMap({ o[$0] }), !(v is NSNull) else { return "" }
        guard let s = v as? String else { throw ProtoDecodeError(reason: "\(key) is not a string") }
        return s
    }

    static func profileTypes(json body: [UInt8]) throws(ProtoDecodeError) -> [PyroscopeProfileType] {
        var out: [PyroscopeProfileType] = []
        for item in try array(try object(body), "profileTypes", "profile_types") {
            guard let t = item as? [String: Any] else { throw ProtoDecodeError(reason: "a profile type is not an object") }
            out.append(
                PyroscopeProfileType(
                    id: try string(t, "ID"), name: try string(t, "name"), sampleType: try string(t, "sampleType", "sample_type"),
                    sampleUnit: try string(t, "sampleUnit", "sample_unit"), periodType: try string(t, "periodType", "period_type"),
                    periodUnit: try string(t, "periodUnit", "period_unit")))
        }
        return out
    }

    static func names(json body: [UInt8]) throws(ProtoDecodeError) -> [String] {
        var out: [String] = []
        for item in try array(try object(body), "names") {
            guard let s = item as? String else { throw ProtoDecodeError(reason: "a name is not a string") }
            out.append(s)
        }
        return out
    }

    static func series(json body: [UInt8]) throws(ProtoDecodeError) -> [PyroscopeSeries] {
        var out: [PyroscopeSeries] = []
        for item in try array(try object(body), "labelsSet", "labels_set") {
            guard let set = item as? [String: Any] else { throw ProtoDecodeError(reason: "a label set is not an object") }
            var labels: [PyroscopeLabel] = []
            for pair in try array(set, "labels") {
                guard let p = pair as? [String: Any] else { throw ProtoDecodeError(reason: "a label is not an object") }
                labels.append(PyroscopeLabel(name: try string(p, "name"), value: try string(p, "value")))
            }
            out.append(PyroscopeSeries(labels: labels))
        }
        return out
    }

    /// `pprof.profile` of a JSON SelectMergeStacktracesResponse, encoded to protobuf; nil when absent.
    static func stacktracesPprof(json body: [UInt8]) throws(ProtoDecodeError) -> [UInt8]? {
        let o = try object(body)
        guard let wrapper = o["pprof"], !(wrapper is NSNull) else { return nil }
        guard let w = wrapper as? [String: Any] else { throw ProtoDecodeError(reason: "pprof is not an object") }
        guard let profile = w["profile"], !(profile is NSNull) else { return nil }
        guard let p = profile as? [String: Any] else { throw ProtoDecodeError(reason: "pprof.profile is not an object") }
        return try PprofJSON.encode(p)
    }

    /// A JSON google.v1.Profile (SelectMergeProfile's answer), encoded to protobuf.
    static func profile(json body: [UInt8]) throws(ProtoDecodeError) -> [UInt8] {
        try PprofJSON.encode(try object(body))
    }
}
