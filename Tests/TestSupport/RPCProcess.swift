import Foundation

/// `flamegraph-ai serve` as a child process, spoken to over its pipes, as the host app does.
/// Replies are parsed with Foundation's JSONSerialization: an independent parser.
public final class RPCProcess: @unchecked Sendable {
    public let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSCondition()
    private var lines: [String] = []
    private var stderrData = Data()
    private var stdoutClosed = false

    /// `environment`: variables laid over the test's own (FLAMEGRAPH_AI_PYROSCOPE_TOKEN, …).
    public init(arguments: [String] = [], environment: [String: String] = [:]) throws {
        process.executableURL = Fixtures.executable
        process.arguments = ["serve", "--test-methods"] + arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()
        let out = stdoutPipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = out.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex ..< nl], as: UTF8.self)
                    pending = Data(pending[(nl + 1)...])
                    lock.lock()
                    lines.append(line)
                    lock.broadcast()
                    lock.unlock()
                }
            }
            lock.lock()
            stdoutClosed = true
            lock.broadcast()
            lock.unlock()
        }
        let err = stderrPipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let chunk = err.availableData
                if chunk.isEmpty { break }
                lock.lock()
                stderrData.append(chunk)
                lock.unlock()
            }
        }
    }

    /// Writes raw bytes (a line should end with "\n").
    public func write(_ data: Data) {
        stdinPipe.fileHandleForWriting.write(data)
    }

    public func send(_ line: String) { write(Data((line + "\n").utf8)) }

    /// Sends a request object built from a dictionary.
    public func request(_ id: Any, _ method: String, _ params: [String: Any]? = nil) {
        var message: [String: Any] = ["jsonrpc": "2.0", "id": id, "method": method]
        if let params { message["params"] = params }
        send(String(decoding: try! JSONSerialization.data(withJSONObject: message), as: UTF8.self))
    }

    public func notify(_ method: String, _ params: [String: Any]? = nil) {
        var message: [String: Any] = ["jsonrpc": "2.0", "method": method]
        if let params { message["params"] = params }
        send(String(decoding: try! JSONSerialization.data(withJSONObject: message), as: UTF8.self))
    }

    public func closeInput() { try? stdinPipe.fileHandleForWriting.close() }

    /// The next output line, parsed; nil on timeout or end of output.
    public func next(timeout: TimeInterval = 10) -> Any? {
        guard let line = nextLine(timeout: timeout) else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
    }

    public func nextLine(timeout: TimeInterval = 10) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        lock.lock()
        defer { lock.unlock() }
        while lines.isEmpty && !stdoutClosed {
            if !lock.wait(until: deadline) { return nil }
        }
        return lines.isEmpty ? nil : lines.removeFirst()
    }

    /// Reads until a response with this id arrives; other messages are kept in `skipped`, where a later
    /// call finds them too.
    public func response(id: AnyHashable, timeout: TimeInterval = 10) -> [String: Any]? {
        if let i = skipped.firstIndex(where: { ($0["id"] as? AnyHashable) == id }) { return skipped.remove(at: i) }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while let message = next(timeout: max(0.01, deadline.timeIntervalSinceNow)) as? [String: Any] {
            if let mid = message["id"] as? AnyHashable, mid == id { return message }
            skipped.append(message)
        }
        return nil
    }

    /// Messages read while looking for another.
    public var skipped: [[String: Any]] = []

    /// Waits for the process to exit; nil if it did not within the timeout.
    public func waitForExit(timeout: TimeInterval = 20) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            usleep(10_000)
        }
        return process.terminationStatus
    }

    public var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    /// Every line still unread (waits for the end of output).
    public func remainingLines(timeout: TimeInterval = 10) -> [String] {
        var out: [String] = []
        while let line = nextLine(timeout: timeout) { out.append(line) }
        return out
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

/// A fixture profile as base64, for `{"pprof": ...}` parameters.
public func base64Profile(_ name: String) throws -> String {
    try Data(contentsOf: Fixtures.profile(name)).base64EncodedString()
}
