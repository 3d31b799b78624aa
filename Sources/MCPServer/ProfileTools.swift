import FlameDiff
import JSONCore
import JSONRPC
import ProfileService

/// Argument schemas the profile tools share.
enum Arguments {
    static func profile(_ environment: ToolEnvironment, _ what: String = "The profile") -> JSONValue {
        var properties: [String: JSONValue] = [
            "pprof": Schema.string("A pprof profile (protobuf, gzip or raw) as base64."),
            "data": Schema.string("A profile in any format the server reads, as base64 (see encoding)."),
            "encoding": Schema.string(
                "The format of data or path; auto (default) detects it from the content.", oneOf: SourceParser.encodings),
        ]
        var how = "{\"pprof\": base64} or {\"data\": base64, \"encoding\"?}"
        var sources = ["data", "pprof"]
        if let directory = environment.allowedDirectory {
            properties["path"] = Schema.string("A profile file inside \(directory): relative to it, or absolute.")
            how = "{\"path\": file, \"encoding\"?}, " + how
            sources.append("path")
        }
        guard case .object(var o) = Schema.object(properties, description: "\(what): \(how).") else { return .null }
        o["minProperties"] = 1
        o["maxProperties"] = 2
        // Not standard JSON Schema (an annotation to other validators): this server checks it.
        o[SchemaValidator.exactlyOneOf] = .array(sources.sorted().map(JSONValue.string))
        return .object(o)
    }

    /// Sample type, frame key and filters, as `profile.top` takes them.
    static let query: [String: JSONValue] = [
        "sampleType": Schema.string(
            "Sample type by name (cpu, alloc_space, or with its unit: cpu/nanoseconds) or index (\"1\"); "
                + "default: the profile's default type, else the first with values."),
        "key": Schema.string(
            "What makes two frames the same node: function (default), function+line (gives file:line), function+file.",
            oneOf: FrameKey.allCases.map(\.rawValue), default: "function"),
        "focus": Schema.string(
            "Keep only samples with a frame whose function, file or mapping matches this RE2 expression (pprof -focus)."),
        "ignore": Schema.string("Drop samples with a frame whose function, file or mapping matches this RE2 expression (pprof -ignore)."),
        "includeLabels": Schema.array(Schema.text, description: "Keep only samples carrying every label key=value.", maxItems: 32),
        "excludeLabels": Schema.array(Schema.text, description: "Drop samples carrying any label key=value.", maxItems: 32),
    ]

    static func profileQuery(_ environment: ToolEnvironment) -> [String: JSONValue] {
        query.merging(["profile": profile(environment)]) { a, _ in a }
    }

    static func diffSides(_ environment: ToolEnvironment) -> [String: JSONValue] {
        query.merging([
            "baseline": profile(environment, "The baseline (before)"),
            "comparison": profile(environment, "The comparison (after)"),
        ]) { a, _ in a }
    }
}

/// Text helpers for renderings.
enum Render {
    static let maxNameBytes = 240

    /// A name over 240 bytes as its head and tail around "…".
    static func name(_ name: String) -> String {
        guard name.utf8.count > maxNameBytes else { return name }
        var head = ""
        var tail = ""
        for ch in name {
            if head.utf8.count + ch.utf8.count > 120 { break }
            head.append(ch)
        }
        for ch in name.reversed() {
            if tail.utf8.count + ch.utf8.count > 110 { break }
            tail.insert(ch, at: tail.startIndex)
        }
        return head + "…" + tail
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    static func double(_ v: JSONValue?) -> Double {
        switch v {
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        default: return 0
        }
    }

    static func int(_ v: JSONValue?) -> Int64 { v?.intValue ?? 0 }

    /// A percentage for structured content: two decimals are all a reader needs, and cost fewer tokens.
    static func percent(_ v: Double) -> JSONValue { .double((v * 100).rounded() / 100) }

    static func percent(_ v: JSONValue?) -> JSONValue { percent(double(v)) }

    static func sampleType(_ v: JSONValue?) -> (type: String, unit: String) {
        (v?["type"]?.stringValue ?? "", v?["unit"]?.stringValue ?? "")
    }
}

// MARK: - profile_info

public enum ProfileInfoTool: MCPTool {
    public typealias Method = InfoMethod
    public static let name = "profile_info"
    public static let title = "Profile summary"
    public static let description =
        "What a pprof profile holds: its sample types with totals (which to pass as sampleType), sample, function and location "
        + "counts, period, duration and label keys (for includeLabels/excludeLabels). Start here."
    public static let budget = OutputBudget(defaultTokens: 1500, range: 300...100_000, gives: "label keys and comments are left out")

    public static func properties(_ environment: ToolEnvironment) -> [String: JSONValue] {
        ["profile": Arguments.profile(environment)]
    }

    public static let outputProperties: [String: JSONValue] = [
        "sampleTypes": Schema.array(
            Schema.object(
                ["index": Schema.int, "type": Schema.text, "unit": Schema.text, "total": Schema.int],
                required: ["index", "type", "unit", "total"])),
        "defaultSampleType": Schema.int, "samples": Schema.int, "functions": Schema.int, "locations": Schema.int,
        "mappings": Schema.int, "period": Schema.int, "periodType": Schema.sampleType, "durationNanos": Schema.int,
        "labelKeys": Schema.array(Schema.text), "comments": Schema.array(Schema.text),
    ]
    public static let outputRequired = ["sampleTypes", "samples", "functions", "locations", "labelKeys"]

    public static func prepare(_ request: inout ProfileRequest, progress: ProgressReporter?) {
        request.profile = request.profile.reporting(to: progress)
    }

    public static func shape(_ r: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput {
        let types = r["sampleTypes"]?.arrayValue ?? []
        let totals = r["totals"]?.arrayValue ?? []
        let defaultIndex = r["defaultSampleType"]?.intValue
        var sampleTypes: [JSONValue] = []
        var typeText: [String] = []
        for (i, t) in types.enumerated() {
            let (type, unit) = Render.sampleType(t)
            let total = Render.int(totals.indices.contains(i) ? totals[i] : nil)
            sampleTypes.append(["index": .int(Int64(i)), "type": .string(type), "unit": .string(unit), "total": .int(total)])
            typeText.append(
                "\(i): \(type)/\(unit) total \(NumberText.value(total, unit: unit))\(Int64(i) == defaultIndex ? " (default)" : "")")
        }
        let labelKeys = (r["labelKeys"]?.arrayValue ?? []).compactMap(\.stringValue).map(Render.name)
        let comments = (r["comments"]?.arrayValue ?? []).compactMap(\.stringValue).map(Render.name)
        let items = labelKeys.map { (true, $0) } + comments.map { (false, $0) }
        return fit(count: items.count, budget: budget) { n in
            let keys = items.prefix(n).filter(\.0).map(\.1)
            let notes = items.prefix(n).filter { !$0.0 }.map(\.1)
            var s: [String: JSONValue] = [
                "sampleTypes": .array(sampleTypes), "samples": r["samples"] ?? 0, "functions": r["functions"] ?? 0,
                "locations": r["locations"] ?? 0, "mappings": r["mappings"] ?? 0, "period": r["period"] ?? 0,
                "durationNanos": r["durationNanos"] ?? 0, "labelKeys": .array(keys.map(JSONValue.string)),
                "comments": .array(notes.map(JSONValue.string)),
            ]
            if let d = defaultIndex { s["defaultSampleType"] = .int(d) }
            var text = "Sample types: \(typeText.joined(separator: "; "))\n"
            text +=
                "Samples: \(Render.int(r["samples"])); functions \(Render.int(r["functions"])); locations \(Render.int(r["locations"])); mappings \(Render.int(r["mappings"]))\n"
            if let pt = r["periodType"] {
                s["periodType"] = pt
                let (type, unit) = Render.sampleType(pt)
                text += "Period: \(NumberText.value(Render.int(r["period"]), unit: unit)) of \(type)\n"
            }
            let duration = Render.int(r["durationNanos"])
            if duration != 0 { text += "Duration: \(NumberText.value(duration, unit: "nanoseconds"))\n" }
            if !keys.isEmpty { text += "Label keys: \(keys.joined(separator: ", "))\n" }
            for c in notes { text += "Comment: \(c)\n" }
            var omitted: [String: JSONValue] = [:]
            if keys.count < labelKeys.count { omitted["labelKeys"] = .int(Int64(labelKeys.count - keys.count)) }
            if notes.count < comments.count { omitted["comments"] = .int(Int64(comments.count - notes.count)) }
            if !omitted.isEmpty {
                text += "(left out: \(omitted.map { "\($0.value.intValue ?? 0) \($0.key)" }.sorted().joined(separator: ", ")))\n"
            }
            return ToolOutput(structured: s, text: text, omitted: omitted)
        }
    }
}

// MARK: - top_functions

public enum TopFunctionsTool: MCPTool {
    public typealias Method = TopMethod
    public static let name = "top_functions"
    public static let title = "Top functions"
    public static let description =
        "The functions that use the most (flat: in their own code; cum: including callees), as `go tool pprof -top`. "
        + "key: \"function+line\" names each row `function file:line`. Filter with focus/ignore (RE2) and labels."
    public static let budget = OutputBudget(defaultTokens: 3000, range: 300...200_000, gives: "the lowest rows are left out")

    public static func properties(_ environment: ToolEnvironment) -> [String: JSONValue] {
        var p = Arguments.profileQuery(environment)
        p["limit"] = Schema.integer("Most rows (by flat value).", range: 1...500, default: 20)
        return p
    }

    static let row = Schema.object(
        [
            "rank": Schema.int, "name": Schema.text, "flat": Schema.int, "flatPercent": Schema.number, "cum": Schema.int,
            "cumPercent": Schema.number,
        ],
        required: ["rank", "name", "flat", "flatPercent", "cum", "cumPercent"])

    public static let outputProperties: [String: JSONValue] = [
        "sampleType": Schema.sampleType, "total": Schema.int, "functions": Schema.int, "key": Schema.text,
        "rows": Schema.array(row),
    ]
    public static let outputRequired = ["sampleType", "total", "functions", "key", "rows"]

    public static func params(_ arguments: [String: JSONValue]) -> [String: JSONValue] {
        var p = arguments.filter { $0.key != "maxOutputTokens" }
        p["limit"] = arguments["limit"] ?? 20
        return p
    }

    public static func prepare(_ request: inout TopRequest, progress: ProgressReporter?) {
        request.profile.profile = request.profile.profile.reporting(to: progress)
    }

    public static func shape(_ r: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput {
        let rows = r["rows"]?.arrayValue ?? []
        let (type, unit) = Render.sampleType(r["sampleType"])
        let total = Render.int(r["total"])
        let functions = Render.int(r["functions"])
        let key = arguments["key"]?.stringValue ?? "function"
        return fit(count: rows.count, budget: budget) { n in
            var lines = [
                "Top functions by flat \(type)/\(unit) (total \(NumberText.value(total, unit: unit)); \(functions) functions; key \(key)):",
                "  flat%       flat   cum%        cum  name",
            ]
            var out: [JSONValue] = []
            var shownFlat = 0.0
            for (i, row) in rows.prefix(n).enumerated() {
                let name = Render.name(row["name"]?.stringValue ?? "")
                let (flat, cum) = (Render.int(row["flat"]), Render.int(row["cum"]))
                let (fp, cp) = (Render.double(row["flatPercent"]), Render.double(row["cumPercent"]))
                shownFlat += fp
                out.append([
                    "rank": .int(Int64(i + 1)), "name": .string(name), "flat": .int(flat), "flatPercent": Render.percent(fp),
                    "cum": .int(cum), "cumPercent": Render.percent(cp),
                ])
                lines.append(
                    Render.pad(NumberText.share(fp), 7) + Render.pad(NumberText.value(flat, unit: unit), 11)
                        + Render.pad(NumberText.share(cp), 7) + Render.pad(NumberText.value(cum, unit: unit), 11) + "  " + name)
            }
            var omitted: [String: JSONValue] = [:]
            let left = Int(functions) - out.count
            if left > 0 {
                let rest = max(0, 100 - shownFlat)
                omitted = ["functions": .int(Int64(left)), "flatPercent": Render.percent(rest)]
                lines.append("(left out: \(left) functions holding \(NumberText.share(rest)) flat; raise limit or maxOutputTokens)")
            }
            return ToolOutput(
                structured: [
                    "sampleType": r["sampleType"] ?? .null, "total": .int(total), "functions": .int(functions), "key": .string(key),
                    "rows": .array(out),
                ],
                text: lines.joined(separator: "\n") + "\n", omitted: omitted)
        }
    }
}

// MARK: - hot_paths

public enum HotPathsTool: MCPTool {
    public typealias Method = HotPathsMethod
    public static let name = "hot_paths"
    public static let title = "Heaviest call paths"
    public static let description =
        "The heaviest call paths, root > leaf, one line each with the leaf's self share: where the time or memory goes and "
        + "how it is reached. Compact text within maxOutputTokens; long paths keep their outermost two and innermost frames."
    public static let budget = OutputBudget(
        defaultTokens: HotPathsRequest.defaultMaxTokens, range: 600...200_000, gives: "the lightest paths are left out")

    public static func properties(_ environment: ToolEnvironment) -> [String: JSONValue] {
        var p = Arguments.profileQuery(environment)
        p["maxPaths"] = Schema.integer("Most paths listed.", range: 1...1000, default: HotPathsRequest.defaultMaxPaths)
        p["maxFrames"] = Schema.integer(
            "Most frames shown per path (the middle of a longer one is elided).", range: 3...256, default: HotPathsRequest.defaultMaxFrames)
        return p
    }

    public static let outputProperties: [String: JSONValue] = [
        "sampleType": Schema.sampleType, "total": Schema.int, "text": Schema.text, "pathsShown": Schema.int,
        "pathsAvailable": Schema.int, "omittedPercent": Schema.number,
    ]
    public static let outputRequired = ["sampleType", "total", "text", "pathsShown", "pathsAvailable", "omittedPercent"]

    /// Room in the budget for the structured content's fields besides the text.
    static let fieldsRoom: Int64 = 300

    /// The method renders the text within its own `maxTokens`: the tool's budget less room for the fields
    /// that come with it (the text is the answer; flame_graph has the paths as data).
    public static func params(_ arguments: [String: JSONValue]) -> [String: JSONValue] {
        var p = arguments.filter { $0.key != "maxOutputTokens" }
        let budget = arguments["maxOutputTokens"]?.intValue ?? Int64(self.budget.defaultTokens)
        p["maxTokens"] = .int(max(256, budget - fieldsRoom))
        return p
    }

    public static func prepare(_ request: inout HotPathsRequest, progress: ProgressReporter?) {
        request.profile.profile = request.profile.profile.reporting(to: progress)
    }

    public static func shape(_ r: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput {
        let available = Render.int(r["pathsAvailable"])
        let shown = Render.int(r["pathsShown"])
        var omitted: [String: JSONValue] = [:]
        if shown < available { omitted = ["paths": .int(available - shown), "selfPercent": Render.percent(r["omittedPercent"])] }
        let text = r["text"]?.stringValue ?? ""
        return ToolOutput(
            structured: [
                "sampleType": r["sampleType"] ?? .null, "total": r["total"] ?? 0, "text": .string(text), "pathsShown": .int(shown),
                "pathsAvailable": .int(available), "omittedPercent": Render.percent(r["omittedPercent"]),
            ], text: text, omitted: omitted)
    }
}

// MARK: - flame_graph

public enum FlameGraphTool: MCPTool {
    public typealias Method = FlamegraphMethod
    public static let name = "flame_graph"
    public static let title = "Flame graph (levels)"
    public static let description =
        "A flame graph in Pyroscope's levels form, cut to maxNodes (the rest of each parent's children merge into \"other\"). "
        + "levels[d] lists the nodes at depth d, 4 numbers each: x (delta-encoded: x - (previous x + previous total)), total, "
        + "self, index into names; level 0 is the root \"total\". For reading a profile, top_functions and hot_paths are shorter."
    public static let budget = OutputBudget(
        defaultTokens: 12_000, range: 1000...1_000_000, gives: "maxNodes is lowered until the graph fits")

    public static func properties(_ environment: ToolEnvironment) -> [String: JSONValue] {
        var p = Arguments.profileQuery(environment)
        p["maxNodes"] = Schema.integer("Most nodes drawn (the heaviest).", range: 1...10_000, default: 200)
        return p
    }

    public static let outputProperties: [String: JSONValue] = [
        "sampleType": Schema.sampleType, "names": Schema.array(Schema.text), "levels": Schema.array(Schema.array(Schema.int)),
        "total": Schema.int, "maxSelf": Schema.int,
        "truncation": Schema.object(
            ["sourceNodes": Schema.int, "nodes": Schema.int, "surfacedNodes": Schema.int, "minTotal": Schema.int, "maxNodes": Schema.int],
            required: ["sourceNodes", "nodes", "maxNodes"]),
    ]
    public static let outputRequired = ["sampleType", "names", "levels", "total", "maxSelf", "truncation"]

    public static func params(_ arguments: [String: JSONValue]) -> [String: JSONValue] {
        var p = arguments.filter { $0.key != "maxOutputTokens" }
        p["format"] = "levels"
        p["maxNodes"] = arguments["maxNodes"] ?? 200
        return p
    }

    public static func prepare(_ request: inout FlamegraphRequest, progress: ProgressReporter?) {
        request.profile.profile = request.profile.profile.reporting(to: progress)
    }

    public static func shape(_ r: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput {
        var graph: JSONValue = r["flamegraph"] ?? .null
        if case .encoded(let bytes) = graph {
            do { graph = try JSONParser.parse(bytes) } catch { throw RPCError.internalError("the flame graph could not be read back") }
        }
        let names = (graph["names"]?.arrayValue ?? []).map { JSONValue.string(Render.name($0.stringValue ?? "")) }
        let levels = (graph["levels"]?.arrayValue ?? []).map { $0["values"] ?? $0 }
        var truncation = r["truncation"]?.objectValue ?? [:]
        truncation["maxNodes"] = arguments["maxNodes"] ?? 200
        let structured: [String: JSONValue] = [
            "sampleType": r["sampleType"] ?? .null, "names": .array(names), "levels": .array(levels), "total": graph["total"] ?? 0,
            "maxSelf": graph["maxSelf"] ?? 0, "truncation": .object(truncation),
        ]
        var omitted: [String: JSONValue] = [:]
        let cut = Render.int(truncation["sourceNodes"]) - Render.int(truncation["nodes"])
        if cut > 0 { omitted["nodes"] = .int(cut) }
        return ToolOutput(
            structured: structured, text: String(decoding: JSONValue.object(structured).encoded(), as: UTF8.self), omitted: omitted)
    }

    /// Over the budget: the same graph with fewer nodes, in proportion, until it fits.
    public static func retry(_ output: ToolOutput, budget: Int, params: inout [String: JSONValue]) -> Bool {
        let limit = budget - OutputBudget.slack
        guard output.size > limit, let nodes = params["maxNodes"]?.intValue, nodes > 1 else { return false }
        let smaller = max(1, Int64(Double(nodes) * Double(limit) / Double(output.size) * 0.9))
        params["maxNodes"] = .int(min(nodes - 1, smaller))
        return true
    }
}
