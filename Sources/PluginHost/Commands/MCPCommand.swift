import ArgumentParser
import Dispatch
import Foundation
import JSONRPC
import Logging
import MCPServer
import ProfileService

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the Model Context Protocol on stdin/stdout, so that AI agents can read and explain profiles.",
        discussion: "MCP revision 2025-11-25 (also 2025-06-18, 2025-03-26, 2024-11-05). Logs go to stderr.")

    @Option(name: .customLong("allow-dir"), help: "Let tools read profiles by {path} inside this directory.")
    var allowDir: String?

    @Option(name: .customLong("max-line-bytes"), help: "Longest message accepted (a base64 profile travels inside one).")
    var maxLineBytes: Int = 64 << 20

    @Option(name: .customLong("max-concurrent"), help: "Tool calls in flight at once; past it calls are refused.")
    var maxConcurrent: Int = 16

    @Option(name: .customLong("grace-seconds"), help: "At end of input or SIGTERM: how long calls in flight may finish.")
    var graceSeconds: Double = 5

    @OptionGroup var decoding: DecodingOptions

    @OptionGroup var memory: MemoryOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (env FLAMEGRAPH_AI_LOG_LEVEL).")
    var logLevel: String?

    @OptionGroup(title: "LLM gateway (explanations are offline without one)")
    var gateway: GatewayOptions

    @OptionGroup(title: "Token budget")
    var budget: BudgetOptions

    @Option(name: .customLong("cache-bytes"), help: "Budget of the result cache (0 disables it).")
    var cacheBytes: Int = 64 << 20

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
        // stdio MCP allows nothing but messages on stdout: the protocol gets a descriptor of its own.
        let (protocolFD, logger) = StdioProtocol.take(logLevel: logLevel, label: "flamegraph-ai-mcp")

        let options = ServerOptions.mcp(maxLineBytes: maxLineBytes, maxConcurrent: maxConcurrent, graceSeconds: graceSeconds)
        var config = ServiceConfig()
        config.transport = options
        config.testMethods = testMethods
        config.cacheBytes = max(0, cacheBytes)
        config.gateway = try gateway.config()
        config.budget = try budget.budget()
        config.limits = decoding.limits
        config.memoryBudget = try memory.budget(cacheBytes: config.cacheBytes, maxLineBytes: options.maxLineBytes)
        if let allowDir {
            var isDirectory: ObjCBool = false
            guard let resolved = realpathString(allowDir), FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory),
                isDirectory.boolValue
            else { throw ValidationError("--allow-dir \(allowDir) is not an existing directory") }
            config.allowedDirectory = resolved
        }
        let handler = MCPHandler(service: ProfileService(config: config))
        let server = Server(options: options, handler: handler, output: OutputChannel(fd: protocolFD), logger: logger)

        let term = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        term.setEventHandler {
            Task {
                await server.drain()
                Foundation.exit(0)
            }
        }
        term.resume()
        logger.info("MCP on stdio", metadata: ["allowDir": "\(config.allowedDirectory ?? "-")", "llm": "\(config.gateway != nil)"])
        let status = await server.run(reader: LineReader(fd: 0, maxLineBytes: maxLineBytes))
        term.cancel()
        throw ExitCode(status)
    }
}
