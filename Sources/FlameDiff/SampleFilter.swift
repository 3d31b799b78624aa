import ProtoPprof

/// Label and focus/ignore filters, resolved against one profile so that the per-sample check
/// compares integers only: regexes run once per location, label strings once per string.
struct SampleFilter {
    private struct ResolvedLabel {
        var keys: Set<Int32>
        var value: Int32  // string index, or -1 when the value occurs in no string label
        var number: Int64?
    }

    private var include: [ResolvedLabel] = []
    private var exclude: [ResolvedLabel] = []
    private var focusLocation: [Bool]? = nil
    private var ignoreLocation: [Bool]? = nil
    private let labels: [Label]
    private let labelOffsets: [Int32]
    let isActive: Bool

    init(profile p: Profile, options: TreeOptions) throws(FlameDiffError) {
        labels = p.labels
        labelOffsets = p.sampleLabelOffsets
        var stringIndex: [String: Int32] = [:]
        if !options.includeLabels.isEmpty || !options.excludeLabels.isEmpty {
            for (i, s) in p.strings.enumerated() { stringIndex[s] = Int32(i) }
        }
        func resolve(_ f: LabelFilter) -> ResolvedLabel {
            ResolvedLabel(
                keys: stringIndex[f.key].map { [$0] } ?? [], value: stringIndex[f.value] ?? -1, number: Int64(f.value))
        }
        include = options.includeLabels.map(resolve)
        exclude = options.excludeLabels.map(resolve)
        if let focus = options.focus, !focus.isEmpty { focusLocation = try Self.match(focus, profile: p) }
        if let ignore = options.ignore, !ignore.isEmpty { ignoreLocation = try Self.match(ignore, profile: p) }
        isActive = !include.isEmpty || !exclude.isEmpty || focusLocation != nil || ignoreLocation != nil
    }

    func keeps(sample s: Int, stack: UnsafeBufferPointer<Int32>) -> Bool {
        if !include.isEmpty || !exclude.isEmpty {
            let sampleLabels = labels[Int(labelOffsets[s]) ..< Int(labelOffsets[s + 1])]
            for f in include where !Self.has(sampleLabels, f) { return false }
            for f in exclude where Self.has(sampleLabels, f) { return false }
        }
        if let focus = focusLocation, !stack.contains(where: { focus[Int($0)] }) { return false }
        if let ignore = ignoreLocation, stack.contains(where: { ignore[Int($0)] }) { return false }
        return true
    }

    private static func has(_ labels: ArraySlice<Label>, _ f: ResolvedLabel) -> Bool {
        labels.contains { l in
            guard f.keys.contains(l.key) else { return false }
            if l.str != 0 { return l.str == f.value }
            return f.number == l.num
        }
    }

    /// pprof's name matching: a location matches when the regex finds a match in any of its
    /// functions' names or file names, or in its mapping's file name.
    private static func match(_ pattern: String, profile p: Profile) throws(FlameDiffError) -> [Bool] {
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(pattern)
        } catch {
            throw .invalidRegex(pattern: pattern, reason: String(describing: error))
        }
        var functionMatches = [Bool](repeating: false, count: p.functions.count)
        for (i, f) in p.functions.enumerated() {
            functionMatches[i] =
                p.strings[Int(f.name)].contains(regex) || p.strings[Int(f.systemName)].contains(regex)
                || p.strings[Int(f.filename)].contains(regex)
        }
        var mappingMatches = [Bool](repeating: false, count: p.mappings.count)
        for (i, m) in p.mappings.enumerated() where m.filename != 0 {
            mappingMatches[i] = p.strings[Int(m.filename)].contains(regex)
        }
        return p.locations.map { l in
            if l.mapping >= 0 && mappingMatches[Int(l.mapping)] { return true }
            return l.lineRange.contains { functionMatches[Int(p.lines[$0].function)] }
        }
    }
}
