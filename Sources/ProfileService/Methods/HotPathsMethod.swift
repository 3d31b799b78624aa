import FlameDiff
import JSONCore
import JSONRPC
import ProtoPprof

/// `profile.hotPaths`'s request: a profile, the query, and the size of the answer.
public struct HotPathsRequest: SourcedRequest {
    public var profile: ProfileRequest
    /// Most paths listed.
    public var maxPaths: Int
    /// Most frames shown per path: the outermost two and the innermost rest; the middle is elided.
    public var maxFrames: Int
    /// Budget of the text, in tokens counted as UTF-8 bytes (an upper bound for byte-level BPE tokenizers).
    public var maxTokens: Int
    public var sources: [any ProfileSource] { profile.sources }

    public static let defaultMaxPaths = 20
    public static let defaultMaxFrames = 16
    public static let defaultMaxTokens = 2000
    /// A name longer than this is shown as its head and tail around "…".
    public static let maxNameBytes = 240

    public init(
        profile: ProfileRequest, maxPaths: Int = defaultMaxPaths, maxFrames: Int = defaultMaxFrames,
        maxTokens: Int = defaultMaxTokens
    ) {
        self.profile = profile
        self.maxPaths = maxPaths
        self.maxFrames = maxFrames
        self.maxTokens = maxTokens
    }
}

/// One listed path: the frames shown (root side first), and how many were elided after the first two.
public struct ListedPath: Sendable, Equatable {
    public var frames: [String]
    public var elidedFrames: Int
    public var selfValue: Int64
    public var share: Double
}

/// The heaviest paths as compact text within a budget, and the same paths as data.
public struct HotPathsResult: Sendable {
    public var sampleType: ValueType
    public var total: Int64
    public var text: String
    public var paths: [ListedPath]
    /// Paths (stacks ending in a frame with self value) there were to list.
    public var pathsAvailable: Int
    /// Self value of the paths left out, and its share of the total.
    public var omittedValue: Int64
    public var omittedShare: Double
    public var maxTokens: Int
    /// The text's token count bound (its UTF-8 bytes).
    public var tokenBound: Int { text.utf8.count }
}

/// `profile.hotPaths`: the heaviest call paths (by the self value of the frame they end in), rendered as
/// one line each, root first, within a token budget; what did not fit is counted, never cut mid-line.
public enum HotPathsMethod: ServiceMethod {
    public static let name = "profile.hotPaths"
    public static let summary = "The heaviest call paths as compact text within a token budget (maxTokens), with what was left out."
    public static let resourcePath: String? = "/hotPaths"
    public static let cacheable = true

    public static func request(from params: Params, in service: ProfileService) throws(RPCError) -> HotPathsRequest {
        HotPathsRequest(
            profile: try ProfileRequest.read(params, service),
            maxPaths: Int(try params.int("maxPaths", in: 1 ... 1000) ?? Int64(HotPathsRequest.defaultMaxPaths)),
            maxFrames: Int(try params.int("maxFrames", in: 3 ... 256) ?? Int64(HotPathsRequest.defaultMaxFrames)),
            maxTokens: Int(try params.int("maxTokens", in: 256 ... 1_000_000) ?? Int64(HotPathsRequest.defaultMaxTokens)))
    }

    public static func respond(to request: HotPathsRequest, in service: ProfileService, context: RequestContext?) async throws(RPCError) -> HotPathsResult {
        let p = try await request.profile.profile.profile(limits: service.config.limits, parameter: "profile")
        let query = request.profile.query
        return try await offload { () throws(RPCError) -> HotPathsResult in
            let tree: CallTree
            do throws(FlameDiffError) { tree = try CallTree(profile: p, options: query) } catch { throw RPCError.badRequest(error) }
            return render(tree, request)
        }
    }

    /// Lists the heaviest self nodes' paths until `maxPaths` or the budget is reached.
    public static func render(_ tree: CallTree, _ request: HotPathsRequest) -> HotPathsResult {
        var heavy: [Int] = []
        for i in 1 ..< max(tree.nodeCount, 1) where tree.selfValue[i] != 0 { heavy.append(i) }
        heavy.sort { a, b in
            let (x, y) = (abs(tree.selfValue[a]), abs(tree.selfValue[b]))
            return x != y ? x > y : a < b
        }
        let total = tree.totalValue
        let unit = tree.sampleType.unit
        func share(_ v: Int64) -> Double { total == 0 ? 0 : 100 * Double(v) / Double(total) }
        let header =
            "Heaviest paths by self \(tree.sampleType.type) (total \(NumberText.value(total, unit: unit))), root > leaf, "
            + "after the leaf's self share and value:\n"
        var text = header
        var listed: [ListedPath] = []
        var listedValue: Int64 = 0
        var remainingValue: Int64 = 0
        for node in heavy { remainingValue += abs(tree.selfValue[node]) }
        let candidates = heavy.prefix(request.maxPaths)
        for (index, node) in candidates.enumerated() {
            let all = tree.path(of: node).map(shortened)
            var frames = all
            var elided = 0
            if all.count > request.maxFrames {
                elided = all.count - request.maxFrames
                frames = Array(all.prefix(2)) + Array(all.suffix(request.maxFrames - 2))
            }
            let value = tree.selfValue[node]
            var shown = frames
            if elided > 0 { shown.insert("… \(elided) frames …", at: 2) }
            let line = "\(listed.count + 1). \(NumberText.share(share(value))) \(NumberText.value(value, unit: unit))  "
                + shown.joined(separator: " > ") + "\n"
            // Room for the closing line as well when something will be left out.
            let footerRoom = index == heavy.count - 1 ? 0 : 120
            if text.utf8.count + line.utf8.count + footerRoom > request.maxTokens { break }
            text += line
            listed.append(ListedPath(frames: frames, elidedFrames: elided, selfValue: value, share: share(value)))
            listedValue += abs(value)
        }
        let omitted = remainingValue - listedValue
        if listed.count < heavy.count {
            let footer =
                "(left out: \(heavy.count - listed.count) more paths holding \(NumberText.share(share(omitted))) of the total; "
                + "raise maxPaths or maxTokens to see them)\n"
            if text.utf8.count + footer.utf8.count <= request.maxTokens { text += footer }
        }
        return HotPathsResult(
            sampleType: tree.sampleType, total: total, text: text, paths: listed, pathsAvailable: heavy.count,
            omittedValue: omitted, omittedShare: share(omitted), maxTokens: request.maxTokens)
    }

    /// A name over `maxNameBytes` as its head and tail around "…".
    static func shortened(_ name: String) -> String {
        guard name.utf8.count > HotPathsRequest.maxNameBytes else { return name }
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

    public static func json(_ r: HotPathsResult) -> JSONValue {
        [
            "sampleType": InfoMethod.json(r.sampleType), "total": .int(r.total), "text": .string(r.text),
            "paths": .array(r.paths.map { p in
                ["frames": .array(p.frames.map(JSONValue.string)), "elidedFrames": .int(Int64(p.elidedFrames)),
                 "self": .int(p.selfValue), "selfPercent": .double(p.share)]
            }),
            "pathsShown": .int(Int64(r.paths.count)), "pathsAvailable": .int(Int64(r.pathsAvailable)),
            "omittedSelf": .int(r.omittedValue), "omittedPercent": .double(r.omittedShare),
            "tokenBound": .int(Int64(r.tokenBound)), "maxTokens": .int(Int64(r.maxTokens)),
        ]
    }
}
