import Foundation
import JSONCore
import JSONRPC

#if canImport(Glibc)
    import Glibc
#endif

/// The `flamegraph-ai serve` child and its supervision: started at launch, started again (on the next call)
/// when it died, with the first answer after a restart saying so. Request ids count up across restarts, so a
/// recording of the whole session (`--record`) replays against one fresh server.
public actor Backend {
    public struct Options: Sendable {
        /// The executable to run as `serve` (the host's own: /proc/self/exe, resolved at start).
        public var executable: String
        /// Arguments after `serve` (e.g. `--allow-dir DIR`).
        public var arguments: [String]
        /// Environment variables removed from the child's environment (the LLM settings reach it only through
        /// each request's pluginContext, as in Grafana).
        public var removedEnvironment: [String]
        public init(executable: String, arguments: [String], removedEnvironment: [String] = []) {
            self.executable = executable
            self.arguments = arguments
            self.removedEnvironment = removedEnvironment
        }
    }

    private let options: Options
    private let recorder: TrafficRecorder?
    private let log: @Sendable (String) -> Void
    private var process: Process?
    private var client: RPCClient?
    private var nextID: Int64 = 0
    private var starts: [ContinuousClock.Instant] = []
    private var restartUnreported = false
    private var stopped = false

    public init(options: Options, recorder: TrafficRecorder?, log: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.recorder = recorder
        self.log = log
    }

    /// The running child's process id (tests kill it to check restarts).
    public var pid: Int32? { process.map { $0.processIdentifier } }

    /// Starts the child (at launch; later starts happen on demand).
    public func start() throws {
        _ = try running()
    }

    /// Calls a method. `restarted` is true on the first answer after the child was started again.
    public func call(
        _ method: String, _ params: JSONCore.JSONValue, progress: (@Sendable (JSONCore.JSONValue) -> Void)? = nil
    ) async throws -> (result: JSONCore.JSONValue, restarted: Bool) {
        let client = try running()
        nextID += 1
        let id = nextID
        do {
            let result = try await client.call(id: id, method: method, params: params, progress: progress)
            return (result, takeRestartFlag())
        } catch BackendError.gone(let why) {
            // Died while answering: start the next one now, so that the error answer can already say so.
            log("the backend stopped while answering request \(id): \(why)")
            _ = try? running()
            throw BackendError.gone(why)
        }
    }

    /// True once after each restart; the caller puts it in the answer (`X-Backend-Restarted: 1`).
    public func takeRestartFlag() -> Bool {
        defer { restartUnreported = false }
        return restartUnreported
    }

    /// Ends the child: its input closes, so it finishes what is in flight and exits; SIGTERM after `grace`.
    public func stop(grace: Duration = .seconds(2)) async {
        stopped = true
        guard let process else { return }
        client?.close(reason: "the host is stopping")
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.terminate() }
        self.process = nil
        self.client = nil
    }

    private func running() throws -> RPCClient {
        if let client, let process, process.isRunning, !client.isClosed { return client }
        guard !stopped else { throw BackendError.unavailable("the host is stopping") }
        if let process {
            let why = Self.describeExit(process)
            client?.close(reason: why)
            log("the backend (pid \(process.processIdentifier)) \(why); starting it again")
            restartUnreported = true
            self.process = nil
            self.client = nil
        }
        // A child that dies at once would be restarted on every request: at most 5 starts in 10 seconds.
        let now = ContinuousClock.now
        starts = starts.filter { now - $0 < .seconds(10) }
        guard starts.count < 5 else {
            throw BackendError.unavailable("it was restarted \(starts.count) times in 10 seconds; see the log above")
        }
        starts.append(now)
        return try spawn()
    }

    private func spawn() throws -> RPCClient {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: options.executable)
        p.arguments = ["serve"] + options.arguments
        var env = ProcessInfo.processInfo.environment
        for name in options.removedEnvironment { env.removeValue(forKey: name) }
        p.environment = env
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.standardError
        do {
            try p.run()
        } catch {
            throw BackendError.unavailable("\(options.executable) serve: \(error)")
        }
        // The client gets descriptors of its own (close-on-exec, so later children do not inherit them); the
        // pipes' own ends close now, so the child sees the end of its input when the client closes it.
        let readFD = fcntl(output.fileHandleForReading.fileDescriptor, F_DUPFD_CLOEXEC, 3)
        let writeFD = fcntl(input.fileHandleForWriting.fileDescriptor, F_DUPFD_CLOEXEC, 3)
        try? output.fileHandleForReading.close()
        try? input.fileHandleForWriting.close()
        guard readFD >= 0, writeFD >= 0 else {
            p.terminate()
            throw BackendError.unavailable("no descriptors for the backend's pipes: \(String(cString: strerror(errno)))")
        }
        let client = RPCClient(readFD: readFD, writeFD: writeFD, recorder: recorder)
        process = p
        self.client = client
        log("backend: \(options.executable) serve \(options.arguments.joined(separator: " ")) (pid \(p.processIdentifier))")
        return client
    }

    private static func describeExit(_ p: Process) -> String {
        if p.isRunning { return "stopped answering" }
        switch p.terminationReason {
        case .uncaughtSignal: return "was killed by signal \(p.terminationStatus)"
        default: return "exited with status \(p.terminationStatus)"
        }
    }
}
