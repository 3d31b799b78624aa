import ArgumentParser
import ProfileService
import PyroscopeClient

/// `flamegraph-ai pyroscope types|labels|values NAME|series`: what a Pyroscope holds, to find the --profile-type
/// and --query of the profile commands. Each goes through the service's `pyroscope.*` method.
struct PyroscopeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pyroscope", abstract: "List what a Pyroscope holds: profile types, label names, label values, series.",
        subcommands: [Types.self, Labels.self, Values.self, Series.self])

    /// The data source, the time range and the selectors every listing takes.
    struct Lookup: ParsableArguments {
        @OptionGroup(title: "Pyroscope") var connection: PyroscopeConnectionOptions

        @Option(help: "Start: now-1h (default), now-30m, RFC 3339 or ms since the epoch.")
        var from: String = "now-1h"

        @Option(help: "End: now (default), a relative time, RFC 3339 or ms since the epoch.")
        var to: String = "now"

        @Option(help: "Label selector the series must match, e.g. '{service_name=\"checkout\"}'; repeatable.")
        var query: [String] = []

        func validate() throws {
            guard connection.isSet else { throw ValidationError("give --pyroscope URL or set FLAMEGRAPH_AI_PYROSCOPE_URL") }
        }

        func lookup() throws -> PyroscopeLookup {
            guard let config = try connection.config() else { throw ValidationError("give --pyroscope URL or set FLAMEGRAPH_AI_PYROSCOPE_URL") }
            do {
                let range = try PyroscopeTimeRange.resolve(from: from, to: to, now: PyroscopeTime.nowMilliseconds())
                return PyroscopeLookup(config: config, range: range, matchers: query)
            } catch {
                throw CLIError(description: error.description)
            }
        }
    }

    struct Types: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Profile types in the time range, one id a line (for --profile-type).")
        @OptionGroup var lookup: Lookup

        func run() async throws {
            let types = try await runCLI(cliService(), PyroscopeProfileTypesMethod.self, try lookup.lookup())
            for t in types { print(t.id) }
        }
    }

    struct Labels: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Label names of the matching series, one a line.")
        @OptionGroup var lookup: Lookup

        func run() async throws {
            for name in try await runCLI(cliService(), PyroscopeLabelNamesMethod.self, try lookup.lookup()) { print(name) }
        }
    }

    struct Values: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Values of label NAME in the matching series, one a line.")
        @Argument(help: "The label, e.g. service_name.") var name: String
        @OptionGroup var lookup: Lookup

        func run() async throws {
            var request = try lookup.lookup()
            request.labelNames = [name]
            for value in try await runCLI(cliService(), PyroscopeLabelValuesMethod.self, request) { print(value) }
        }
    }

    struct Series: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The matching series, one label set a line.")
        @Option(name: .customLong("label-names"), help: "Show only these labels; repeatable.") var labelNames: [String] = []
        @OptionGroup var lookup: Lookup

        func run() async throws {
            var request = try lookup.lookup()
            request.labelNames = labelNames
            for s in try await runCLI(cliService(), PyroscopeSeriesMethod.self, request) {
                print("{" + s.labels.map { "\($0.name)=\"\(escaped($0.value))\"" }.joined(separator: ", ") + "}")
            }
        }

        func escaped(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
    }
}
