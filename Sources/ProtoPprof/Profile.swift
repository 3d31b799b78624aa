/// A sample type or period type: what a value measures and in which unit (`cpu`/`nanoseconds`).
public struct ValueType: Sendable, Hashable, CustomStringConvertible {
    public var type: String
    public var unit: String

    public init(type: String, unit: String) {
        self.type = type
        self.unit = unit
    }

    public var description: String { "\(type)/\(unit)" }
}

/// A binary or library mapped into the profiled process.
public struct Mapping: Sendable, Hashable {
    public var id: UInt64
    public var memoryStart: UInt64
    public var memoryLimit: UInt64
    public var fileOffset: UInt64
    /// Index into `Profile.strings`.
    public var filename: Int32
    /// Index into `Profile.strings`.
    public var buildID: Int32
    public var hasFunctions: Bool
    public var hasFilenames: Bool
    public var hasLineNumbers: Bool
    public var hasInlineFrames: Bool

    public init(
        id: UInt64, memoryStart: UInt64 = 0, memoryLimit: UInt64 = 0, fileOffset: UInt64 = 0, filename: Int32,
        buildID: Int32 = 0, hasFunctions: Bool = false, hasFilenames: Bool = false, hasLineNumbers: Bool = false,
        hasInlineFrames: Bool = false
    ) {
        self.id = id
        self.memoryStart = memoryStart
        self.memoryLimit = memoryLimit
        self.fileOffset = fileOffset
        self.filename = filename
        self.buildID = buildID
        self.hasFunctions = hasFunctions
        self.hasFilenames = hasFilenames
        self.hasLineNumbers = hasLineNumbers
        self.hasInlineFrames = hasInlineFrames
    }
}

/// A function; names are indexes into `Profile.strings`.
public struct Function: Sendable, Hashable {
    public var id: UInt64
    public var name: Int32
    public var systemName: Int32
    public var filename: Int32
    public var startLine: Int64

    public init(id: UInt64, name: Int32, systemName: Int32 = 0, filename: Int32 = 0, startLine: Int64 = 0) {
        self.id = id
        self.name = name
        self.systemName = systemName
        self.filename = filename
        self.startLine = startLine
    }
}

/// One frame of a location: a function (dense index into `Profile.functions`) and a source position.
public struct Line: Sendable, Hashable {
    public var function: Int32
    public var line: Int64
    public var column: Int64

    public init(function: Int32, line: Int64 = 0, column: Int64 = 0) {
        self.function = function
        self.line = line
        self.column = column
    }
}

/// A program location. Its lines are `Profile.lines[firstLine ..< firstLine + lineCount]`;
/// as in pprof, the last line is the outermost caller and earlier lines were inlined into it.
public struct Location: Sendable, Hashable {
    public var id: UInt64
    /// Dense index into `Profile.mappings`, or -1 when the location has no mapping.
    public var mapping: Int32
    public var address: UInt64
    public var firstLine: Int32
    public var lineCount: Int32
    public var isFolded: Bool

    public init(id: UInt64, mapping: Int32 = -1, address: UInt64 = 0, firstLine: Int32, lineCount: Int32, isFolded: Bool = false) {
        self.id = id
        self.mapping = mapping
        self.address = address
        self.firstLine = firstLine
        self.lineCount = lineCount
        self.isFolded = isFolded
    }

    public var lineRange: Range<Int> { Int(firstLine) ..< Int(firstLine) + Int(lineCount) }
}

/// A sample label: `key` and `str` (or `num` with `numUnit`) index `Profile.strings`.
public struct Label: Sendable, Hashable {
    public var key: Int32
    public var str: Int32
    public var num: Int64
    public var numUnit: Int32

    public init(key: Int32, str: Int32 = 0, num: Int64 = 0, numUnit: Int32 = 0) {
        self.key = key
        self.str = str
        self.num = num
        self.numUnit = numUnit
    }
}

/// A decoded, validated pprof profile with ids resolved to dense indexes and strings interned:
/// two equal strings always have the same index, so names compare as integers.
///
/// Samples are stored column-wise, with their stacks and label sets interned: a million samples of a
/// production profile usually share a hundred thousand distinct stacks and a handful of label sets.
/// Sample `i` has stack `k = sampleStacks[i]`, whose locations are
/// `stackLocations[stackOffsets[k] ..< stackOffsets[k+1]]` (leaf first, as in pprof); label set
/// `j = sampleLabelSets[i]`, whose labels are `labels[labelSetOffsets[j] ..< labelSetOffsets[j+1]]`
/// (set 0 is empty); and values `sampleValues[i * sampleTypes.count ..< (i+1) * sampleTypes.count]`.
/// Stacks and label sets are numbered in order of first appearance.
public struct Profile: Sendable, Equatable {
    /// Unique strings; index 0 is always "".
    public var strings: [String]
    public var sampleTypes: [ValueType]
    public var sampleStacks: [Int32]
    public var sampleLabelSets: [Int32]
    public var sampleValues: [Int64]
    public var stackOffsets: [Int32]
    public var stackLocations: [Int32]
    public var labelSetOffsets: [Int32]
    public var labels: [Label]
    public var mappings: [Mapping]
    public var locations: [Location]
    public var lines: [Line]
    public var functions: [Function]
    public var dropFrames: String
    public var keepFrames: String
    public var timeNanos: Int64
    public var durationNanos: Int64
    public var periodType: ValueType?
    public var period: Int64
    public var comments: [String]
    /// The sample type named as default by the profile, or "" when it names none.
    public var defaultSampleType: String
    public var docURL: String

    public init(
        strings: [String] = [""], sampleTypes: [ValueType] = [], sampleStacks: [Int32] = [],
        sampleLabelSets: [Int32] = [], sampleValues: [Int64] = [], stackOffsets: [Int32] = [0],
        stackLocations: [Int32] = [], labelSetOffsets: [Int32] = [0, 0], labels: [Label] = [], mappings: [Mapping] = [], locations: [Location] = [], lines: [Line] = [],
        functions: [Function] = [], dropFrames: String = "", keepFrames: String = "", timeNanos: Int64 = 0,
        durationNanos: Int64 = 0, periodType: ValueType? = nil, period: Int64 = 0, comments: [String] = [],
        defaultSampleType: String = "", docURL: String = ""
    ) {
        self.strings = strings
        self.sampleTypes = sampleTypes
        self.sampleStacks = sampleStacks
        self.sampleLabelSets = sampleLabelSets
        self.sampleValues = sampleValues
        self.stackOffsets = stackOffsets
        self.stackLocations = stackLocations
        self.labelSetOffsets = labelSetOffsets
        self.labels = labels
        self.mappings = mappings
        self.locations = locations
        self.lines = lines
        self.functions = functions
        self.dropFrames = dropFrames
        self.keepFrames = keepFrames
        self.timeNanos = timeNanos
        self.durationNanos = durationNanos
        self.periodType = periodType
        self.period = period
        self.comments = comments
        self.defaultSampleType = defaultSampleType
        self.docURL = docURL
    }

    public var sampleCount: Int { sampleStacks.count }
    /// Distinct stacks.
    public var stackCount: Int { stackOffsets.count - 1 }
    /// Distinct label sets, the empty one included.
    public var labelSetCount: Int { labelSetOffsets.count - 1 }

    /// The locations of stack `k`, leaf first.
    @inlinable
    public func locations(ofStack k: Int) -> ArraySlice<Int32> {
        stackLocations[Int(stackOffsets[k]) ..< Int(stackOffsets[k + 1])]
    }

    /// The locations of sample `i`, leaf first.
    @inlinable
    public func locations(ofSample i: Int) -> ArraySlice<Int32> {
        locations(ofStack: Int(sampleStacks[i]))
    }

    /// The labels of label set `j`.
    public func labels(ofSet j: Int) -> ArraySlice<Label> {
        labels[Int(labelSetOffsets[j]) ..< Int(labelSetOffsets[j + 1])]
    }

    /// Value `typeIndex` of sample `i`.
    @inlinable
    public func value(ofSample i: Int, type typeIndex: Int) -> Int64 {
        sampleValues[i * sampleTypes.count + typeIndex]
    }

    /// The labels of sample `i`.
    public func labels(ofSample i: Int) -> ArraySlice<Label> {
        labels(ofSet: Int(sampleLabelSets[i]))
    }

    /// The index pprof uses when no sample type is asked for: `default_sample_type` if it names one, else the last.
    public var defaultSampleTypeIndex: Int {
        if !defaultSampleType.isEmpty, let i = sampleTypes.firstIndex(where: { $0.type == defaultSampleType }) {
            return i
        }
        return max(0, sampleTypes.count - 1)
    }

    /// Sum of one sample type's values over all samples.
    public func total(ofType typeIndex: Int) -> Int64 {
        var sum: Int64 = 0
        let n = sampleTypes.count
        sampleValues.withUnsafeBufferPointer { values in
            var i = typeIndex
            while i < values.count {
                sum &+= values[i]
                i += n
            }
        }
        return sum
    }
}
