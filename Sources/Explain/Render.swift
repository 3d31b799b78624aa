import FlameDiff

/// The three sections Grafana's Flame graph AI asks for, written from an `Analysis`: every function named
/// comes from the profile, every number from its values.
public struct Explanation: Sendable {
    public var bottleneck: String
    public var rootCause: String
    public var fix: String

    public init(_ a: Analysis) {
        func pct(_ v: Double) -> String { NumberText.share(v) }
        guard a.total != 0, !a.bottleneck.isEmpty else {
            bottleneck = "The profile holds no samples for \(a.sampleType), so there is nothing to explain."
            rootCause = "No values were recorded."
            fix = "Profile the program while it does the slow work, or choose another sample type."
            return
        }
        var b = ""
        if let culprit = a.culprit, culprit != a.bottleneck, let main = a.findings.first, main.callers.first == culprit {
            b += "`\(culprit)` drives the main cost: \(pct(main.share)) of \(a.sampleType.type) goes to \(main.title)"
                + " (" + main.functions.prefix(2).map { "`\($0)`" }.joined(separator: ", ") + "), mostly called from it. "
        }
        b += "`\(a.bottleneck)` is the hottest function: \(pct(a.bottleneckShare)) of \(a.sampleType.type) is spent in its own code."
        if let caller = a.userCaller, caller != a.bottleneck {
            b += " It is reached mainly through `\(caller)`."
        }
        if a.hotPath.count > 1 {
            b += " Heaviest path: " + a.hotPath.suffix(4).map { "`\($0)`" }.joined(separator: " → ") + "."
        }
        let others = a.hotFunctions.dropFirst().prefix(2).filter { $0.flat >= 1 }
        if !others.isEmpty {
            b += " Next: " + others.map { "`\($0.name)` (\(pct($0.flat)))" }.joined(separator: ", ") + "."
        }
        bottleneck = b

        if let top = a.findings.first {
            var r = "\(pct(top.share)) of \(a.sampleType.type) goes to \(top.title) (" + top.functions.map { "`\($0)`" }.joined(separator: ", ") + "): \(top.cause)."
            for f in a.findings.dropFirst().prefix(2) {
                r += " Also \(f.title), \(pct(f.share)) (" + f.functions.prefix(2).map { "`\($0)`" }.joined(separator: ", ") + ")."
            }
            rootCause = r
            var x = top.fix.prefix(1).uppercased() + top.fix.dropFirst() + "."
            if let caller = top.callers.first ?? a.userCaller { x += " Start in `\(caller)`, which drives this work." }
            for f in a.findings.dropFirst().prefix(1) { x += " For \(f.title): \(f.fix)." }
            fix = x
        } else {
            rootCause = "`\(a.bottleneck)` does the work itself (\(pct(a.bottleneckShare)) self); no library or runtime pattern accounts for a large share, so the cost is in the algorithm of this code."
                + (a.userCaller.map { " It is called from `\($0)`." } ?? "")
            fix = "Make `\(a.bottleneck)` cheaper or call it less: look for repeated work on the same input, a better algorithm or data structure, and results that can be cached."
        }
    }

    /// The three sections as Markdown, with the headings Grafana's prompt asks for.
    public var markdown: String {
        "##### Performance bottleneck\n\(bottleneck)\n\n##### Root cause\n\(rootCause)\n\n##### Recommended fix\n\(fix)\n"
    }
}
