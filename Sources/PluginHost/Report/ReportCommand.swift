import ArgumentParser
import Explain
import FlameDiff
import Foundation
import JSONCore
import JSONRPC
import ProfileService
import ProtoPprof

/// `flamegraph-ai report FILE [--vs CMP] -o report.html`: one HTML file with the flame graph widget, the data and
/// the offline explanation inlined. It opens from disk (`file://`), needs no server, and runs no network request.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a one-file HTML report: the interactive flame graph, the top table and the offline explanation.")

    @Argument(help: "A profile (the baseline with --vs).")
    var file: String

    @Option(name: .customLong("vs"), parsing: .upToNextOption, help: "Comparison profile(s): a diff report.")
    var comparison: [String] = []

    @Option(name: .shortAndLong, help: "Where to write the report.")
    var output: String = "report.html"

    @OptionGroup var profileOptions: ProfileOptions

    @OptionGroup var nodes: NodeLimitOption

    func run() async throws {
        let service = cliService(limits: profileOptions.limits)
        let query = try profileOptions.treeOptions()
        let maxNodes = nodes.maxNodes == 0 ? FlameGraph.maxMaxNodes : nodes.maxNodes
        var routes: [String: JSONValue] = [:]
        let title: String
        let subtitle: String
        let explanation: String
        if comparison.isEmpty {
            let profile = ProfileRequest(profile: profileOptions.file(file), query: query)
            let graph = try await runCLI(service, FlamegraphMethod.self, FlamegraphRequest(profile: profile, format: .levels, maxNodes: maxNodes))
            routes["/flamegraph"] = FlamegraphMethod.json(graph)
            routes["/top"] = TopMethod.json(try await runCLI(service, TopMethod.self, TopRequest(profile: profile, limit: 200)))
            routes["/info"] = InfoMethod.json(try await runCLI(service, InfoMethod.self, profile))
            let analysis = try await analyse { () async throws(RPCError) in
                try await ExplainMethod.analyse(ExplainRequest(input: .profile(profileOptions.file(file)), query: query), in: service)
            }
            title = (file as NSString).lastPathComponent
            subtitle = "\(analysis.language), \(analysis.sampleType), total \(formatValue(analysis.total, unit: analysis.sampleType.unit))"
            explanation = ExplainSubject.profile(analysis).offline.markdown
        } else {
            let request = DiffRequest(
                baseline: [profileOptions.file(file)], comparison: comparison.map(profileOptions.file), query: query, format: .levels, maxNodes: maxNodes)
            let diff = try await runCLI(service, DiffMethod.self, request)
            routes["/diff"] = DiffMethod.json(diff)
            routes["/info"] = InfoMethod.json(try await runCLI(service, InfoMethod.self, ProfileRequest(profile: profileOptions.file(file))))
            let explained = try await analyse { () async throws(RPCError) in
                try await ExplainDiffMethod.analyse(
                    ExplainDiffRequest(baseline: [profileOptions.file(file)], comparison: comparison.map(profileOptions.file), query: query), in: service)
            }
            title = (file as NSString).lastPathComponent + " → " + comparison.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
            subtitle = "\(diff.diff.sampleType); shares of each side's own total"
            explanation = ExplainSubject.diff(explained).offline.markdown
        }
        let data: JSONValue = [
            "title": .string(title), "subtitle": .string(subtitle), "explanation": .string(explanation),
            "diff": .bool(!comparison.isEmpty), "maxNodes": .int(Int64(maxNodes)), "routes": .object(routes),
        ]
        let html = Self.page(title: title, data: data)
        guard FileManager.default.createFile(atPath: output, contents: Data(html.utf8)) else {
            throw CLIError(description: "\(output): could not be written")
        }
        print("Wrote \(output) (\(html.utf8.count) bytes): open it in a browser, no server needed")
    }

    private func analyse<T>(_ body: () async throws(RPCError) -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw CLIError(description: error.message)
        }
    }

    /// The page. Data and names are untrusted: the data sits in a JSON script block with `<`, `>`, `&` and the
    /// line separators escaped (it cannot close the block), the title in HTML is escaped, and the widget puts
    /// every name on the page through `textContent`.
    static func page(title: String, data: JSONValue) -> String {
        var json = String(decoding: data.encoded(), as: UTF8.self)
        json = json.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
            .replacingOccurrences(of: "&", with: "\\u0026").replacingOccurrences(of: "\u{2028}", with: "\\u2028")
            .replacingOccurrences(of: "\u{2029}", with: "\\u2029")
        let script = PageBundle.script.replacingOccurrences(of: "</", with: "<\\/")
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
            <title>Flame graph report: \(escapeHTML(title))</title>
            <style>
            \(PageBundle.styles)
            .report-explanation { padding: 12px 16px; line-height: 1.5; }
            .report-explanation h3 { margin: 12px 0 4px; }
            .report-paragraph { white-space: pre-wrap; margin: 4px 0; }
            </style>
            </head>
            <body class="fg-page">
            <header class="page-header"><div class="page-titles"><h1 id="report-title"></h1><p class="page-subtitle" id="report-meta"></p></div></header>
            <main class="page-main">
            <section class="card report-explanation" aria-label="Explanation" id="report-explanation"></section>
            <section class="card" id="report-widget" aria-label="Flame graph"></section>
            </main>
            <script type="application/json" id="report-data">\(json)</script>
            <script>
            \(script)
            </script>
            </body>
            </html>

            """
    }

    static func escapeHTML(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
