import ArgumentParser
import FlameDiff
import ProfileService
import ProtoPprof
import PyroscopeClient

extension DiffFormat: ExpressibleByArgument {}

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare a baseline with a comparison: change table, Pyroscope diff levels, Grafana diff frame or folded diff.",
        discussion: """
            Each side may be several profiles; they are merged. By default both sides are compared as shares of
            their own totals (percentage points); --raw compares raw values, --normalize scales the baseline to
            the comparison's total as pprof's -normalize does. With --pyroscope (and no files) the query is the
            comparison and --vs yesterday|last-week or --vs-query/--vs-from/--vs-to the baseline.
            """)

    @Argument(help: "Baseline profile(s).")
    var baseline: [String] = []

    @Option(name: .customLong("vs"), parsing: .upToNextOption, help: "Comparison profile(s). With --pyroscope: yesterday or last-week, the baseline.")
    var comparison: [String] = []

    @OptionGroup var profileOptions: ProfileOptions

    @OptionGroup var pyroscope: PyroscopeQueryOptions

    @OptionGroup var pyroscopeBaseline: PyroscopeBaselineOptions

    @Flag(help: "Compare raw values instead of shares of each side's total.")
    var raw = false

    @Flag(help: "Scale the baseline to the comparison's total (pprof -normalize).")
    var normalize = false

    @Option(help: "table, tsv (every function), levels (Pyroscope FlameGraphDiff), dataframe (Grafana diff), folded (stack left right) or svg (interactive).")
    var format: DiffFormat = .table

    @OptionGroup var nodes: NodeLimitOption

    @Option(name: .short, help: "Rows per table section.")
    var n: Int = 10

    func validate() throws {
        let fromPyroscope = try pyroscope.usesPyroscope(file: !baseline.isEmpty)
        try pyroscopeBaseline.validate(pyroscope: fromPyroscope, vs: comparison, diff: true)
        if !fromPyroscope && comparison.isEmpty { throw ValidationError("give the comparison profile(s) with --vs") }
        if raw && normalize { throw ValidationError("--raw and --normalize exclude each other") }
    }

    var normalization: DiffNormalization { raw ? .raw : normalize ? .normalize : .share }

    func run() async throws {
        var timer = PhaseTimer()
        let service = cliService(limits: profileOptions.limits)
        var sides: (baseline: [any ProfileSource], comparison: [any ProfileSource]) = (baseline.map(profileOptions.file), comparison.map(profileOptions.file))
        if baseline.isEmpty {
            let pair = try pyroscopeBaseline.sides(pyroscope, vs: comparison, now: PyroscopeTime.nowMilliseconds())
            sides = ([pair.baseline], [pair.comparison])
        }
        let request = DiffRequest(
            baseline: sides.baseline, comparison: sides.comparison, query: try profileOptions.treeOptions(),
            format: format, normalization: normalization, maxNodes: nodes.maxNodes, limit: n)
        let result = try await runCLI(service, DiffMethod.self, request)
        timer.mark("read+decode+diff (\(result.diff.nodeCount) nodes)")
        defer { timer.mark("export+write") }
        switch format {
        case .table:
            if baseline.isEmpty, let b = sides.baseline.first, let c = sides.comparison.first {
                print("Baseline: \(b.label)\nComparison: \(c.label)")
            }
            print(render(result.table!, sampleType: result.diff.sampleType, rows: n), terminator: "")
        case .tsv:
            var out = "function\tbase_self\tcmp_self\tbase_total\tcmp_total\tself_delta\ttotal_delta\tstatus\n"
            for c in result.table!.rows {
                out += "\(c.name)\t\(c.leftSelf)\t\(c.rightSelf)\t\(c.leftTotal)\t\(c.rightTotal)\t\(c.selfDelta)\t\(c.totalDelta)\t\(c.status.rawValue)\n"
            }
            writeStdout(Array(out.utf8))
        case .levels:
            var bytes = FlameGraphDiffLevels(result.graph!).json()
            bytes.append(UInt8(ascii: "\n"))
            writeStdout(bytes)
        case .dataframe:
            var bytes = DataFrameExport.json(result.graph!)
            bytes.append(UInt8(ascii: "\n"))
            writeStdout(bytes)
        case .folded:
            writeStdout(FoldedExport.bytes(result.diff.normalized(normalization)))
        case .svg:
            writeStdout(SVGExport.svg(result.graph!))
        }
    }
}

func render(_ table: ChangeTable, sampleType: ValueType, rows n: Int) -> String {
    let unit = sampleType.unit
    let inUnit = table.normalization != .share
    func delta(_ d: Double) -> String {
        if inUnit { return (d > 0 ? "+" : "") + formatValue(Int64(d.rounded()), unit: unit) }
        return (d > 0 ? "+" : "") + NumberText.fixed(d, places: 2) + "pp"
    }
    func factor(_ f: Double?) -> String { f.map { "x" + NumberText.fixed($0, places: 2) } ?? "-" }
    func line(_ c: FunctionChange, _ d: Double, total: Bool) -> String {
        let lv = total ? c.leftTotal : c.leftSelf
        let rv = total ? c.rightTotal : c.rightSelf
        let ls = total ? c.leftTotalShare : c.leftSelfShare
        let rs = total ? c.rightTotalShare : c.rightSelfShare
        let mark = c.status == .new ? " [new]" : c.status == .vanished ? " [vanished]" : ""
        return "\(pad(formatValue(lv, unit: unit), 12)) \(pad(NumberText.fixed(ls, places: 2) + "%", 7)) \(pad(formatValue(rv, unit: unit), 12)) \(pad(NumberText.fixed(rs, places: 2) + "%", 7)) \(pad(delta(d), 12)) \(pad(factor(total ? nil : c.selfFactor), 8))  \(c.name)\(mark)\n"
    }
    var out = "Type: \(sampleType)\n"
    out += "Baseline total: \(formatValue(table.leftTicks, unit: unit)); comparison total: \(formatValue(table.rightTicks, unit: unit))\n"
    out += "Normalization: \(table.normalization.rawValue) (\(table.normalization.explanation))\n"
    let header = "\(pad("base", 12)) \(pad("base%", 7)) \(pad("cmp", 12)) \(pad("cmp%", 7)) \(pad("delta", 12)) \(pad("factor", 8))  function\n"
    out += "\nLargest increases by self:\n" + header
    for c in table.increases(n) { out += line(c, c.selfDelta, total: false) }
    out += "\nLargest decreases by self:\n" + header
    for c in table.decreases(n) { out += line(c, c.selfDelta, total: false) }
    out += "\nLargest changes by total (cum):\n" + header
    for c in table.byTotalDelta(n) { out += line(c, c.totalDelta, total: true) }
    return out
}
