import FlameDiff
import Foundation
import ProtoPprof

/// A diff explained in the sections Grafana's diff prompt asks for: Performance Change, Function Impact
/// (at most three functions, new ones included) and Potential Causes. Shares are of each side's own total.
public struct DiffExplanation: Sendable {
    public var performanceChange: String
    public var functionImpact: String
    public var potentialCauses: String
    /// The functions named, most changed first.
    public var functions: [String]

    public init(diff: DiffTree, catalogue: [Category]) {
        let table = ChangeTable(diff, normalization: .share)
        func pp(_ v: Double) -> String {
            let tenths = Int((abs(v) * 100).rounded())
            return (v < 0 ? "-" : "+") + "\(tenths / 100).\(tenths % 100 < 10 ? "0" : "")\(tenths % 100)pp"
        }
        let unit = diff.sampleType.unit
        let l = diff.leftTicks
        let r = diff.rightTicks
        let change = l == 0 ? 0 : 100 * Double(r - l) / Double(l)
        let increases = table.increases(3)
        let decreases = table.decreases(2)
        var text = "Total \(diff.sampleType.type) went from \(l) to \(r) \(unit)"
            + (l == 0 ? "." : " (\(change >= 0 ? "+" : "")\(Int(change.rounded()))%).")
        if let top = increases.first {
            let positive = table.rows.filter { $0.selfDelta > 0 }.reduce(0) { $0 + $1.selfDelta }
            let part = positive == 0 ? 0 : Int((100 * top.selfDelta / positive).rounded())
            text += " The largest shift is `\(top.name)`, \(pp(top.selfDelta)) of self time"
                + (top.status == .new ? " (new in the comparison)" : "") + "; it explains \(part)% of all growth in share."
        } else {
            text += " No function grew its share."
        }
        performanceChange = text

        var impact: [String] = []
        for c in increases {
            let factor = c.selfFactor.map { " (x\(String(format: "%.2f", $0)))" } ?? ""
            impact.append("`\(c.name)`: \(String(format: "%.2f", c.leftSelfShare))% → \(String(format: "%.2f", c.rightSelfShare))% self, \(pp(c.selfDelta))\(factor)" + (c.status == .new ? ", new" : ""))
        }
        for c in decreases.prefix(max(0, 3 - impact.count)) {
            impact.append("`\(c.name)`: \(String(format: "%.2f", c.leftSelfShare))% → \(String(format: "%.2f", c.rightSelfShare))% self, \(pp(c.selfDelta))" + (c.status == .vanished ? ", gone" : ""))
        }
        functionImpact = impact.isEmpty ? "No function changed its share of the total." : impact.joined(separator: "\n")
        functions = (increases + decreases).prefix(3).map(\.name)

        let compiled = catalogue.map { c in (c, c.patterns.compactMap { try? Regex($0) }) }
        var causes: [String] = []
        for c in increases {
            if let (category, _) = compiled.first(where: { _, regexes in regexes.contains { c.name.contains($0) } }) {
                causes.append("`\(c.name)` is \(category.title): \(category.cause). Fix: \(category.fix).")
            } else if c.status == .new {
                causes.append("`\(c.name)` is new: a code path the baseline never ran (a new feature, a changed branch, or a slow path now taken).")
            } else {
                causes.append("`\(c.name)` does more work per call or is called more often: compare its callers between the two profiles.")
            }
        }
        potentialCauses = causes.isEmpty ? "Nothing grew, so there is no regression to explain." : causes.joined(separator: "\n")
    }

    public var markdown: String {
        "##### Performance change\n\(performanceChange)\n\n##### Function impact\n\(functionImpact)\n\n##### Potential causes\n\(potentialCauses)\n"
    }
}
