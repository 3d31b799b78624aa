import Explain
import FlameDiff
import ProtoPprof

/// The profile methods, shared by the direct JSON-RPC methods, callResource routes and queryData.
/// Each takes the request's params and returns its result; they are synchronous and CPU-bound.
struct ProfileMethods: Sendable {
    let source: ProfileSource

    func info(_ params: Params) throws(RPCError) -> JSONValue {
        let p = try source.load(params.nested("profile"))
        let labelKeys = Set(p.labels.map(\.key)).map { JSONValue.string(p.strings[Int($0)]) }
        var result: [String: JSONValue] = [
            "sampleTypes": .array(p.sampleTypes.map(Self.json)),
            "samples": .int(Int64(p.sampleCount)),
            "locations": .int(Int64(p.locations.count)),
            "functions": .int(Int64(p.functions.count)),
            "mappings": .int(Int64(p.mappings.count)),
            "period": .int(p.period),
            "durationNanos": .int(p.durationNanos),
            "timeNanos": .int(p.timeNanos),
            "totals": .array(p.sampleTypes.indices.map { .int(p.total(ofType: $0)) }),
            "labelKeys": .array(labelKeys.sorted { $0.stringValue! < $1.stringValue! }),
            "comments": .array(p.comments.map(JSONValue.string)),
            "dropFrames": .string(p.dropFrames),
            "keepFrames": .string(p.keepFrames),
        ]
        if !p.sampleTypes.isEmpty { result["defaultSampleType"] = .int(Int64(p.defaultSampleTypeIndex)) }
        if let periodType = p.periodType { result["periodType"] = Self.json(periodType) }
        return .object(result)
    }

    func top(_ params: Params) throws(RPCError) -> JSONValue {
        let p = try source.load(params.nested("profile"))
        let limit = Int(try params.int("limit", in: 0 ... 1_000_000) ?? 50)
        let options = try params.treeOptions()
        let table: TopTable
        do {
            table = try TopTable(profile: p, options: options)
        } catch {
            throw RPCError.badRequest(error)
        }
        let rows = limit == 0 ? table.rows[...] : table.rows.prefix(limit)
        return [
            "sampleType": Self.json(table.sampleType),
            "total": .int(table.total),
            "functions": .int(Int64(table.rows.count)),
            "rows": .array(
                rows.map { row in
                    [
                        "name": .string(row.name), "flat": .int(row.flat), "flatPercent": .double(table.percent(row.flat)),
                        "cum": .int(row.cum), "cumPercent": .double(table.percent(row.cum)),
                    ]
                }),
        ]
    }

    func flamegraph(_ params: Params) throws(RPCError) -> JSONValue {
        let p = try source.load(params.nested("profile"))
        let format = try params.oneOf("format", default: FlamegraphFormat.levels)
        let maxNodes = Int(try params.int("maxNodes", in: 1 ... Int64(FlameGraph.maxMaxNodes)) ?? Int64(FlameGraph.defaultMaxNodes))
        let options = try params.treeOptions()
        let tree: CallTree
        do {
            tree = try CallTree(profile: p, options: options)
        } catch {
            throw RPCError.badRequest(error)
        }
        var result: [String: JSONValue] = ["format": .string(format.rawValue), "sampleType": Self.json(tree.sampleType)]
        switch format {
        case .folded:
            result["folded"] = .string(String(decoding: FoldedExport.bytes(tree), as: UTF8.self))
        case .levels:
            let graph = FlameGraph(tree: tree, maxNodes: maxNodes)
            result["flamegraph"] = .encoded(FlameGraphLevels(graph).json())
            result["truncation"] = Self.truncation(graph)
        case .dataframe:
            let graph = FlameGraph(tree: tree, maxNodes: maxNodes)
            result["frame"] = .encoded(DataFrameExport.json(graph))
            result["truncation"] = Self.truncation(graph)
        }
        return .object(result)
    }

    func diff(_ params: Params) throws(RPCError) -> JSONValue {
        let baseline = try source.loadMany(params, "baseline")
        let comparison = try source.loadMany(params, "comparison")
        let format = try params.oneOf("format", default: DiffFormat.table)
        let normalization = try params.oneOf("normalization", default: DiffNormalization.share)
        let maxNodes = Int(try params.int("maxNodes", in: 1 ... Int64(FlameGraph.maxMaxNodes)) ?? Int64(FlameGraph.defaultMaxNodes))
        let limit = Int(try params.int("limit", in: 0 ... 1_000_000) ?? 20)
        let options = try params.treeOptions()
        let diff: DiffTree
        do {
            diff = try DiffTree(
                baseline: baseline, comparison: comparison, options: options,
                functionTotals: format == .table || format == .tsv)
        } catch {
            throw RPCError.badRequest(error)
        }
        var result: [String: JSONValue] = [
            "format": .string(format.rawValue), "sampleType": Self.json(diff.sampleType),
            "normalization": .string(normalization.rawValue), "explanation": .string(normalization.explanation),
            "leftTicks": .int(diff.leftTicks), "rightTicks": .int(diff.rightTicks),
        ]
        switch format {
        case .table, .tsv:
            let table = ChangeTable(diff, normalization: normalization)
            func rows(_ changes: [FunctionChange]) -> JSONValue { .array(changes.map(Self.json)) }
            result["increases"] = rows(table.increases(limit == 0 ? Int.max : limit))
            result["decreases"] = rows(table.decreases(limit == 0 ? Int.max : limit))
            result["totalChanges"] = rows(table.byTotalDelta(limit == 0 ? Int.max : limit))
        case .levels:
            result["flamegraph"] = .encoded(FlameGraphDiffLevels(DiffFlameGraph(diff: diff, maxNodes: maxNodes, normalization: normalization)).json())
        case .dataframe:
            result["frame"] = .encoded(DataFrameExport.json(DiffFlameGraph(diff: diff, maxNodes: maxNodes, normalization: normalization)))
        case .folded:
            result["folded"] = .string(String(decoding: FoldedExport.bytes(diff.normalized(normalization)), as: UTF8.self))
        }
        return .object(result)
    }

    /// The offline analysis of `profile` for `sampleType` (default: pprof's, or the first nonzero).
    func analysis(_ params: Params) throws(RPCError) -> Analysis {
        if params.has("flamegraph") { return try flameGraphAnalysis(params) }
        let p = try source.load(params.nested("profile"))
        do {
            return try Analysis(profile: p, sampleType: try params.sampleTypeSelector(), catalogue: Category.catalogue())
        } catch let error as FlameDiffError {
            throw RPCError.badRequest(error)
        } catch {
            throw RPCError.internalError("the analysis catalogue could not be read")
        }
    }

    /// The offline explanation of the change from `baseline` to `comparison` (each one profile or several).
    func diffExplanation(_ params: Params) throws(RPCError) -> DiffExplanation {
        let baseline = try source.loadMany(params, "baseline")
        let comparison = try source.loadMany(params, "comparison")
        let options = TreeOptions(sampleType: try params.sampleTypeSelector())
        let diff: DiffTree
        do {
            diff = try DiffTree(baseline: baseline, comparison: comparison, options: options)
        } catch {
            throw RPCError.badRequest(error)
        }
        guard let catalogue = try? Category.catalogue() else { throw RPCError.internalError("the analysis catalogue could not be read") }
        return DiffExplanation(diff: diff, catalogue: catalogue)
    }

    /// The analysis of a flame graph given in Pyroscope's levels form, `{names, levels: [{values}] or [[…]]}`,
    /// as the frontend holds it; `sampleType` may then be `{type, unit}`.
    func flameGraphAnalysis(_ params: Params) throws(RPCError) -> Analysis {
        let graph = try params.nested("flamegraph")
        guard case .array(let rawNames)? = graph.values["names"] else {
            throw RPCError.invalidParams(graph.name("names"), "must be an array of strings")
        }
        var names: [String] = []
        for n in rawNames {
            guard let s = n.stringValue else { throw RPCError.invalidParams(graph.name("names"), "must be an array of strings") }
            names.append(s)
        }
        guard case .array(let rawLevels)? = graph.values["levels"] else {
            throw RPCError.invalidParams(graph.name("levels"), "must be an array of levels")
        }
        var levels: [[Int64]] = []
        for level in rawLevels {
            let values = level["values"]?.arrayValue ?? level.arrayValue
            guard let values else { throw RPCError.invalidParams(graph.name("levels"), "each level must be {values: [...]} or an array") }
            var ints: [Int64] = []
            ints.reserveCapacity(values.count)
            for v in values {
                guard let i = v.intValue else { throw RPCError.invalidParams(graph.name("levels"), "values must be integers") }
                ints.append(i)
            }
            levels.append(ints)
        }
        var type = ValueType(type: "samples", unit: "count")
        if case .object(let o)? = params.values["sampleType"], let t = o["type"]?.stringValue {
            type = ValueType(type: t, unit: o["unit"]?.stringValue ?? "count")
        }
        do {
            let tree = try CallTree(levels: levels, names: names, sampleType: type)
            return Analysis(top: TopTable(tree: tree), tree: tree, catalogue: try Category.catalogue())
        } catch let error as FlameDiffError {
            throw RPCError.badRequest(error)
        } catch {
            throw RPCError.internalError("the analysis catalogue could not be read")
        }
    }

    static func json(_ t: ValueType) -> JSONValue { ["type": .string(t.type), "unit": .string(t.unit)] }

    static func json(_ c: FunctionChange) -> JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(c.name), "status": .string(c.status.rawValue),
            "leftSelf": .int(c.leftSelf), "rightSelf": .int(c.rightSelf), "leftTotal": .int(c.leftTotal),
            "rightTotal": .int(c.rightTotal), "leftSelfPercent": .double(c.leftSelfShare),
            "rightSelfPercent": .double(c.rightSelfShare), "leftTotalPercent": .double(c.leftTotalShare),
            "rightTotalPercent": .double(c.rightTotalShare), "selfDelta": .double(c.selfDelta),
            "totalDelta": .double(c.totalDelta),
        ]
        if let f = c.selfFactor { o["selfFactor"] = .double(f) }
        return .object(o)
    }

    static func truncation(_ graph: FlameGraph) -> JSONValue {
        ["sourceNodes": .int(Int64(graph.sourceNodes)), "nodes": .int(Int64(graph.nodeCount - 1)),
         "surfacedNodes": .int(Int64(graph.surfacedNodes)), "minTotal": .int(graph.minTotal)]
    }
}
