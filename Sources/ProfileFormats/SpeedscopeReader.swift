import ProtoPprof

/// speedscope's file format (https://www.speedscope.app/file-format-schema.json), as py-spy `--format speedscope`
/// and other exporters write it: `shared.frames` (`name`, optional `file`, `line`, `col`) and `profiles`, each
/// `sampled` (`samples`: stacks of frame indexes, root first; `weights`: one per sample) or `evented` (`events`:
/// `{type: "O"|"C", frame, at}` in time order).
///
/// Rules:
/// - Sample types: `samples/count` (one per sample of a sampled profile; present when the file has a sampled
///   profile) and the weight, by unit: `seconds`, `milliseconds`, `microseconds`, `nanoseconds` → `time/nanoseconds`
///   (rounded to whole nanoseconds); `bytes` → `space/bytes`; `none` → `weight/count`. The weight is the default.
///   All profiles of a file must share a kind of unit (time, bytes or none).
/// - Evented profiles become one sample per interval between two events, weighted by its length, for the stack
///   open during it; an `O` pushes its frame, a `C` must close the frame on top (else an error, as in speedscope);
///   frames still open at the end are closed at `endValue` (or the last event).
/// - Several profiles (py-spy writes one per thread) are merged into one profile; every sample carries the label
///   `thread` = the profile's `name`, so `--include-label thread=…` picks one.
/// - A frame is a function (name, file) at a location (line, col); frame indexes out of range, mismatched
///   `samples`/`weights` lengths, negative or non-finite weights are errors naming the profile and index.
enum SpeedscopeReader {
    static func read(_ bytes: Bytes, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        var parser = JSONParser(bytes, format: .speedscope, maxDepth: limits.maxJSONDepth)
        return try read(try parser.parse(), limits: limits)
    }

    private static func fail(_ location: String, _ reason: String) -> ProfileFormatError {
        .malformed(format: .speedscope, location: location, reason: reason)
    }

    private enum UnitKind: Equatable {
        case time, bytes, none

        var sampleType: ValueType {
            switch self {
            case .time: return ValueType(type: "time", unit: "nanoseconds")
            case .bytes: return ValueType(type: "space", unit: "bytes")
            case .none: return ValueType(type: "weight", unit: "count")
            }
        }
    }

    /// The kind of a unit and the factor to the sample type's unit.
    private static func unit(_ name: String?, _ field: String) throws(ProfileFormatError) -> (UnitKind, Double) {
        switch name ?? "none" {
        case "none": return (.none, 1)
        case "bytes": return (.bytes, 1)
        case "nanoseconds": return (.time, 1)
        case "microseconds": return (.time, 1e3)
        case "milliseconds": return (.time, 1e6)
        case "seconds": return (.time, 1e9)
        default: throw fail(field, "unknown unit '\(name ?? "")' (none, bytes, nanoseconds, microseconds, milliseconds, seconds)")
        }
    }

    static func read(_ json: JSON, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        guard case .object = json else { throw fail("top level", "expected an object, found \(json.typeName)") }
        guard case .array(let profiles)? = json["profiles"] else { throw fail("profiles", "missing or not an array of objects") }
        let framesJSON: [JSON]
        switch json["shared"]?["frames"] {
        case .array(let a)?: framesJSON = a
        case nil: throw fail("shared.frames", "missing")
        case let other?: throw fail("shared.frames", "expected an array of objects, found \(other.typeName)")
        }

        var builder = ProfileBuilder(format: .speedscope, limits: limits)
        var kind: UnitKind?
        var hasSampled = false
        for (p, profile) in profiles.enumerated() {
            let (k, _) = try unit(profile["unit"]?.string, "profiles[\(p)].unit")
            if let kind, kind != k {
                throw fail("profiles[\(p)].unit", "mixes units of another kind than profiles[0]'s (time, bytes and none cannot be merged)")
            }
            kind = k
            if profile["type"]?.string == "sampled" { hasSampled = true }
        }
        let weightType = (kind ?? .time).sampleType
        builder.sampleTypes = hasSampled ? [ValueType(type: "samples", unit: "count"), weightType] : [weightType]
        builder.periodType = weightType
        if let name = json["name"]?.string, !name.isEmpty { builder.comments = [name] }

        var frames = Frames(json: framesJSON)

        for (p, profile) in profiles.enumerated() {
            guard case .object = profile else { throw fail("profiles[\(p)]", "expected an object, found \(profile.typeName)") }
            let (_, factor) = try unit(profile["unit"]?.string, "profiles[\(p)].unit")
            let name = profile["name"]?.string ?? ""
            let labels = name.isEmpty ? 0 : builder.labelSet(strings: [("thread", name)])
            switch profile["type"]?.string {
            case "sampled":
                guard case .array(let samples)? = profile["samples"] else {
                    if profile["samples"]?.count == 0 { continue }
                    throw fail("profiles[\(p)].samples", "missing or not an array of stacks")
                }
                let weights: [Double]
                switch profile["weights"] {
                case .numbers(let w)?: weights = w
                case .array(let a)? where a.isEmpty: weights = []
                case nil, .null?: weights = [Double](repeating: 1, count: samples.count)
                case let other?: throw fail("profiles[\(p)].weights", "expected an array of numbers, found \(other.typeName)")
                }
                guard weights.count == samples.count else {
                    throw fail("profiles[\(p)].weights", "has \(weights.count) entries but samples has \(samples.count)")
                }
                for (s, stack) in samples.enumerated() {
                    let field = "profiles[\(p)].samples[\(s)]"
                    try builder.countRecord(at: field)
                    var node = ProfileBuilder.emptyStack
                    switch stack {
                    case .numbers(let indexes):
                        for (j, x) in indexes.enumerated() {
                            guard let index = JSON.integer(x) else { throw fail("\(field)[\(j)]", "not an integer frame index") }
                            let l = try frames.location(index, "\(field)[\(j)]", &builder)
                            node = try builder.push(node, l, at: field)
                        }
                    case .array(let a) where a.isEmpty:
                        break
                    default:
                        throw fail(field, "expected an array of frame indexes, found \(stack.typeName)")
                    }
                    let w = try scaled(weights[s], factor, "profiles[\(p)].weights[\(s)]", weightType)
                    try builder.addSample(stack: node, values: [1, w], labelSet: labels, at: field)
                }
            case "evented":
                try readEvents(profile, p, factor: factor, weightType: weightType, twoTypes: hasSampled, labels: labels, &builder, &frames)
            case let other:
                throw fail("profiles[\(p)].type", "expected \"sampled\" or \"evented\", found \(other.map { "\"\($0)\"" } ?? "nothing")")
            }
        }
        return try builder.build()
    }

    private static func readEvents(
        _ profile: JSON, _ p: Int, factor: Double, weightType: ValueType, twoTypes: Bool, labels: Int32,
        _ builder: inout ProfileBuilder, _ frames: inout Frames
    ) throws(ProfileFormatError) {
        guard case .array(let events)? = profile["events"] else {
            if profile["events"]?.count == 0 { return }
            throw fail("profiles[\(p)].events", "missing or not an array of events")
        }
        var open: [(frame: Int64, node: Int32)] = []
        var last = profile["startValue"]?.double
        func attribute(until at: Double, _ field: String) throws(ProfileFormatError) {
            defer { last = at }
            guard let from = last, let top = open.last, at > from else { return }
            let w = try scaled(at - from, factor, field, weightType)
            try builder.countRecord(at: field)
            try builder.addSample(stack: top.node, values: twoTypes ? [0, w] : [w], labelSet: labels, at: field)
        }
        for (e, event) in events.enumerated() {
            let field = "profiles[\(p)].events[\(e)]"
            guard case .object = event, let type = event["type"]?.string, let at = event["at"]?.double, at.isFinite,
                let frame = event["frame"]?.int
            else { throw fail(field, "expected {type: \"O\"|\"C\", frame: integer, at: number}") }
            if let l = last, at < l { throw fail("\(field).at", "events go back in time (\(at) after \(l))") }
            try attribute(until: at, field)
            switch type {
            case "O":
                let parent = open.last?.node ?? ProfileBuilder.emptyStack
                let l = try frames.location(frame, "\(field).frame", &builder)
                open.append((frame, try builder.push(parent, l, at: field)))
            case "C":
                guard let top = open.last else { throw fail(field, "closes frame \(frame) but no frame is open") }
                guard top.frame == frame else { throw fail(field, "closes frame \(frame) but frame \(top.frame) is on top") }
                open.removeLast()
            default:
                throw fail("\(field).type", "expected \"O\" or \"C\", found \"\(type)\"")
            }
        }
        if !open.isEmpty, let end = profile["endValue"]?.double, end.isFinite {
            try attribute(until: max(end, last ?? end), "profiles[\(p)].endValue")
        }
    }

    /// Frames of `shared.frames` → locations, made on first use.
    private struct Frames {
        let json: [JSON]
        var locations: [Int32]

        init(json: [JSON]) {
            self.json = json
            locations = [Int32](repeating: -1, count: json.count)
        }

        mutating func location(_ index: Int64, _ field: @autoclosure () -> String, _ builder: inout ProfileBuilder)
            throws(ProfileFormatError) -> Int32
        {
            guard index >= 0, index < Int64(json.count) else {
                throw fail(field(), "frame \(index) does not exist (shared.frames has \(json.count))")
            }
            let i = Int(index)
            if locations[i] >= 0 { return locations[i] }
            let frame = json[i]
            guard case .object = frame, let name = frame["name"]?.string else {
                throw fail("shared.frames[\(i)]", "expected an object with a string name")
            }
            let file = frame["file"]?.string ?? ""
            let f = builder.function(name: PythonNames.qualified(name, file: file), file: file)
            let line = frame["line"]?.int ?? 0
            let col = frame["col"]?.int ?? 0
            let l = builder.location(function: f, line: max(0, line), column: max(0, col))
            locations[i] = l
            return l
        }
    }

    private static func scaled(_ w: Double, _ factor: Double, _ field: String, _ type: ValueType) throws(ProfileFormatError) -> Int64 {
        guard w.isFinite, w >= 0 else { throw fail(field, "weight \(w) is not a non-negative number") }
        let v = (w * factor).rounded()
        guard v <= 9.2e18 else { throw .overflow(format: .speedscope, sampleType: type.description, location: field) }
        return Int64(v)
    }
}
