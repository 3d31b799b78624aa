import Foundation
import JSONCore
import TestSupport

/// `flamegraph-ai mcp` as a child process, spoken to over its pipes as an MCP client does: one JSON
/// message per line. Messages are read on a thread of their own and kept until asked for.
final class MCPProcess: @unchecked Sendable {
    let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSCondition()
    private var messages: [JSONValue] = []
    private var rawLines: [String] = []
    private var closed = false
    private var errData = Data()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = Fixtures.executable
        process.arguments = ["mcp"] + arguments
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
                    let line = Array(pending[pending.startIndex ..< nl])
                    pending = Data(pending[(nl + 1)...])
                    lock.lock()
                    rawLines.append(String(decoding: line, as: UTF8.self))
                    // A line that is not JSON is kept as a string, so that a test sees it.
                    messages.append((try? JSONParser.parse(line)) ?? .string(String(decoding: line, as: UTF8.self)))
                    lock.broadcast()
                    lock.unlock()
                }
            }
            lock.lock()
            closed = true
            lock.broadcast()
            lock.unlock()
        }
        let err = stderrPipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let chunk = err.availableData
                if chunk.isEmpty { break }
                lock.lock()
                errData.append(chunk)
                lock.unlock()
            }
        }
    }

    func write(_ bytes: [UInt8]) { stdinPipe.fileHandleForWriting.write(Data(bytes)) }

    func send(_ message: JSONValue) { write(message.encoded() + [0x0A]) }

    func request(_ id: Int, _ method: String, _ params: JSONValue? = nil) {
        var o: [String: JSONValue] = ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": .string(method)]
        if let params { o["params"] = params }
        send(.object(o))
    }

    func notify(_ method: String, _ params: JSONValue? = nil) {
        var o: [String: JSONValue] = ["jsonrpc": "2.0", "method": .string(method)]
        if let params { o["params"] = params }
        send(.object(o))
    }

    /// Sends a request and waits for its answer.
    func call(_ id: Int, _ method: String, _ params: JSONValue? = nil, timeout: TimeInterval = 60) async -> JSONValue? {
        request(id, method, params)
        return await response(id, timeout: timeout)
    }

    /// Calls a tool; the answer's `result` (or nil).
    func tool(_ id: Int, _ name: String, _ arguments: JSONValue, meta: JSONValue? = nil) async -> JSONValue? {
        var params: [String: JSONValue] = ["name": .string(name), "arguments": arguments]
        if let meta { params["_meta"] = meta }
        return await call(id, "tools/call", .object(params))?["result"]
    }

    /// The answer with this id; nil after the timeout.
    func response(_ id: Int, timeout: TimeInterval = 60) async -> JSONValue? {
        await wait(timeout: timeout) { $0["id"] == .int(Int64(id)) && $0["method"] == nil }
    }

    /// The first message, in arrival order, that satisfies `match`, removed from the queue. Waits by
    /// sleeping, never by blocking a thread: tests share the cooperative pool with in-process servers.
    func wait(timeout: TimeInterval, _ match: (JSONValue) -> Bool) async -> JSONValue? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            if let found = take(match) { return found }
            if isClosed || Date() > deadline { return take(match) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func take(_ match: (JSONValue) -> Bool) -> JSONValue? {
        lock.lock()
        defer { lock.unlock() }
        guard let i = messages.firstIndex(where: match) else { return nil }
        return messages.remove(at: i)
    }

    private var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    /// Notifications received so far with this method, removed from the queue.
    func notifications(_ method: String) -> [JSONValue] {
        lock.lock()
        defer { lock.unlock() }
        let found = messages.filter { $0["method"] == .string(method) }
        messages.removeAll { $0["method"] == .string(method) }
        return found
    }

    /// Every stdout line so far, raw.
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return rawLines
    }

    var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: errData, as: UTF8.self)
    }

    func closeInput() { try? stdinPipe.fileHandleForWriting.close() }

    func waitForExit(timeout: TimeInterval = 30) async -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
