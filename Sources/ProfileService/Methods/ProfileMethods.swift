import FlameDiff
import JSONCore
import JSONRPC
import ProtoPprof

/// Output formats of `profile.flamegraph`.
public enum FlamegraphFormat: String, CaseIterable, Sendable {
    case levels, dataframe, folded, svg
}

/// Output formats of `profile.diff`.
public enum DiffFormat: String, CaseIterable, Sendable {
    case table, tsv, levels, dataframe, folded, svg
}

extension Params {
    /// `maxNodes` over RPC: 1 ... 2^20, default 8192 (0 is not "no cut" here; only the CLI offers that).
    func maxNodes() throws(RPCError) -> Int {
        Int(try int("maxNodes", in: 1 ... Int64(FlameGraph.maxMaxNodes)) ?? Int64(FlameGraph.defaultMaxNodes))
    }
}

/// A request about one profile, with the query every profile method shares.
public struct ProfileRequest: SourcedRequest {
    public var profile: any ProfileSource
    public var query: TreeOptions
    public var sources: [any ProfileSource] { [profile] }

    public init(profile: any ProfileSource, query: TreeOptions = TreeOptions()) {
        self.profile = profile
        self.query = query
    }

    static func read(_ params: Params, _ service: ProfileService) throws(RPCError) -> ProfileRequest {
        ProfileRequest(profile: try service.sources(for: params).source(params.nested("profile")), query: try params.treeOptions())
    }
}

/// `profile.info`: sample types, counts, period, duration, totals, label keys.
public enum InfoMethod: ServiceMethod {
    public static let name = "profile.info"
    public static let summary = "Sample types, units, counts, period, duration, totals and label keys of a profile."
    public static let resourcePath: String? = "/info"
    public static let cacheable = true

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> ProfileRequest {
        try ProfileRequest.read(params, service)
    }

    public static func respond(to request: ProfileRequest, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> Profile {
        try await request.profile.profile(limits: service.config.limits, parameter: "profile")
    }

    public static func json(_ p: Profile) -> JSONValue {
        let labelKeys = Set(p.labels.map(\.key)).map { p.strings[Int($0)] }.sorted()
        var result: [String: JSONValue] = [
            "sampleTypes": .array(p.sampleTypes.map(json)),
            "samples": .int(Int64(p.sampleCount)),
            "locations": .int(Int64(p.locations.count)),
            "functions": .int(Int64(p.functions.count)),
            "mappings": .int(Int64(p.mappings.count)),
            "period": .int(p.period),
            "durationNanos": .int(p.durationNanos),
            "timeNanos": .int(p.timeNanos),
            "totals": .array(p.sampleTypes.indices.map { .int(p.total(ofType: $0)) }),
            "labelKeys": .array(labelKeys.map(JSONValue.string)),
            "comments": .array(p.comments.map(JSONValue.string)),
            "dropFrames": .string(p.dropFrames),
            "keepFrames": .string(p.keepFrames),
        ]
        if !p.sampleTypes.isEmpty { result["defaultSampleType"] = .int(Int64(p.defaultSampleTypeIndex)) }
        if let periodType = p.periodType { result["periodType"] = json(periodType) }
        return .object(result)
    }

    static func json(_ t: ValueType) -> JSONValue { ["type": .string(t.type), "unit": .string(t.unit)] }
}

/// What `profile.sampleTypes` answers: every type with its total, pprof's default, and the one the
/// commands use when none is asked for.
public struct SampleTypesResult: Sendable {
    public var types: [ValueType]
    public var totals: [Int64]
    public var defaultIndex: Int?
    public var chosenIndex: Int?
}

/// `profile.sampleTypes`: the choices a sample-type picker offers.
public enum SampleTypesMethod: ServiceMethod {
    public static let name = "profile.sampleTypes"
    public static let summary = "The sample types of a profile with their totals, pprof's default and the type used when none is given."
    public static let resourcePath: String? = "/sampleTypes"
    public static let cacheable = true

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> ProfileRequest {
        try ProfileRequest.read(params, service)
    }

    public static func respond(to request: ProfileRequest, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> SampleTypesResult {
        let p = try await request.profile.profile(limits: service.config.limits, parameter: "profile")
        return SampleTypesResult(
            types: p.sampleTypes, totals: p.sampleTypes.indices.map { p.total(ofType: $0) },
            defaultIndex: p.sampleTypes.isEmpty ? nil : p.defaultSampleTypeIndex, chosenIndex: try? p.sampleTypeIndex(nil))
    }

    public static func json(_ r: SampleTypesResult) -> JSONValue {
        [
            "sampleTypes": .array(r.types.enumerated().map { i, t in
                ["index": .int(Int64(i)), "type": .string(t.type), "unit": .string(t.unit), "total": .int(r.totals[i])]
            }),
            "defaultSampleType": r.defaultIndex.map { .int(Int64($0)) } ?? .null,
            "chosenSampleType": r.chosenIndex.map { .int(Int64($0)) } ?? .null,
        ]
    }
}

/// `profile.top`'s request: a profile, the query and how many rows (0: all).
public struct TopRequest: SourcedRequest {
    public var profile: ProfileRequest
    public var limit: Int
    public var sources: [any ProfileSource] { profile.sources }

    public init(profile: ProfileRequest, limit: Int = 50) {
        self.profile = profile
        self.limit = limit
    }
}

/// `profile.top`: flat, flat%, cum, cum% per function, as `go tool pprof -top`.
public enum TopMethod: ServiceMethod {
    public static let name = "profile.top"
    public static let summary = "Functions by flat value with flat%, cum and cum%, as `go tool pprof -top`."
    public static let resourcePath: String? = "/top"
    public static let cacheable = true

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> TopRequest {
        TopRequest(profile: try ProfileRequest.read(params, service), limit: Int(try params.int("limit", in: 0 ... 1_000_000) ?? 50))
    }

    public static func respond(to request: TopRequest, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> (table: TopTable, limit: Int) {
        let p = try await request.profile.profile.profile(limits: service.config.limits, parameter: "profile")
        let query = request.profile.query
        let table = try await offload { () throws(RPCError) -> TopTable in
            do throws(FlameDiffError) { return try TopTable(profile: p, options: query) } catch { throw RPCError.badRequest(error) }
        }
        return (table, request.limit)
    }

    public static func json(_ r: (table: TopTable, limit: Int)) -> JSONValue {
        let table = r.table
        let rows = r.limit == 0 ? table.rows[...] : table.rows.prefix(r.limit)
        return [
            "sampleType": InfoMethod.json(table.sampleType),
            "total": .int(table.total),
            "functions": .int(Int64(table.rows.count)),
            "rows": .array(rows.map { row in
                [
                    "name": .string(row.name), "flat": .int(row.flat), "flatPercent": .double(table.percent(row.flat)),
                    "cum": .int(row.cum), "cumPercent": .double(table.percent(row.cum)),
                ]
            }),
        ]
    }
}

/// `profile.flamegraph`'s request.
public struct FlamegraphRequest: SourcedRequest {
    public var profile: ProfileRequest
    public var format: FlamegraphFormat
    /// Most nodes; 0 means no cut (the CLI's choice; over RPC it is 1 ... 2^20).
    public var maxNodes: Int
    public var sources: [any ProfileSource] { profile.sources }

    public init(profile: ProfileRequest, format: FlamegraphFormat = .levels, maxNodes: Int = FlameGraph.defaultMaxNodes) {
        self.profile = profile
        self.format = format
        self.maxNodes = maxNodes
    }
}

/// A flame graph in the requested format: the cut graph (levels, data frame) or the whole tree (folded).
public struct FlamegraphResult: Sendable {
    public var format: FlamegraphFormat
    public var sampleType: ValueType
    public var tree: CallTree
    public var graph: FlameGraph?

    /// The export's bytes, as the CLI prints them.
    public var bytes: [UInt8] {
        switch format {
        case .folded: return FoldedExport.bytes(tree)
        case .levels: return FlameGraphLevels(graph!).json()
        case .dataframe: return DataFrameExport.json(graph!)
        case .svg: return SVGExport.svg(graph!)
        }
    }
}

/// `profile.flamegraph`: Pyroscope levels, a Grafana data frame, or folded stacks.
public enum FlamegraphMethod: ServiceMethod {
    public static let name = "profile.flamegraph"
    public static let summary = "A flame graph as Pyroscope levels, a Grafana data frame or folded stacks, cut to maxNodes."
    public static let resourcePath: String? = "/flamegraph"
    public static let cacheable = true

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> FlamegraphRequest {
        FlamegraphRequest(
            profile: try ProfileRequest.read(params, service), format: try params.oneOf("format", default: FlamegraphFormat.levels),
            maxNodes: try params.maxNodes())
    }

    public static func respond(to request: FlamegraphRequest, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> FlamegraphResult {
        // The profile goes once its tree is built: a 1M-sample profile's 60 MB are not held while the tree is cut.
        let box = Handoff(try await request.profile.profile.profile(limits: service.config.limits, parameter: "profile"))
        let query = request.profile.query
        return try await offload { () throws(RPCError) -> FlamegraphResult in
            let tree: CallTree
            do throws(FlameDiffError) { tree = try CallTree(profile: box.take()!, options: query) } catch { throw RPCError.badRequest(error) }
            let graph = request.format == .folded ? nil : FlameGraph(tree: tree, maxNodes: request.maxNodes)
            return FlamegraphResult(format: request.format, sampleType: tree.sampleType, tree: tree, graph: graph)
        }
    }

    public static func json(_ r: FlamegraphResult) -> JSONValue {
        var result: [String: JSONValue] = ["format": .string(r.format.rawValue), "sampleType": InfoMethod.json(r.sampleType)]
        switch r.format {
        case .folded:
            result["folded"] = .string(String(decoding: r.bytes, as: UTF8.self))
        case .levels:
            result["flamegraph"] = .encoded(r.bytes)
            result["truncation"] = truncation(r.graph!)
        case .dataframe:
            result["frame"] = .encoded(r.bytes)
            result["truncation"] = truncation(r.graph!)
        case .svg:
            result["svg"] = .string(String(decoding: r.bytes, as: UTF8.self))
            result["truncation"] = truncation(r.graph!)
        }
        return .object(result)
    }

    static func truncation(_ graph: FlameGraph) -> JSONValue {
        ["sourceNodes": .int(Int64(graph.sourceNodes)), "nodes": .int(Int64(graph.nodeCount - 1)),
         "surfacedNodes": .int(Int64(graph.surfacedNodes)), "minTotal": .int(graph.minTotal)]
    }
}

/// `profile.diff`'s request: two sides of one or more profiles each.
public struct DiffRequest: SourcedRequest {
    public var baseline: [any ProfileSource]
    public var comparison: [any ProfileSource]
    public var query: TreeOptions
    public var format: DiffFormat
    public var normalization: DiffNormalization
    public var maxNodes: Int
    /// Rows per table section (0: all).
    public var limit: Int
    public var sources: [any ProfileSource] { baseline + comparison }

    public init(
        baseline: [any ProfileSource], comparison: [any ProfileSource], query: TreeOptions = TreeOptions(),
        format: DiffFormat = .table, normalization: DiffNormalization = .share, maxNodes: Int = FlameGraph.defaultMaxNodes, limit: Int = 20
    ) {
        self.baseline = baseline
        self.comparison = comparison
        self.query = query
        self.format = format
        self.normalization = normalization
        self.maxNodes = maxNodes
        self.limit = limit
    }
}

/// A diff in the requested format.
public struct DiffResult: Sendable {
    public var request: DiffRequest
    public var diff: DiffTree
    public var table: ChangeTable?
    public var graph: DiffFlameGraph?
}

/// `profile.diff`: a change table, Pyroscope diff levels, a Grafana diff frame, or folded diff.
public enum DiffMethod: ServiceMethod {
    public static let name = "profile.diff"
    public static let summary = "Compare a baseline with a comparison: change table, diff levels, diff data frame or folded."
    public static let resourcePath: String? = "/diff"
    public static let cacheable = true

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> DiffRequest {
        let sides = try service.sources(for: params).sides(params)
        return DiffRequest(
            baseline: sides.baseline, comparison: sides.comparison,
            query: try params.treeOptions(), format: try params.oneOf("format", default: DiffFormat.table),
            normalization: try params.oneOf("normalization", default: DiffNormalization.share), maxNodes: try params.maxNodes(),
            limit: Int(try params.int("limit", in: 0 ... 1_000_000) ?? 20))
    }

    public static func respond(to request: DiffRequest, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> DiffResult {
        let (baseline, comparison) = try await service.sides(baseline: request.baseline, comparison: request.comparison)
        return try await offload { () throws(RPCError) -> DiffResult in
            let diff: DiffTree
            do throws(FlameDiffError) {
                diff = try DiffTree(
                    baseline: baseline, comparison: comparison, options: request.query,
                    functionTotals: request.format == .table || request.format == .tsv)
            } catch {
                throw RPCError.badRequest(error)
            }
            var result = DiffResult(request: request, diff: diff)
            switch request.format {
            case .table, .tsv: result.table = ChangeTable(diff, normalization: request.normalization)
            case .levels, .dataframe, .svg: result.graph = DiffFlameGraph(diff: diff, maxNodes: request.maxNodes, normalization: request.normalization)
            case .folded: break
            }
            return result
        }
    }

    public static func json(_ r: DiffResult) -> JSONValue {
        let diff = r.diff
        let request = r.request
        var result: [String: JSONValue] = [
            "format": .string(request.format.rawValue), "sampleType": InfoMethod.json(diff.sampleType),
            "normalization": .string(request.normalization.rawValue), "explanation": .string(request.normalization.explanation),
            "leftTicks": .int(diff.leftTicks), "rightTicks": .int(diff.rightTicks),
        ]
        let limit = request.limit == 0 ? Int.max : request.limit
        switch request.format {
        case .table, .tsv:
            let table = r.table!
            func rows(_ changes: [FunctionChange]) -> JSONValue { .array(changes.map(json)) }
            result["increases"] = rows(table.increases(limit))
            result["decreases"] = rows(table.decreases(limit))
            result["totalChanges"] = rows(table.byTotalDelta(limit))
            // How many there were, so that a reader knows what the limit left out.
            result["functions"] = .int(Int64(table.rows.count))
            result["increasing"] = .int(Int64(table.rows.filter { $0.selfDelta > 0 }.count))
            result["decreasing"] = .int(Int64(table.rows.filter { $0.selfDelta < 0 }.count))
        case .levels:
            result["flamegraph"] = .encoded(FlameGraphDiffLevels(r.graph!).json())
        case .dataframe:
            result["frame"] = .encoded(DataFrameExport.json(r.graph!))
        case .svg:
            result["svg"] = .string(String(decoding: SVGExport.svg(r.graph!), as: UTF8.self))
        case .folded:
            result["folded"] = .string(String(decoding: FoldedExport.bytes(diff.normalized(request.normalization)), as: UTF8.self))
        }
        return .object(result)
    }

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
}
