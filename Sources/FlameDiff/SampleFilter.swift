import LinearRegex
import ProtoPprof

/// Label and focus/ignore filters, decided once per distinct label set and once per distinct stack, so
/// the per-sample check is two array reads. Regexes run once per location, label strings once per string.
struct SampleFilter {
    private var labelSetKept: [Bool]? = nil
    private var stackKept: [Bool]? = nil

    var isActive: Bool { labelSetKept != nil || stackKept != nil }

    @inline(__always)
    func keeps(stack: Int, labelSet: Int) -> Bool {
        (stackKept?[stack] ?? true) && (labelSetKept?[labelSet] ?? true)
    }

    init(profile p: Profile, options: TreeOptions) throws(FlameDiffError) {
        if !options.includeLabels.isEmpty || !options.excludeLabels.isEmpty {
            var stringIndex: [String: Int32] = [:]
            for (i, s) in p.strings.enumerated() { stringIndex[s] = Int32(i) }
            func resolve(_ f: LabelFilter) -> ResolvedLabel {
                ResolvedLabel(key: stringIndex[f.key] ?? -1, value: stringIndex[f.value] ?? -1, number: Int64(f.value))
            }
            let include = options.includeLabels.map(resolve)
            let exclude = options.excludeLabels.map(resolve)
            labelSetKept = (0 ..< p.labelSetCount).map { j in
                let labels = p.labels(ofSet: j)
                return include.allSatisfy { Self.has(labels, $0) } && !exclude.contains { Self.has(labels, $0) }
            }
        }
        var focus: [Bool]? = nil
        var ignore: [Bool]? = nil
        if let pattern = options.focus, !pattern.isEmpty { focus = try Self.match(pattern, profile: p) }
        if let pattern = options.ignore, !pattern.isEmpty { ignore = try Self.match(pattern, profile: p) }
        if focus != nil || ignore != nil {
            stackKept = (0 ..< p.stackCount).map { k in
                let stack = p.locations(ofStack: k)
                if let focus, !stack.contains(where: { focus[Int($0)] }) { return false }
                if let ignore, stack.contains(where: { ignore[Int($0)] }) { return false }
                return true
            }
        }
    }

    private struct ResolvedLabel {
        var key: Int32  // -1 when no string is the key
        var value: Int32  // -1 when no string is the value
        var number: Int64?
    }

    private static func has(_ labels: ArraySlice<Label>, _ f: ResolvedLabel) -> Bool {
        labels.contains { l in
            guard l.key == f.key else { return false }
            if l.str != 0 { return l.str == f.value }
            return f.number == l.num
        }
    }

    /// pprof's name matching: a location matches when the regex finds a match in any of its
    /// functions' names or file names, or in its mapping's file name.
    private static func match(_ pattern: String, profile p: Profile) throws(FlameDiffError) -> [Bool] {
        // RE2 syntax, as pprof's -focus takes, matched in linear time: no pattern can make a request hang.
        let regex: LinearRegex
        do throws(LinearRegexError) {
            regex = try LinearRegex(pattern)
        } catch {
            throw .invalidRegex(pattern: pattern, reason: error.description)
        }
        var functionMatches = [Bool](repeating: false, count: p.functions.count)
        for (i, f) in p.functions.enumerated() {
            if WorkCancellation.isCancelled { throw .cancelled }
            functionMatches[i] =
                regex.matches(p.strings[Int(f.name)]) || regex.matches(p.strings[Int(f.systemName)])
                || regex.matches(p.strings[Int(f.filename)])
        }
        var mappingMatches = [Bool](repeating: false, count: p.mappings.count)
        for (i, m) in p.mappings.enumerated() where m.filename != 0 {
            mappingMatches[i] = regex.matches(p.strings[Int(m.filename)])
        }
        return p.locations.map { l in
            if l.mapping >= 0 && mappingMatches[Int(l.mapping)] { return true }
            return l.lineRange.contains { functionMatches[Int(p.lines[$0].function)] }
        }
    }
}
