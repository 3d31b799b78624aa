import ProtoPprof

/// Chrome DevTools / V8 `.cpuprofile` JSON (`node --cpu-prof`, DevTools' "Save profile", the CDP
/// `Profiler.Profile`): `nodes` (each with `id`, `callFrame`, and `children` and/or `parent`), `samples` (node ids
/// in sampling order), `timeDeltas` (microseconds since the previous sample; the first since `startTime`),
/// `startTime` and `endTime` (microseconds).
///
/// Rules:
/// - Sample types `samples/count` (one per sample) and `cpu/nanoseconds` (default; microseconds × 1000, so values
///   stay integers and read like Go's CPU profiles).
/// - Time attribution, as the DevTools timeline (`CPUProfileDataModel`): sample `i` is stamped
///   `t[i] = startTime + timeDeltas[0] + … + timeDeltas[i]`, samples are ordered by stamp (stable, as DevTools
///   sorts them), and sample `i` lasts until the next one, `t[i+1] − t[i]` — that is, `timeDeltas[i+1]`, the delta
///   AFTER it. The last sample lasts until `endTime` (0 if `endTime` is missing or earlier; DevTools gives it the
///   average interval instead — the profile's own end time is the better-founded guess). The time before the first
///   sample (`timeDeltas[0]`) belongs to no sample. Durations are rounded to whole nanoseconds (half away from 0).
///   So `cpu` totals `endTime − startTime − timeDeltas[0]` for a sorted profile. (DevTools' bottom-up table uses
///   `hitCount × (endTime − startTime) / Σ hitCount` instead: the same within one sampling interval per node.)
/// - Without `samples` (some exporters keep only `hitCount`): each node gets `hitCount` samples and
///   `hitCount × (endTime − startTime) / Σ hitCount` time, DevTools' bottom-up rule.
/// - `(root)` is the tree's root and not a frame. `(program)` (native code V8 could not attribute),
///   `(idle)` and `(garbage collector)` are kept as frames of their own under the root, so totals equal the
///   profiled time; filter them with `--ignore`. DevTools' `fixMissingSamples` heuristic (rewriting a lone
///   `(program)` sample between two JS samples) is not applied: we keep what V8 recorded.
/// - A function is (functionName, url); an empty name is `(anonymous)`, as DevTools shows it. A location is the
///   call frame's 1-based line and column (`lineNumber + 1`); `scriptId` is ignored.
/// - The node graph must be a tree rooted at `nodes[0]`: duplicate ids, unknown child or parent or sample ids,
///   a node with two parents, cycles and nodes unreachable from the root are errors naming the node.
enum CPUProfileReader {
    static func read(_ bytes: Bytes, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        var parser = JSONParser(bytes, format: .cpuprofile, maxDepth: limits.maxJSONDepth)
        let json = try parser.parse()
        return try read(json, limits: limits)
    }

    private static func fail(_ location: String, _ reason: String) -> ProfileFormatError {
        .malformed(format: .cpuprofile, location: location, reason: reason)
    }

    static func read(_ json: JSON, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        guard case .object = json else { throw fail("top level", "expected an object, found \(json.typeName)") }
        if json["head"] != nil && json["nodes"] == nil {
            throw fail("head", "the pre-2016 tree format (`head`) is not supported; save the profile again from a current DevTools")
        }
        guard case .array(let nodes)? = json["nodes"] else { throw fail("nodes", "missing or not an array of objects") }
        guard !nodes.isEmpty else { throw fail("nodes", "empty: a profile needs at least its root node") }

        // Node ids → dense indexes.
        var indexOfID: [Int64: Int32] = [:]
        indexOfID.reserveCapacity(nodes.count)
        var ids: [Int64] = []
        ids.reserveCapacity(nodes.count)
        for (k, node) in nodes.enumerated() {
            guard case .object = node else { throw fail("nodes[\(k)]", "expected an object, found \(node.typeName)") }
            guard let id = node["id"]?.int else { throw fail("nodes[\(k)].id", "missing or not an integer") }
            if let previous = indexOfID[id] { throw fail("nodes[\(k)].id", "duplicate node id \(id) (also nodes[\(previous)])") }
            indexOfID[id] = Int32(k)
            ids.append(id)
        }

        // Parents, from children lists and parent fields; they must agree.
        var parent = [Int32](repeating: -1, count: nodes.count)
        var children = [[Int32]](repeating: [], count: nodes.count)
        for (k, node) in nodes.enumerated() {
            guard let list = node["children"], !list.isNull else { continue }
            for (j, childID) in try integers(list, "nodes[\(k)].children").enumerated() {
                guard let c = indexOfID[childID] else { throw fail("nodes[\(k)].children[\(j)]", "node id \(childID) does not exist") }
                if c == 0 {
                    throw fail("nodes[\(k)].children[\(j)]", "the root (node id \(ids[0])) cannot be a child: the nodes form a cycle")
                }
                if parent[Int(c)] >= 0 {
                    throw fail(
                        "nodes[\(k)].children[\(j)]",
                        "node id \(childID) has two parents (node ids \(ids[Int(parent[Int(c)])]) and \(ids[k]))")
                }
                parent[Int(c)] = Int32(k)
                children[k].append(c)
            }
        }
        for (k, node) in nodes.enumerated() {
            guard let p = node["parent"], !p.isNull else { continue }
            guard let parentID = p.int else { throw fail("nodes[\(k)].parent", "not an integer") }
            guard let pk = indexOfID[parentID] else { throw fail("nodes[\(k)].parent", "node id \(parentID) does not exist") }
            if k == 0 {
                throw fail("nodes[0].parent", "the root (nodes[0]) has a parent: the nodes form a cycle or nodes[0] is not the root")
            }
            if parent[k] >= 0 {
                if parent[k] != pk {
                    throw fail(
                        "nodes[\(k)].parent",
                        "parent node id \(parentID) disagrees with the children list of node id \(ids[Int(parent[k])])")
                }
                continue
            }
            parent[k] = pk
            children[Int(pk)].append(Int32(k))
        }

        var builder = ProfileBuilder(format: .cpuprofile, limits: limits)
        builder.sampleTypes = [ValueType(type: "samples", unit: "count"), ValueType(type: "cpu", unit: "nanoseconds")]
        builder.periodType = ValueType(type: "cpu", unit: "nanoseconds")

        // Stacks, breadth first from the root (iterative); every node must be reached exactly once.
        var stackOfNode = [Int32](repeating: -1, count: nodes.count)
        let rootIsVirtual = nodes[0]["callFrame"]?["functionName"]?.string == "(root)"
        if rootIsVirtual {
            stackOfNode[0] = ProfileBuilder.emptyStack
        } else {
            let l = try location(nodes[0], 0, &builder)
            stackOfNode[0] = try builder.push(ProfileBuilder.emptyStack, l, at: "nodes[0]")
        }
        var queue: [Int32] = [0]
        var head = 0
        while head < queue.count {
            let n = Int(queue[head])
            head += 1
            for c in children[n] {
                let ci = Int(c)
                if stackOfNode[ci] >= 0 { throw fail("nodes[\(ci)]", "node id \(ids[ci]) is reached twice: the nodes form a cycle") }
                let l = try location(nodes[ci], ci, &builder)
                stackOfNode[ci] = try builder.push(stackOfNode[n], l, at: "nodes[\(ci)]")
                queue.append(c)
            }
        }
        if let orphan = stackOfNode.firstIndex(of: -1) {
            throw fail(
                "nodes[\(orphan)]", "node id \(ids[orphan]) is not reachable from the root (node id \(ids[0])): a cycle or a missing parent"
            )
        }

        let startTime = json["startTime"]?.double
        let endTime = json["endTime"]?.double
        if let s = startTime, let e = endTime, e >= s { builder.durationNanos = nanoseconds(e - s) ?? 0 }

        let samplesJSON = json["samples"]
        if samplesJSON == nil || samplesJSON?.count == 0 {
            // hitCount only.
            var hits = [Int64](repeating: 0, count: nodes.count)
            var totalHits: Int64 = 0
            for (k, node) in nodes.enumerated() {
                guard let h = node["hitCount"], !h.isNull else { continue }
                guard let v = h.int, v >= 0 else { throw fail("nodes[\(k)].hitCount", "not a non-negative integer") }
                hits[k] = v
                let (sum, o) = totalHits.addingReportingOverflow(v)
                if o { throw .overflow(format: .cpuprofile, sampleType: "samples/count", location: "nodes[\(k)].hitCount") }
                totalHits = sum
            }
            let span = (startTime != nil && endTime != nil) ? max(0, endTime! - startTime!) : 0
            for k in 0..<nodes.count where hits[k] > 0 {
                try builder.countRecord(at: "nodes[\(k)]")
                let time = Double(hits[k]) * span / Double(totalHits)
                guard let ns = nanoseconds(time) else {
                    throw .overflow(format: .cpuprofile, sampleType: "cpu/nanoseconds", location: "nodes[\(k)]")
                }
                try builder.addSample(stack: stackOfNode[k], values: [hits[k], ns], at: "nodes[\(k)]")
            }
            if totalHits > 0 { builder.period = nanoseconds(span / Double(totalHits)) ?? 0 }
            return try builder.build()
        }

        let samples = try integers(samplesJSON!, "samples")
        let deltasJSON = json["timeDeltas"]
        let deltas: [Double]
        switch deltasJSON {
        case nil, .null?:
            throw fail("timeDeltas", "missing: needed with samples (one delta per sample)")
        case .numbers(let d)?:
            deltas = d
        case .array(let a)? where a.isEmpty:
            deltas = []
        default:
            throw fail("timeDeltas", "not an array of numbers")
        }
        guard deltas.count == samples.count else {
            throw fail("timeDeltas", "has \(deltas.count) entries but samples has \(samples.count)")
        }
        if let bad = deltas.firstIndex(where: { !$0.isFinite }) { throw fail("timeDeltas[\(bad)]", "not a finite number") }

        // Stamps, then order by stamp (stable), as DevTools does.
        var stamps = [Double](repeating: 0, count: samples.count)
        var t = startTime ?? 0
        for i in 0..<deltas.count {
            t += deltas[i]
            stamps[i] = t
        }
        guard t.isFinite else { throw fail("timeDeltas", "the timestamps overflow") }
        var order = Array(0..<samples.count)
        var sorted = true
        for i in 1..<max(1, stamps.count) where stamps[i] < stamps[i - 1] {
            sorted = false
            break
        }
        if !sorted { order.sort { stamps[$0] != stamps[$1] ? stamps[$0] < stamps[$1] : $0 < $1 } }

        for (rank, i) in order.enumerated() {
            let id = samples[i]
            guard let k = indexOfID[id] else { throw fail("samples[\(i)]", "node id \(id) does not exist") }
            try builder.countRecord(at: "samples[\(i)]")
            let next: Double?
            if rank + 1 < order.count {
                next = stamps[order[rank + 1]]
            } else {
                next = endTime.map { max($0, stamps[i]) }
            }
            let duration = next.map { $0 - stamps[i] } ?? 0
            guard let ns = nanoseconds(duration) else {
                throw .overflow(format: .cpuprofile, sampleType: "cpu/nanoseconds", location: "samples[\(i)]")
            }
            try builder.addSample(stack: stackOfNode[Int(k)], values: [1, ns], at: "samples[\(i)]")
        }
        if samples.count > 1, let first = order.first, let last = order.last {
            builder.period = nanoseconds((stamps[last] - stamps[first]) / Double(samples.count - 1)) ?? 0
        }
        return try builder.build()
    }

    /// Microseconds to whole nanoseconds; nil when it does not fit in Int64.
    static func nanoseconds(_ microseconds: Double) -> Int64? {
        let ns = (microseconds * 1000).rounded()
        guard ns.isFinite, ns >= -9.2e18, ns <= 9.2e18 else { return nil }
        return Int64(ns)
    }

    private static func integers(_ value: JSON, _ field: String) throws(ProfileFormatError) -> [Int64] {
        switch value {
        case .numbers(let d):
            var out: [Int64] = []
            out.reserveCapacity(d.count)
            for (j, x) in d.enumerated() {
                guard let v = JSON.integer(x) else { throw fail("\(field)[\(j)]", "not an integer") }
                out.append(v)
            }
            return out
        case .array(let a) where a.isEmpty:
            return []
        default:
            throw fail(field, "expected an array of integers, found \(value.typeName)")
        }
    }

    private static func location(_ node: JSON, _ k: Int, _ builder: inout ProfileBuilder) throws(ProfileFormatError) -> Int32 {
        guard let frame = node["callFrame"], case .object = frame else { throw fail("nodes[\(k)].callFrame", "missing or not an object") }
        var name = frame["functionName"]?.string ?? ""
        if name.isEmpty { name = "(anonymous)" }
        let url = frame["url"]?.string ?? ""
        let line = frame["lineNumber"]?.int ?? -1
        let column = frame["columnNumber"]?.int ?? -1
        let f = builder.function(name: name, file: url)
        return builder.location(
            function: f, line: line >= 0 && line < Int64.max ? line + 1 : 0, column: column >= 0 && column < Int64.max ? column + 1 : 0)
    }
}
