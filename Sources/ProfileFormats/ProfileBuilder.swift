import ProtoPprof

/// Builds a `Profile` the way the pprof converter lays it out: strings, functions, mappings and locations interned
/// (equal ones share an index), stacks interned and numbered in order of first appearance, label sets interned
/// (set 0 empty). Readers push frames root first into a trie of stacks (`push`), so a stack shared by many samples,
/// or a prefix shared by many stacks, is stored once; `build` lays the used stacks out leaf first.
///
/// Every value added is checked: the sum of a sample type's magnitudes must fit in Int64, or the reader fails with
/// `.overflow`.
struct ProfileBuilder {
    let format: ProfileFormat
    let limits: FormatLimits
    /// Samples with the same stack and label set are merged into one (values added) when true; kept apart (as pprof
    /// keeps legacy records) when false.
    let mergeSamples: Bool

    var sampleTypes: [ValueType] = []
    var periodType: ValueType?
    var period: Int64 = 0
    var durationNanos: Int64 = 0
    var timeNanos: Int64 = 0
    var defaultSampleType = ""
    var dropFrames = ""
    var keepFrames = ""
    var comments: [String] = []

    private(set) var strings: [String] = [""]
    private var stringIDs: [String: Int32] = ["": 0]
    private(set) var functions: [Function] = []
    private var functionIDs: [FunctionKey: Int32] = [:]
    private(set) var mappings: [Mapping] = []
    private(set) var locations: [Location] = []
    private var lines: [Line] = []
    private var lineLocationIDs: [LineLocationKey: Int32] = [:]
    private var addressLocationIDs: [AddressKey: Int32] = [:]

    // The stack trie: node 0 is the empty stack.
    private var trieParent: [Int32] = [-1]
    private var trieLocation: [Int32] = [-1]
    private var trieDepth: [Int32] = [0]
    private var trieChildren: [UInt64: Int32] = [:]

    private var sampleNodes: [Int32] = []
    private var sampleLabelSets: [Int32] = []
    private var values: [Int64] = []
    private var sampleIndex: [UInt64: Int32] = [:]
    /// Σ|value| per sample type so far.
    private var totals: [Int64] = []
    private var records = 0

    private var labels: [Label] = []
    private var labelSetOffsets: [Int32] = [0, 0]
    private var labelSetIDs: [[Label]: Int32] = [:]

    static let emptyStack: Int32 = 0

    init(format: ProfileFormat, limits: FormatLimits, mergeSamples: Bool = true) {
        self.format = format
        self.limits = limits
        self.mergeSamples = mergeSamples
    }

    // MARK: Interning

    mutating func string(_ s: String) -> Int32 {
        if let id = stringIDs[s] { return id }
        let id = Int32(strings.count)
        strings.append(s)
        stringIDs[s] = id
        return id
    }

    /// A function by name, file and start line (interned).
    mutating func function(name: String, systemName: String? = nil, file: String = "", startLine: Int64 = 0) -> Int32 {
        let key = FunctionKey(
            name: string(name), systemName: systemName.map { string($0) } ?? string(name), file: string(file),
            startLine: startLine)
        if let id = functionIDs[key] { return id }
        let id = Int32(functions.count)
        functions.append(
            Function(id: UInt64(id) + 1, name: key.name, systemName: key.systemName, filename: key.file, startLine: startLine))
        functionIDs[key] = id
        return id
    }

    /// A new mapping (not interned: readers keep their own table).
    mutating func mapping(
        file: String, buildID: String = "", start: UInt64 = 0, limit: UInt64 = 0, offset: UInt64 = 0,
        hasFunctions: Bool = false
    ) -> Int32 {
        let id = Int32(mappings.count)
        mappings.append(
            Mapping(
                id: UInt64(id) + 1, memoryStart: start, memoryLimit: limit, fileOffset: offset, filename: string(file),
                buildID: string(buildID), hasFunctions: hasFunctions, hasFilenames: hasFunctions))
        return id
    }

    /// A location of one line of `function` (interned by function, line, column, mapping and address).
    mutating func location(function: Int32, line: Int64 = 0, column: Int64 = 0, mapping: Int32 = -1, address: UInt64 = 0) -> Int32 {
        let key = LineLocationKey(function: function, line: line, column: column, mapping: mapping, address: address)
        if let id = lineLocationIDs[key] { return id }
        let id = Int32(locations.count)
        locations.append(
            Location(id: UInt64(id) + 1, mapping: mapping, address: address, firstLine: Int32(lines.count), lineCount: 1))
        lines.append(Line(function: function, line: line, column: column))
        lineLocationIDs[key] = id
        return id
    }

    /// A location at `address` in `mapping` (-1: none), with the given lines (innermost first, as in pprof) or none
    /// (unsymbolized: named `0x… [binary]` or `<unknown>` by FlameDiff, as pprof's own unsymbolized frames).
    /// Interned by mapping and address; the lines of the first call win.
    mutating func addressLocation(address: UInt64, mapping: Int32, lines frames: [(function: Int32, line: Int64)] = []) -> Int32 {
        let key = AddressKey(mapping: mapping, address: address)
        if let id = addressLocationIDs[key] { return id }
        let id = Int32(locations.count)
        locations.append(
            Location(
                id: UInt64(id) + 1, mapping: mapping, address: address, firstLine: Int32(lines.count),
                lineCount: Int32(frames.count)))
        for f in frames { lines.append(Line(function: f.function, line: f.line)) }
        addressLocationIDs[key] = id
        return id
    }

    /// An interned label set (0 for none).
    mutating func labelSet(_ set: [Label]) -> Int32 {
        if set.isEmpty { return 0 }
        if let id = labelSetIDs[set] { return id }
        labels.append(contentsOf: set)
        labelSetOffsets.append(Int32(labels.count))
        let id = Int32(labelSetOffsets.count - 2)
        labelSetIDs[set] = id
        return id
    }

    /// A label set of string labels.
    mutating func labelSet(strings pairs: [(String, String)], numbers: [(String, Int64)] = []) -> Int32 {
        var set: [Label] = []
        for (k, v) in pairs { set.append(Label(key: string(k), str: string(v))) }
        for (k, v) in numbers { set.append(Label(key: string(k), num: v)) }
        return labelSet(set)
    }

    // MARK: Stacks

    /// The stack `parent` with `location` called from its leaf. Fails past `limits.maxStackDepth`.
    mutating func push(_ parent: Int32, _ location: Int32, at position: @autoclosure () -> String) throws(ProfileFormatError) -> Int32 {
        let key = UInt64(UInt32(bitPattern: parent)) << 32 | UInt64(UInt32(bitPattern: location))
        if let node = trieChildren[key] { return node }
        let depth = trieDepth[Int(parent)] + 1
        if Int(depth) > limits.maxStackDepth {
            throw .limitExceeded(
                format: format, what: "\(position()): stack deeper than \(limits.maxStackDepth) frames", limit: limits.maxStackDepth)
        }
        let node = Int32(trieParent.count)
        if node == Int32.max { throw .limitExceeded(format: format, what: "too many distinct stack prefixes", limit: Int(Int32.max)) }
        trieParent.append(parent)
        trieLocation.append(location)
        trieDepth.append(depth)
        trieChildren[key] = node
        return node
    }

    /// The stack of `locations` given leaf first (as pprof lists them).
    mutating func stack(leafFirst locations: [Int32], at position: @autoclosure () -> String) throws(ProfileFormatError) -> Int32 {
        var node = Self.emptyStack
        for l in locations.reversed() { node = try push(node, l, at: position()) }
        return node
    }

    func depth(of node: Int32) -> Int { Int(trieDepth[Int(node)]) }

    // MARK: Samples

    /// Counts one input record against `limits.maxSamples`.
    mutating func countRecord(at position: @autoclosure () -> String) throws(ProfileFormatError) {
        records += 1
        if records > limits.maxSamples {
            throw .limitExceeded(format: format, what: "\(position()): more than \(limits.maxSamples) samples", limit: limits.maxSamples)
        }
    }

    /// Adds a sample (or adds its values to the equal sample when merging). `sampleValues` has one value per
    /// sample type; `position` names the record for errors.
    mutating func addSample(
        stack node: Int32, values sampleValues: [Int64], labelSet: Int32 = 0, at position: @autoclosure () -> String
    ) throws(ProfileFormatError) {
        precondition(
            sampleValues.count == sampleTypes.count, "reader gave \(sampleValues.count) values for \(sampleTypes.count) sample types")
        if totals.count != sampleTypes.count { totals = [Int64](repeating: 0, count: sampleTypes.count) }
        // The project's rule (FlameDiff's `magnitude(ofType:)`): Σ|value| of each type fits in Int64, so every
        // sum a tree, a filter or a diff makes of them fits too.
        for (t, v) in sampleValues.enumerated() {
            let (sum, overflow) = v == Int64.min ? (0, true) : totals[t].addingReportingOverflow(abs(v))
            if overflow { throw .overflow(format: format, sampleType: sampleTypes[t].description, location: position()) }
            totals[t] = sum
        }
        let n = sampleTypes.count
        if mergeSamples {
            let key = UInt64(UInt32(bitPattern: node)) << 32 | UInt64(UInt32(bitPattern: labelSet))
            if let existing = sampleIndex[key] {
                let base = Int(existing) * n
                for t in 0..<n {
                    let (sum, overflow) = values[base + t].addingReportingOverflow(sampleValues[t])
                    if overflow { throw .overflow(format: format, sampleType: sampleTypes[t].description, location: position()) }
                    values[base + t] = sum
                }
                return
            }
            sampleIndex[key] = Int32(sampleNodes.count)
        }
        if sampleNodes.count >= Int(Int32.max) - 1 {
            throw .limitExceeded(format: format, what: "too many samples", limit: Int(Int32.max))
        }
        sampleNodes.append(node)
        sampleLabelSets.append(labelSet)
        values.append(contentsOf: sampleValues)
    }

    var sampleCount: Int { sampleNodes.count }

    // MARK: Output

    /// The profile: stacks used by samples laid out leaf first, numbered in order of first use.
    func build() throws(ProfileFormatError) -> Profile {
        var stackOfNode = [Int32](repeating: -1, count: trieParent.count)
        var sampleStacks: [Int32] = []
        sampleStacks.reserveCapacity(sampleNodes.count)
        var stackOffsets: [Int32] = [0]
        var stackLocations: [Int32] = []
        for node in sampleNodes {
            var stack = stackOfNode[Int(node)]
            if stack < 0 {
                stack = Int32(stackOffsets.count - 1)
                stackOfNode[Int(node)] = stack
                var n = Int(node)
                if stackLocations.count + Int(trieDepth[n]) > Int(Int32.max) {
                    throw .limitExceeded(format: format, what: "frames over all distinct stacks", limit: Int(Int32.max))
                }
                while n != 0 {
                    stackLocations.append(trieLocation[n])
                    n = Int(trieParent[n])
                }
                stackOffsets.append(Int32(stackLocations.count))
            }
            sampleStacks.append(stack)
        }
        return Profile(
            strings: strings, sampleTypes: sampleTypes, sampleStacks: sampleStacks, sampleLabelSets: sampleLabelSets,
            sampleValues: values, stackOffsets: stackOffsets, stackLocations: stackLocations,
            labelSetOffsets: labelSetOffsets, labels: labels, mappings: mappings, locations: locations, lines: lines,
            functions: functions, dropFrames: dropFrames, keepFrames: keepFrames, timeNanos: timeNanos,
            durationNanos: durationNanos, periodType: periodType, period: period, comments: comments,
            defaultSampleType: defaultSampleType)
    }
}

private struct FunctionKey: Hashable {
    var name: Int32
    var systemName: Int32
    var file: Int32
    var startLine: Int64
}

private struct LineLocationKey: Hashable {
    var function: Int32
    var line: Int64
    var column: Int64
    var mapping: Int32
    var address: UInt64
}

private struct AddressKey: Hashable {
    var mapping: Int32
    var address: UInt64
}
