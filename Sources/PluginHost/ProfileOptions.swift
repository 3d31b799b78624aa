import ArgumentParser
import Explain
import FlameDiff
import ProfileFormats
import ProfileService
import ProtoPprof

/// Options shared by every command that reads a profile and builds a tree.
struct ProfileOptions: ParsableArguments {
    @Option(name: .customLong("sample-type"), help: "Sample type by name (cpu, cpu/nanoseconds) or index; default: the profile's default, else the last.")
    var sampleType: String?

    @Option(help: "What makes frames equal: function, function+line, function+file.")
    var key: String = FrameKey.function.rawValue

    @Option(name: .customLong("include-label"), help: "Keep only samples with this label (key=value); repeatable, all must match.")
    var includeLabels: [String] = []

    @Option(name: .customLong("exclude-label"), help: "Drop samples with this label (key=value); repeatable.")
    var excludeLabels: [String] = []

    @Option(help: "Keep only samples with a frame matching this regex (pprof -focus).")
    var focus: String?

    @Option(help: "Drop samples with a frame matching this regex (pprof -ignore).")
    var ignore: String?

    @OptionGroup var decoding: DecodingOptions

    func treeOptions() throws -> TreeOptions {
        guard let frameKey = FrameKey(rawValue: key) else {
            throw ValidationError("--key must be one of: \(FrameKey.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return TreeOptions(
            sampleType: sampleType.map(SampleTypeSelector.init(argument:)),
            frameKey: frameKey,
            includeLabels: try includeLabels.map { try LabelFilter(parsing: $0) },
            excludeLabels: try excludeLabels.map { try LabelFilter(parsing: $0) },
            focus: focus, ignore: ignore)
    }

    var limits: DecodeLimits { decoding.limits }

    /// A profile file named on the command line, read in the chosen format.
    func file(_ path: String) -> LocalFile { decoding.file(path) }
}

/// Decoding limits, the same for every command and for `serve`.
struct DecodingOptions: ParsableArguments {
    @Option(name: .customLong("max-inflated-bytes"), help: "Refuse profiles that inflate to more than this many bytes (at most \(DecodingOptions.maxInflatedCap)).")
    var maxInflatedBytes: Int = DecodeLimits().maxInflatedBytes

    @Option(name: .customLong("input-format"), help: "The input's format: auto (detected from the content), \(ProfileFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var inputFormat: String = "auto"

    @Option(help: "Threads for one profile's tree and a diff's two sides: 2 (the default; 1 on a 1-core machine) or 1, the single-core behaviour. The output is the same.")
    var threads: Int = Parallelism.defaultThreads

    @Option(name: .customLong("decode-threads"), help: "Threads for decoding one pprof profile's samples: 1 (the default: less memory) or 2 (~5% faster on a 1M-sample profile, ~35 MB more at the peak). The output is the same.")
    var decodeThreads: Int = 1

    /// Offsets inside a decoded profile are 32-bit: larger inputs cannot be represented.
    static let maxInflatedCap = Int(Int32.max)

    /// Validates, and sets the process's thread count: validation is the one step every command runs before
    /// its work, and the count is process-wide (a server's requests carry no thread count of their own).
    func validate() throws {
        guard threads == 1 || threads == 2 else { throw ValidationError("--threads must be 1 or 2") }
        guard decodeThreads == 1 || decodeThreads == 2 else { throw ValidationError("--decode-threads must be 1 or 2") }
        Parallelism.threads = threads
        guard maxInflatedBytes > 0 && maxInflatedBytes <= Self.maxInflatedCap else {
            throw ValidationError("--max-inflated-bytes must be between 1 and \(Self.maxInflatedCap)")
        }
        if inputFormat != "auto" && ProfileFormat(name: inputFormat) == nil {
            throw ValidationError("--input-format must be auto or one of: \(ProfileFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// A profile file named on the command line, read in the chosen format.
    func file(_ path: String) -> LocalFile { LocalFile(path, format: inputFormat == "auto" ? nil : ProfileFormat(name: inputFormat)) }

    var limits: DecodeLimits { DecodeLimits(maxInflatedBytes: maxInflatedBytes, threads: decodeThreads) }
}

/// `--max-nodes` for the CLI: 0 means no cut here (over RPC it is 1 ... 2^20).
struct NodeLimitOption: ParsableArguments {
    @Option(name: .customLong("max-nodes"), help: "Cut the graph to this many nodes (0: no limit).")
    var maxNodes: Int = FlameGraph.defaultMaxNodes

    func validate() throws {
        guard maxNodes >= 0 && maxNodes <= FlameGraph.maxMaxNodes else {
            throw ValidationError("--max-nodes must be between 0 and \(FlameGraph.maxMaxNodes)")
        }
    }
}

/// The service for one CLI command: its limits, offline unless a gateway is given.
func cliService(limits: DecodeLimits = DecodeLimits(), budget: TokenBudget = TokenBudget()) -> ProfileService {
    var config = ServiceConfig()
    config.limits = limits
    config.cacheBytes = 0
    config.budget = budget
    return ProfileService(config: config)
}

/// Runs a service method from the CLI, turning its error into a message for the user.
func runCLI<M: ServiceMethod>(_ service: ProfileService, _ method: M.Type, _ request: M.Request) async throws -> M.Response {
    do {
        return try await service.run(method, request)
    } catch {
        throw CLIError(description: error.message)
    }
}

/// An error for the terminal: printed as `Error: …` with a non-zero status.
struct CLIError: Error, CustomStringConvertible {
    var description: String
}

extension SampleTypeSelector {
    /// A `--sample-type` argument: an index when it is a number, else a name.
    init(argument: String) {
        self = Int(argument).map(SampleTypeSelector.index) ?? .name(argument)
    }
}
