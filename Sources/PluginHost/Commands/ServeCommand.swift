import ArgumentParser
import Dispatch
import Foundation
import JSONRPC
import LLMGateway
import Logging
import ProfileService
import ProtoPprof

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve line-delimited JSON-RPC 2.0 on stdin/stdout (the Grafana app plugin's backend).",
        discussion: "Logs go to stderr; stdout carries nothing but protocol messages.")

    @Option(name: .customLong("max-line-bytes"), help: "Longest request line accepted; longer ones are answered -32600 and skipped.")
    var maxLineBytes: Int = 64 << 20

    @Option(name: .customLong("max-concurrent"), help: "Requests in flight at once; past it requests are answered 'overloaded'.")
    var maxConcurrent: Int = 16

    @Option(name: .customLong("grace-seconds"), help: "At end of input, exit or SIGTERM: how long requests in flight may finish.")
    var graceSeconds: Double = 10

    @Option(name: .customLong("allow-dir"), help: "Let requests name profiles by {path} inside this directory.")
    var allowDir: String?

    @OptionGroup var decoding: DecodingOptions

    @OptionGroup var memory: MemoryOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (env FLAMEGRAPH_AI_LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .customLong("record"), help: "Mirror requests to FILE.requests.jsonl and answers to FILE.responses.jsonl (mode 0600, secrets redacted).")
    var record: String?

    @OptionGroup(title: "LLM gateway (used when a request's pluginContext carries no LLM settings)")
    var gateway: GatewayOptions

    @OptionGroup(title: "Token budget (used when a request's pluginContext carries no llmContextTokens)")
    var budget: BudgetOptions

    @OptionGroup(title: "Pyroscope (for {pyroscope} profiles of requests whose pluginContext names none)")
    var pyroscope: PyroscopeConnectionOptions

    @Option(name: .customLong("cache-bytes"), help: "Budget of the result cache for repeated profile requests (0 disables it).")
    var cacheBytes: Int = 256 << 20

    @Flag(name: .customLong("test-methods"), help: .hidden)
    var testMethods = false

    func validate() throws {
        guard maxLineBytes >= 1024 else { throw ValidationError("--max-line-bytes must be at least 1024") }
        guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1") }
        guard graceSeconds >= 0 else { throw ValidationError("--grace-seconds must not be negative") }
        if let level = logLevel, Logger.Level(rawValue: level) == nil { throw ValidationError("unknown --log-level \(level)") }
        _ = try budget.budget()
    }

    func run() async throws {
        let (protocolFD, logger) = StdioProtocol.take(logLevel: logLevel, label: "flamegraph-ai")

        var options = ServerOptions()
        options.maxLineBytes = maxLineBytes
        options.maxConcurrent = maxConcurrent
        options.graceSeconds = graceSeconds
        var config = ServiceConfig()
        config.transport = options
        config.testMethods = testMethods
        config.cacheBytes = max(0, cacheBytes)
        config.gateway = try gateway.config()
        config.budget = try budget.budget()
        config.pyroscope = try pyroscope.config()
        if let p = config.pyroscope { logger.info("Pyroscope: \(p)") }
        logger.debug("malloc arenas: \(MallocPolicy.arenaMax == 0 ? "the platform's default" : String(MallocPolicy.arenaMax))")
        config.limits = decoding.limits
        config.memoryBudget = try memory.budget(cacheBytes: config.cacheBytes, maxLineBytes: options.maxLineBytes)
        if let allowDir {
            guard let resolved = realpathString(allowDir) else { throw ValidationError("--allow-dir \(allowDir) does not exist") }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--allow-dir \(allowDir) is not a directory")
            }
            config.allowedDirectory = resolved
        }
        var recorder: TrafficRecorder? = nil
        if let record {
            // Secrets are redacted before anything reaches the files, which only their owner can read.
            let secrets = (config.gateway?.key.map { [$0.value] } ?? []) + (config.pyroscope?.secretForms ?? [])
            recorder = try TrafficRecorder(prefix: record, knownSecrets: secrets)
        }
        let output = OutputChannel(fd: protocolFD, recorder: recorder)
        let handler = ServiceHandler(service: ProfileService(config: config))
        let server = Server(options: options, handler: handler, output: output, logger: logger, recorder: recorder)

        let term = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        let termLogger = logger
        term.setEventHandler {
            Task {
                termLogger.info("SIGTERM: finishing requests in flight")
                await server.drain()
                Foundation.exit(0)
            }
        }
        term.resume()

        let status = await server.run(reader: LineReader(fd: 0, maxLineBytes: maxLineBytes))
        term.cancel()
        throw ExitCode(status)
    }
}

/// What every stdio protocol server (`serve`, `mcp`) does first: signals that must not kill it, the protocol's own
/// descriptor, and a logger on stderr.
enum StdioProtocol {
    /// Ignores SIGTERM (a server drains on it instead) and SIGPIPE (a host that closes our stdout makes writes fail
    /// with EPIPE, which the server logs before it cancels its work and exits 0); moves the protocol output to a
    /// descriptor of its own and points fd 1 at stderr, so a stray print cannot corrupt the stream.
    static func take(logLevel: String?, label: String) -> (protocolFD: Int32, logger: Logger) {
        signal(SIGTERM, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let protocolFD = dup(1)
        dup2(2, 1)
        let levelName = logLevel ?? ProcessInfo.processInfo.environment["FLAMEGRAPH_AI_LOG_LEVEL"] ?? "info"
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: levelName) ?? .info
        return (protocolFD, logger)
    }
}
