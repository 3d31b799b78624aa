import ArgumentParser
import FlameDiff
import ProfileService
import ProtoPprof

struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "Functions by flat value, as `go tool pprof -top` lists them.")

    @Argument(help: "A profile (pprof or another format read); without it, the --pyroscope query's profile.")
    var file: String?

    @OptionGroup var profileOptions: ProfileOptions

    @OptionGroup var pyroscope: PyroscopeQueryOptions

    @Option(name: .short, help: "Rows to show (0: all).")
    var n: Int = 20

    @Flag(help: "Print values as raw integers in the sample type's unit.")
    var raw = false

    func validate() throws { _ = try pyroscope.usesPyroscope(file: file != nil) }

    func run() async throws {
        let service = cliService(limits: profileOptions.limits)
        let request = TopRequest(profile: ProfileRequest(profile: try pyroscope.profile(file: file, profileOptions.file), query: try profileOptions.treeOptions()), limit: 0)
        let result = try await runCLI(service, TopMethod.self, request)
        print(render(result.table, rows: n, raw: raw), terminator: "")
    }
}

func render(_ table: TopTable, rows limit: Int, raw: Bool) -> String {
    let unit = table.sampleType.unit
    func fmt(_ v: Int64) -> String { raw ? String(v) : formatValue(v, unit: unit) }
    let rows = limit > 0 ? Array(table.rows.prefix(limit)) : table.rows
    var out = "Type: \(table.sampleType)\n"
    out += "Total: \(fmt(table.total))\n"
    let shown = rows.reduce(Int64(0)) { $0 + $1.flat }
    out += "Showing \(rows.count) of \(table.rows.count) functions, accounting for \(fmt(shown)) (\(percent(shown, of: table.total)))\n"
    out += "\(pad("flat", 14)) \(pad("flat%", 7)) \(pad("sum%", 7)) \(pad("cum", 14)) \(pad("cum%", 7))  name\n"
    var sum: Int64 = 0
    for row in rows {
        sum += row.flat
        out += "\(pad(fmt(row.flat), 14)) \(pad(percent(row.flat, of: table.total), 7)) \(pad(percent(sum, of: table.total), 7)) \(pad(fmt(row.cum), 14)) \(pad(percent(row.cum, of: table.total), 7))  \(row.name)\n"
    }
    return out
}
