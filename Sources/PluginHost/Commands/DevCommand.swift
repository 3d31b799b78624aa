import ArgumentParser
import DevHost
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A failure at run time (not a usage error): printed as `Error: …` without the usage text.
struct DevError: Error, CustomStringConvertible {
    var description: String
}

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Serve the flame graph page on this machine (like `go tool pprof -http`), opened on FILE when given.",
        discussion: """
            Prints the page's URL, with a token that the browser keeps as a cookie. The profiles are computed by a \
            `flamegraph-ai serve` child, restarted if it dies. Only localhost, 127.0.0.1 and [::1] (and names \
            given with --allowed-host) are answered; POST only from the page itself. The page's files are read \
            from --page-dir, else FLAMEGRAPH_AI_PAGE_DIR, else the frontend-stub/ folder of the checkout the \
            executable was built in.
            """)

    @Argument(help: "A profile to open at once.")
    var file: String?

    @Option(name: .customLong("vs"), help: "A second profile: open FILE's diff against it.")
    var compare: String?

    @Option(help: "Port to listen on (0: any free port).")
    var port: Int = 3000

    @Option(
        help: "Address to listen on: an IP literal (default 127.0.0.1). Anything but a loopback address exposes the page to the network.")
    var listen: String = "127.0.0.1"

    @Option(name: .customLong("allowed-host"), help: "Another name accepted in the Host header (with the port); repeatable.")
    var allowedHosts: [String] = []

    @Option(help: "A folder of profiles the page lists and opens by name (the child reads them: --allow-dir).")
    var profiles: String?

    @Option(name: .customLong("page-dir"), help: "The page's folder (frontend-stub/); env FLAMEGRAPH_AI_PAGE_DIR.")
    var pageDir: String?

    @Flag(name: .customLong("no-token"), help: "Do not require the URL's token (for scripts; any local program can then use the host).")
    var noToken = false

    @Option(
        help:
            "Mirror the JSON-RPC traffic to the child to FILE.requests.jsonl and FILE.responses.jsonl (mode 0600, secrets redacted), for `replay`."
    )
    var record: String?

    @Option(name: .customLong("max-upload-mb"), help: "Largest upload, in MB (10^6 bytes).")
    var maxUploadMB: Int = 64

    /// Seconds a connection may wait for its peer (slow or idle clients); hidden: tests shorten it.
    @Option(name: .customLong("idle-seconds"), help: .hidden)
    var idleSeconds: Int = 30

    @OptionGroup(title: "LLM gateway (sent to the backend as the app's settings, as Grafana does)")
    var gateway: GatewayOptions

    @OptionGroup(title: "Token budget (sent as the app's llmContextTokens and llmAnswerTokens)")
    var budget: BudgetOptions

    func validate() throws {
        _ = try budget.budget()
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard maxUploadMB >= 1 && maxUploadMB <= 1024 else { throw ValidationError("--max-upload-mb must be 1…1024") }
        if compare != nil && file == nil { throw ValidationError("--vs needs FILE") }
        var probe = in6_addr()
        var probe4 = in_addr()
        guard inet_pton(AF_INET, listen, &probe4) == 1 || inet_pton(AF_INET6, listen, &probe) == 1 else {
            throw ValidationError("--listen takes an IP address (127.0.0.1, ::1, …); give names with --allowed-host")
        }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let env = ProcessInfo.processInfo.environment
        guard let executable = Self.realPath("/proc/self/exe") else {
            throw ValidationError("cannot find this executable (/proc/self/exe)")
        }
        guard let page = pageDir ?? env["FLAMEGRAPH_AI_PAGE_DIR"] ?? Self.defaultPageDir(executable: executable) else {
            throw ValidationError("the page's files (frontend-stub/) were not found next to this executable's checkout: pass --page-dir")
        }
        var config = DevHostConfig(pageDirectory: page, serveExecutable: executable)
        config.port = UInt16(port)
        config.listen = listen
        config.allowedHosts = allowedHosts
        config.profilesDirectory = profiles
        config.file = file
        config.compareFile = compare
        config.tokenRequired = !noToken
        config.recordPrefix = record
        config.maxUploadBytes = maxUploadMB * 1_000_000
        config.idleTimeout = .seconds(max(1, idleSeconds))
        // The settings go in every request's pluginContext, so the backend reads them the way it does in Grafana.
        if let g = try gateway.config() {
            config.jsonData = ["llmURL": g.baseURL, "llmMode": g.mode.rawValue, "llmModel": g.model]
            if let key = g.key { config.secureJsonData = ["llmApiKey": key.value] }
            if budget.given {
                let b = try budget.budget()
                config.jsonData["llmContextTokens"] = "\(b.contextTokens)"
                config.jsonData["llmAnswerTokens"] = "\(b.answerTokens)"
            }
        }

        let log: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data("flamegraph-ai dev: \(line)\n".utf8)) }
        let host: DevHost
        do {
            host = try DevHost(config: config, log: log)
        } catch {
            throw DevError(description: "\(error)")
        }
        let task: Task<Void, any Error>
        do {
            task = try await host.start()
        } catch {
            let busy = "\(error)".contains("Address already in use")
            throw DevError(
                description: busy
                    ? "port \(port) on \(listen) is in use: pass --port 0 (any free port) or another port"
                    : "cannot listen on \(listen):\(port): \(error)")
        }
        if noToken {
            log(
                "WARNING: --no-token: every program on this machine can use this host without a token (web pages still cannot: Host and Origin are checked)"
            )
        }
        if !["127.0.0.1", "::1"].contains(listen) {
            log("WARNING: listening on \(listen), not only on this machine: others on the network can reach the page")
        }
        log("page files from \(host.pageRoot)")
        if let file { log("opening \(file)" + (compare.map { " vs \($0)" } ?? "")) }
        // The one line on stdout: the URL to open (scripts read it).
        writeStdout(Array("\(host.url)\n".utf8))

        let stop = Task {
            await Self.waitForSignal()
            log("stopping")
            await host.stop()
        }
        _ = await task.result
        stop.cancel()
        await host.stop()
    }

    /// SIGINT or SIGTERM.
    static func waitForSignal() async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let sources = [SIGINT, SIGTERM].map { sig in
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }

    /// frontend-stub/ of the checkout the executable was built in: found by walking up from the executable
    /// (`.build/<triple>/<config>/flamegraph-ai`), else from this source file's place at build time.
    static func defaultPageDir(executable: String) -> String? {
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: executable).deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir)
            dir = dir.deletingLastPathComponent()
        }
        // Sources/PluginHost/Commands/DevCommand.swift → the package root.
        candidates.append(
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent())
        for root in candidates {
            let page = root.appendingPathComponent("frontend-stub")
            if FileManager.default.fileExists(atPath: page.appendingPathComponent("index.html").path),
                FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path)
            {
                return page.path
            }
        }
        return nil
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
