import FlameDiff
import JSONCore
import JSONRPC
import ProfileService

// MARK: - diff_profiles

public enum DiffProfilesTool: MCPTool {
    public typealias Method = DiffMethod
    public static let name = "diff_profiles"
    public static let title = "Compare two profiles"
    public static let description =
        "What changed between a baseline and a comparison profile: the functions whose self share grew and shrank most, "
        + "new and vanished ones. normalization: share (default; each side as a share of its own total, deltas in "
        + "percentage points), raw, or normalize (pprof -normalize)."
    public static let budget = OutputBudget(defaultTokens: 3000, range: 300...200_000, gives: "the smallest changes are left out")
    public static let required = ["baseline", "comparison"]

    public static func properties(_ environment: ToolEnvironment) -> [String: JSONValue] {
        var p = Arguments.diffSides(environment)
        p["normalization"] = Schema.string(
            "How the sides are compared.", oneOf: DiffNormalization.allCases.map(\.rawValue), default: "share")
        p["limit"] = Schema.integer("Most rows in each of the two lists (grew, shrank).", range: 1...200, default: 10)
        return p
    }

    static let row = Schema.object(
        [
            "name": Schema.text, "status": Schema.string("", oneOf: ["new", "vanished", "changed", "unchanged"]),
            "leftSelfPercent": Schema.number, "rightSelfPercent": Schema.number, "selfDelta": Schema.number,
            "leftTotalPercent": Schema.number, "rightTotalPercent": Schema.number, "totalDelta": Schema.number,
        ],
        required: ["name", "status", "leftSelfPercent", "rightSelfPercent", "selfDelta"])

    public static let outputProperties: [String: JSONValue] = [
        "sampleType": Schema.sampleType, "normalization": Schema.text, "explanation": Schema.text, "leftTicks": Schema.int,
        "rightTicks": Schema.int, "functions": Schema.int, "increases": Schema.array(row), "decreases": Schema.array(row),
    ]
    public static let outputRequired = ["sampleType", "normalization", "leftTicks", "rightTicks", "functions", "increases", "decreases"]

    public static func params(_ arguments: [String: JSONValue]) -> [String: JSONValue] {
        var p = arguments.filter { $0.key != "maxOutputTokens" }
        p["format"] = "table"
        p["limit"] = arguments["limit"] ?? 10
        return p
    }

    public static func prepare(_ request: inout DiffRequest, progress: ProgressReporter?) {
        request.baseline = request.baseline.reporting(to: progress, as: "baseline")
        request.comparison = request.comparison.reporting(to: progress, as: "comparison")
    }

    public static func shape(_ r: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput {
        let increases = r["increases"]?.arrayValue ?? []
        let decreases = r["decreases"]?.arrayValue ?? []
        let (type, unit) = Render.sampleType(r["sampleType"])
        let normalization = r["normalization"]?.stringValue ?? "share"
        let (left, right) = (Render.int(r["leftTicks"]), Render.int(r["rightTicks"]))
        func delta(_ v: Double) -> String {
            normalization == "share" ? NumberText.points(v) : (v < 0 ? "" : "+") + NumberText.value(Int64(v.rounded()), unit: unit)
        }
        func compact(_ row: JSONValue) -> JSONValue {
            var o: [String: JSONValue] = [:]
            o["status"] = row["status"] ?? ""
            for k in ["leftSelfPercent", "rightSelfPercent", "selfDelta", "leftTotalPercent", "rightTotalPercent", "totalDelta"] {
                o[k] = Render.percent(row[k])
            }
            o["name"] = .string(Render.name(row["name"]?.stringValue ?? ""))
            return .object(o)
        }
        func line(_ row: JSONValue) -> String {
            "  " + Render.pad(delta(Render.double(row["selfDelta"])), 10) + "  "
                + "\(NumberText.share(Render.double(row["leftSelfPercent"]))) → \(NumberText.share(Render.double(row["rightSelfPercent"])))  "
                + Render.name(row["name"]?.stringValue ?? "") + " (\(row["status"]?.stringValue ?? ""))"
        }
        let increasing = r["increasing"]?.intValue ?? Int64(increases.count)
        let decreasing = r["decreasing"]?.intValue ?? Int64(decreases.count)
        return fit(count: max(increases.count, decreases.count), budget: budget) { n in
            let up = Array(increases.prefix(n))
            let down = Array(decreases.prefix(n))
            var lines = [
                "Diff of \(type)/\(unit): baseline total \(NumberText.value(left, unit: unit)), comparison total \(NumberText.value(right, unit: unit)); "
                    + (r["explanation"]?.stringValue ?? normalization) + ".",
                "Self grew most (delta, baseline → comparison self share, function):",
            ]
            lines += up.isEmpty ? ["  (none)"] : up.map(line)
            lines.append("Self shrank most:")
            lines += down.isEmpty ? ["  (none)"] : down.map(line)
            var omitted: [String: JSONValue] = [:]
            if increasing > Int64(up.count) { omitted["increases"] = .int(increasing - Int64(up.count)) }
            if decreasing > Int64(down.count) { omitted["decreases"] = .int(decreasing - Int64(down.count)) }
            if !omitted.isEmpty {
                lines.append(
                    "(left out: \(omitted["increases"]?.intValue ?? 0) smaller increases and \(omitted["decreases"]?.intValue ?? 0) "
                        + "smaller decreases; raise limit or maxOutputTokens)")
            }
            return ToolOutput(
                structured: [
                    "sampleType": r["sampleType"] ?? .null, "normalization": .string(normalization), "explanation": r["explanation"] ?? "",
                    "leftTicks": .int(left), "rightTicks": .int(right), "functions": r["functions"] ?? 0,
                    "increases": .array(up.map(compact)), "decreases": .array(down.map(compact)),
                ], text: lines.joined(separator: "\n") + "\n", omitted: omitted)
        }
    }
}

// MARK: - explanations

/// How the three explain tools shape an `ExplainResult`: the text is the Markdown answer with its grounding
/// and the conversation id; the structured content holds the sections, grounding, quality, fallback and a
/// summary of the analysis. Over the budget, detail goes first (analysis lists, grounding name lists), then
/// the sections (the text keeps the answer), then the answer's last paragraphs.
enum ExplainShape {
    static let groundingSchema = Schema.object(
        [
            "cited": Schema.array(Schema.text), "verified": Schema.array(Schema.text), "unverified": Schema.array(Schema.text),
            "numbers": Schema.object(
                ["cited": Schema.array(Schema.text), "verified": Schema.array(Schema.text), "unverified": Schema.array(Schema.text)],
                additional: true),
            "grounded": Schema.bool,
        ],
        required: ["grounded"], additional: true)

    static let qualitySchema = Schema.object(
        [
            "grounded": Schema.bool, "source": Schema.text, "citedNames": Schema.int, "unverifiedNames": Schema.int,
            "citedNumbers": Schema.int, "unverifiedNumbers": Schema.int, "fellBack": Schema.bool,
            "verdict": Schema.string(
                "The answer-quality gate's verdict on the model's answer (absent when no model answered).",
                oneOf: ["accept", "repair", "reject"]),
            "checks": Schema.array(
                Schema.object(["name": Schema.text, "passed": Schema.bool, "detail": Schema.text], required: ["name", "passed"])),
            "sections": Schema.object([:], additional: true),
        ],
        required: ["grounded", "source", "citedNames", "unverifiedNames", "fellBack"], additional: true)

    static func outputProperties(sections: [String]) -> [String: JSONValue] {
        [
            "source": Schema.string("", oneOf: ["llm", "offline"]), "model": Schema.text,
            "sections": Schema.object(Dictionary(uniqueKeysWithValues: sections.map { ($0, Schema.text) }), additional: true),
            "grounding": groundingSchema, "quality": qualitySchema, "conversationId": Schema.text,
            "fallback": Schema.object(["reason": Schema.text, "detail": Schema.text], required: ["reason"]),
            "note": Schema.text, "analysis": ["type": "object"],
        ]
    }

    static let outputRequired = ["source", "grounding", "quality", "conversationId"]

    static func quality(_ r: JSONValue) -> JSONValue {
        let g = r["grounding"]
        var q: [String: JSONValue] = [
            "grounded": g?["grounded"] ?? false, "source": r["source"] ?? "offline",
            "citedNames": .int(Int64(g?["cited"]?.arrayValue?.count ?? 0)),
            "unverifiedNames": .int(Int64(g?["unverified"]?.arrayValue?.count ?? 0)),
            "citedNumbers": .int(Int64(g?["numbers"]?["cited"]?.arrayValue?.count ?? 0)),
            "unverifiedNumbers": .int(Int64(g?["numbers"]?["unverified"]?.arrayValue?.count ?? 0)),
            "fellBack": .bool(r["fallback"] != nil && r["fallback"] != .null),
        ]
        // The answer-quality gate's verdict, checks and section sources, where a model answered.
        if case .object(let gate)? = r["quality"] {
            for key in ["verdict", "checks", "sections"] { q[key] = gate[key] }
        }
        return .object(q)
    }

    /// The analysis as a short summary: the culprit, the bottleneck, the heaviest path and the findings.
    static func analysis(_ a: JSONValue?, detail: Bool) -> JSONValue? {
        guard case .object(let o)? = a else { return nil }
        var out: [String: JSONValue] = [:]
        for key in [
            "culprit", "bottleneck", "bottleneckPercent", "userCaller", "language", "total", "leftTotal", "rightTotal", "sampleType",
        ] {
            if let v = o[key], v != .null { out[key] = v }
        }
        if detail {
            if let path = o["hotPath"]?.arrayValue { out["hotPath"] = .array(path.map { .string(Render.name($0.stringValue ?? "")) }) }
            if let findings = o["findings"]?.arrayValue {
                out["findings"] = .array(
                    findings.prefix(5).map { f in
                        [
                            "category": f["category"] ?? "", "title": f["title"] ?? "", "percent": f["percent"] ?? 0,
                            "functions": f["functions"] ?? [], "callers": f["callers"] ?? [],
                        ]
                    })
            }
            if let changes = o["categoryChanges"]?.arrayValue {
                out["categoryChanges"] = .array(
                    changes.prefix(5).map { c in
                        [
                            "category": c["category"] ?? "", "title": c["title"] ?? "", "leftPercent": c["leftPercent"] ?? 0,
                            "rightPercent": c["rightPercent"] ?? 0, "functions": c["functions"] ?? [], "callers": c["callers"] ?? [],
                        ]
                    })
            }
            if let functions = o["functions"]?.arrayValue { out["functions"] = .array(Array(functions.prefix(10))) }
        }
        return .object(out)
    }

    static func shape(_ r: JSONValue, budget: Int, followUpHint: Bool) -> ToolOutput {
        var markdown = r["markdown"]?.stringValue ?? ""
        while markdown.last?.isWhitespace == true { markdown.removeLast() }
        let paragraphs = markdown.components(separatedBy: "\n\n")
        let conversation = r["conversationId"]?.stringValue ?? ""
        let g = r["grounding"]
        // Levels of reduction, in order; the last ones drop paragraphs of the answer from its end.
        let fixedLevels = 4
        return fit(count: fixedLevels + paragraphs.count, budget: budget) { n in
            // n = fixedLevels + paragraphs.count: everything; each step down removes one more thing.
            let drop = fixedLevels + paragraphs.count - n
            var s: [String: JSONValue] = [
                "source": r["source"] ?? "offline", "conversationId": .string(conversation), "quality": quality(r),
            ]
            for key in ["model", "fallback", "note"] where r[key] != nil && r[key] != .null { s[key] = r[key] }
            if let a = analysis(r["analysis"], detail: drop < 1) { s["analysis"] = a }
            var grounding: [String: JSONValue] = ["grounded": g?["grounded"] ?? false]
            if drop < 2 {
                for key in ["cited", "verified", "unverified", "numbers"] { grounding[key] = g?[key] ?? [] }
            } else {
                grounding["unverified"] = g?["unverified"] ?? []
            }
            s["grounding"] = .object(grounding)
            if drop < 3, let sections = r["sections"] { s["sections"] = sections }
            let kept = drop < fixedLevels ? paragraphs : Array(paragraphs.prefix(max(0, paragraphs.count - (drop - fixedLevels + 1))))
            var text = kept.joined(separator: "\n\n")
            var omitted: [String: JSONValue] = [:]
            if kept.count < paragraphs.count {
                omitted["paragraphs"] = .int(Int64(paragraphs.count - kept.count))
                text += "\n\n(left out: the last \(paragraphs.count - kept.count) paragraphs of the answer; raise maxOutputTokens)"
            }
            if drop >= 1 { omitted["analysisDetail"] = 1 }
            if drop >= 2 { omitted["groundingLists"] = 1 }
            if drop >= 3 { omitted["sections"] = 1 }
            let unverified = (g?["unverified"]?.arrayValue ?? []).compactMap(\.stringValue)
            let cited = g?["cited"]?.arrayValue?.count ?? 0
            text += "\n\nSource: \(r["source"]?.stringValue ?? "offline")"
            if let model = r["model"]?.stringValue, !model.isEmpty { text += " (model \(model))" }
            if let reason = r["fallback"]?["reason"]?.stringValue { text += "; offline because: \(reason)" }
            text += ". Grounding: \(cited - unverified.count) of \(cited) cited names found in the profile"
            if !unverified.isEmpty { text += "; not in the profile: \(unverified.prefix(5).joined(separator: ", "))" }
            text += "."
            if let verdict = r["quality"]?["verdict"]?.stringValue {
                let failed = (r["quality"]?["checks"]?.arrayValue ?? []).filter { $0["passed"] == .bool(false) }.compactMap {
                    $0["name"]?.stringValue
                }
                text += " Quality: \(verdict)" + (failed.isEmpty ? "" : " (failed: \(failed.joined(separator: ", ")))") + "."
            }
            if let note = r["note"]?.stringValue { text += " \(note)." }
            if followUpHint, !conversation.isEmpty {
                text += "\nAsk more with explain_follow_up {\"conversationId\": \"\(conversation)\", \"question\": …}."
            }
            return ToolOutput(structured: s, text: text + "\n", omitted: omitted)
        }
    }
}

extension ExplainRequest {
    /// Progress for the profile read, and the model's answer streamed into progress when a model is asked.
    mutating func report(to progress: ProgressReporter?) {
        guard let progress else { return }
        if case .profile(let source) = input { input = .profile(source.reporting(to: progress)) }
        if gateway != nil {
            stream = true
            onDelta = { text in await progress.delta(text) }
        }
    }
}

public enum ExplainProfileTool: MCPTool {
    public typealias Method = ExplainMethod
    public static let name = "explain_profile"
    public static let title = "Explain a profile"
    public static let description =
        "Explains a profile as an expert would read its flame graph: the performance bottleneck, its root cause and the "
        + "recommended fix, naming functions from the profile. Offline rule-based analysis by default; an LLM when the server "
        + "is configured with one. Every cited name and number is checked against the profile (grounding, quality). "
        + "Keep the conversationId for explain_follow_up."
    public static let budget = OutputBudget(
        defaultTokens: 6000, range: 1000...200_000,
        gives: "analysis detail, grounding lists and sections go first, then the answer's last paragraphs")

    public static func properties(_ environment: ToolEnvironment) -> [String: JSONValue] {
        var p = Arguments.profileQuery(environment)
        p["model"] = Schema.string("The LLM app's model, when an LLM is configured.", oneOf: ["base", "large"])
        return p
    }

    public static let outputProperties = ExplainShape.outputProperties(sections: ["bottleneck", "rootCause", "fix"])
    public static let outputRequired = ExplainShape.outputRequired

    public static func prepare(_ request: inout ExplainRequest, progress: ProgressReporter?) {
        request.report(to: progress)
    }

    public static func shape(_ r: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput {
        ExplainShape.shape(r, budget: budget, followUpHint: true)
    }
}

public enum ExplainDiffTool: MCPTool {
    public typealias Method = ExplainDiffMethod
    public static let name = "explain_diff"
    public static let title = "Explain what changed"
    public static let description =
        "Explains the change from a baseline to a comparison profile: the performance change, the functions behind it (at most "
        + "three, the culprit first) and potential causes. Offline by default, an LLM when configured; grounded like explain_profile."
    public static let budget = ExplainProfileTool.budget
    public static let required = ["baseline", "comparison"]

    public static func properties(_ environment: ToolEnvironment) -> [String: JSONValue] {
        var p = Arguments.diffSides(environment)
        p["model"] = Schema.string("The LLM app's model, when an LLM is configured.", oneOf: ["base", "large"])
        return p
    }

    public static let outputProperties = ExplainShape.outputProperties(sections: ["performanceChange", "functionImpact", "potentialCauses"])
    public static let outputRequired = ExplainShape.outputRequired

    public static func prepare(_ request: inout ExplainDiffRequest, progress: ProgressReporter?) {
        guard let progress else { return }
        request.baseline = request.baseline.reporting(to: progress, as: "baseline")
        request.comparison = request.comparison.reporting(to: progress, as: "comparison")
        if request.gateway != nil {
            request.stream = true
            request.onDelta = { text in await progress.delta(text) }
        }
    }

    public static func shape(_ r: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput {
        ExplainShape.shape(r, budget: budget, followUpHint: true)
    }
}

public enum ExplainFollowUpTool: MCPTool {
    public typealias Method = FollowUpMethod
    public static let name = "explain_follow_up"
    public static let title = "Follow-up question"
    public static let description =
        "Asks a follow-up question about an earlier explanation (its conversationId, kept 30 minutes after last use). "
        + "Needs an LLM; without one the answer is the offline analysis again, and says so."
    public static let budget = ExplainProfileTool.budget
    public static let required = ["conversationId", "question"]

    public static func properties(_ environment: ToolEnvironment) -> [String: JSONValue] {
        [
            "conversationId": Schema.string("The conversationId an explanation returned.", maxLength: 200),
            "question": Schema.string("The question (at most 4,000 bytes).", maxLength: 4000),
            "model": Schema.string("The LLM app's model, when an LLM is configured.", oneOf: ["base", "large"]),
        ]
    }

    public static let outputProperties = ExplainShape.outputProperties(sections: [])
    public static let outputRequired = ExplainShape.outputRequired

    public static func shape(_ r: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput {
        ExplainShape.shape(r, budget: budget, followUpHint: false)
    }
}

// MARK: - test only

/// Test only (`--test-methods`): a call that takes a known time, for cancellation and progress tests.
public enum DebugSleepTool: MCPTool {
    public typealias Method = DebugSleepMethod
    public static let name = "debug_sleep"
    public static let title = "Sleep (test only)"
    public static let description = "Test only: sleeps for ms milliseconds."
    public static let budget = OutputBudget(defaultTokens: 300, range: 300...300, gives: "nothing (the answer is one number)")
    public static let required: [String] = []

    public static func properties(_ environment: ToolEnvironment) -> [String: JSONValue] {
        ["ms": Schema.integer("Milliseconds.", range: 0...60_000, default: 100)]
    }

    public static let outputProperties: [String: JSONValue] = ["slept": Schema.int]
    public static let outputRequired = ["slept"]

    public static func shape(_ r: JSONValue, arguments: [String: JSONValue], budget: Int) throws(RPCError) -> ToolOutput {
        ToolOutput(structured: ["slept": r["slept"] ?? 0], text: "slept \(Render.int(r["slept"])) ms\n")
    }
}
