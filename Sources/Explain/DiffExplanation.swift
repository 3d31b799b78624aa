import FlameDiff
import Foundation
import ProtoPprof

/// How one catalogue category's share moved between the two sides.
public struct CategoryChange: Sendable {
    public var category: String
    public var title: String
    /// Percent of each side's own total (outermost-frame attribution, as in `Finding`).
    public var leftShare: Double
    public var rightShare: Double
    public var delta: Double { rightShare - leftShare }
    /// Entry frames on the comparison side, heaviest first.
    public var functions: [String]
    /// User-code callers whose calls into the category grew most, largest growth first.
    public var callers: [String]
    public var cause: String
    public var fix: String
}

/// A diff explained in the sections Grafana's diff prompt asks for: Performance Change, Function Impact
/// (at most three functions, new ones included) and Potential Causes. Shares are of each side's own total.
public struct DiffExplanation: Sendable {
    public var performanceChange: String
    public var functionImpact: String
    public var potentialCauses: String
    /// The functions named in Function Impact, in order.
    public var functions: [String]
    /// Categories whose share changed by at least 1 percentage point, largest growth first.
    public var categoryChanges: [CategoryChange]
    /// The user-code function most responsible for the growth: the caller of the category that grew most,
    /// else the user function whose total share grew most.
    public var culprit: String?
    /// The facts behind the text, for a prompt: the side totals, and the largest changes by self and by total share.
    public var sampleType: ValueType
    public var leftTotal: Int64
    public var rightTotal: Int64
    public var language: String
    public var selfIncreases: [FunctionChange]
    public var selfDecreases: [FunctionChange]
    public var totalChanges: [FunctionChange]
    /// Every function name on either side, for grounding.
    public var functionNames: Set<String>

    /// Every percentage the explanation computed (shares on each side and signed changes), for checking
    /// the numbers of a text written from it.
    public var statedNumbers: [Double] {
        var n: [Double] = []
        if leftTotal != 0 { n.append(100 * Double(rightTotal - leftTotal) / Double(leftTotal)) }
        for c in selfIncreases + selfDecreases + totalChanges {
            n += [c.leftSelfShare, c.rightSelfShare, c.leftTotalShare, c.rightTotalShare, c.selfDelta, c.totalDelta]
        }
        for c in categoryChanges { n += [c.leftShare, c.rightShare, c.delta] }
        return n
    }

    public init(diff: DiffTree, catalogue: [Category]) {
        let table = ChangeTable(diff, normalization: .share)
        let l = diff.leftTicks
        let r = diff.rightTicks
        sampleType = diff.sampleType
        leftTotal = l
        rightTotal = r
        selfIncreases = table.increases(15)
        selfDecreases = table.decreases(10)
        totalChanges = table.byTotalDelta(10)
        functionNames = Set(table.rows.map(\.name))
        language = Analysis.guessLanguage(table.rows.sorted { max($0.leftSelf, $0.rightSelf) > max($1.leftSelf, $1.rightSelf) }.prefix(50).map(\.name))
        func share(_ v: Int64, _ total: Int64) -> Double { total == 0 ? 0 : 100 * Double(v) / Double(total) }

        let classifier = Classifier(
            catalogue: catalogue, names: diff.names, weight: Classifier.weights(shape: diff.shape, columns: [diff.leftTotal, diff.rightTotal]),
            total: min(l, r))
        let a = classifier.attribute(
            shape: diff.shape, selfValues: [diff.leftSelf, diff.rightSelf], totals: [diff.leftTotal, diff.rightTotal])
        var changes: [CategoryChange] = []
        for (c, category) in catalogue.enumerated() {
            let left = share(a.value[0][c], l)
            let right = share(a.value[1][c], r)
            guard abs(right - left) >= 1 else { continue }
            var growth: [Int32: Int64] = [:]
            for (name, v) in a.callers[1][c] { growth[name] = Int64(share(v, r) * 1000) }
            for (name, v) in a.callers[0][c] { growth[name, default: 0] -= Int64(share(v, l) * 1000) }
            changes.append(CategoryChange(
                category: category.id, title: category.title, leftShare: left, rightShare: right,
                functions: Classifier.heaviest(a.entries[1][c], names: diff.names),
                callers: Classifier.heaviest(growth, names: diff.names), cause: category.cause, fix: category.fix))
        }
        categoryChanges = changes.sorted { $0.delta > $1.delta }
        let main = categoryChanges.first.flatMap { $0.delta >= 2 ? $0 : nil }
        let userGrowth = table.rows.filter { $0.totalDelta > 0 }.sorted { $0.totalDelta > $1.totalDelta }
            .lazy.first { classifier.isUserCode($0.name) }
        culprit = main?.callers.first ?? userGrowth?.name

        let unit = diff.sampleType.unit
        let change = l == 0 ? 0 : 100 * Double(r - l) / Double(l)
        func amount(_ v: Int64) -> String {
            ["nanoseconds", "microseconds", "bytes"].contains(unit) ? NumberText.value(v, unit: unit) : "\(v) \(unit)"
        }
        var text = "Total \(diff.sampleType.type) went from \(amount(l)) to \(amount(r))"
            + (l == 0 ? "." : " (\(change >= 0 ? "+" : "")\(Int(change.rounded()))%).")
        if let main {
            text += " The largest change is \(main.title): \(NumberText.share(main.leftShare)) → \(NumberText.share(main.rightShare)) of \(diff.sampleType.type) (\(NumberText.points(main.delta)))"
            if let entry = main.functions.first { text += ", entered through `\(entry)`" }
            if let caller = main.callers.first { text += " from `\(caller)`" }
            text += "."
        }
        let increases = table.increases(3)
        if let top = increases.first {
            let positive = table.rows.filter { $0.selfDelta > 0 }.reduce(0) { $0 + $1.selfDelta }
            let part = positive == 0 ? 0 : Int((100 * top.selfDelta / positive).rounded())
            text += " The largest shift of self time is `\(top.name)`, \(NumberText.points(top.selfDelta))"
                + (top.status == .new ? " (new in the comparison)" : "") + "; it explains \(part)% of all growth in share."
        } else {
            text += " No function grew its share."
        }
        performanceChange = text

        // Function impact: the culprit first (by its total share), then the largest self shifts.
        var impact: [String] = []
        var named: [String] = []
        if let culprit, let row = table.rows.first(where: { $0.name == culprit }) {
            impact.append("`\(culprit)`: \(NumberText.share(row.leftTotalShare)) → \(NumberText.share(row.rightTotalShare)) total (itself and its callees), \(NumberText.points(row.totalDelta))" + (row.status == .new ? ", new" : ""))
            named.append(culprit)
        }
        for c in increases where !named.contains(c.name) && named.count < 3 {
            let factor = c.selfFactor.map { " (x\(NumberText.fixed($0, places: 2)))" } ?? ""
            impact.append("`\(c.name)`: \(NumberText.share(c.leftSelfShare)) → \(NumberText.share(c.rightSelfShare)) self, \(NumberText.points(c.selfDelta))\(factor)" + (c.status == .new ? ", new" : ""))
            named.append(c.name)
        }
        for c in table.decreases(2) where !named.contains(c.name) && named.count < 3 {
            impact.append("`\(c.name)`: \(NumberText.share(c.leftSelfShare)) → \(NumberText.share(c.rightSelfShare)) self, \(NumberText.points(c.selfDelta))" + (c.status == .vanished ? ", gone" : ""))
            named.append(c.name)
        }
        functionImpact = impact.isEmpty ? "No function changed its share of the total." : impact.joined(separator: "\n")
        functions = named

        var causes: [String] = []
        for c in categoryChanges.prefix(2) where c.delta >= 2 {
            let who = c.callers.first.map { "`\($0)` now spends" } ?? "The comparison spends"
            causes.append("\(who) \(NumberText.points(c.delta)) more in \(c.title)" + (c.functions.first.map { " (`\($0)`)" } ?? "") + ": \(c.cause). Fix: \(c.fix).")
        }
        for c in increases.prefix(causes.isEmpty ? 3 : 1) where !causes.contains(where: { $0.contains("`\(c.name)`") }) {
            if let category = classifier.category(of: c.name) {
                if categoryChanges.prefix(2).contains(where: { $0.category == category.id && $0.delta >= 2 }) { continue }
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
