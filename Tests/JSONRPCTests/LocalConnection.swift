import Foundation
import JSONCore
import JSONRPC
import Logging

/// Drives a `Server` in this process over two pipes, as sourcekit-lsp's test client drives its server:
/// requests are written to the server's input, answers read line by line from its output.
final class LocalConnection: @unchecked Sendable {
    let server: Server
    private let input: (read: Int32, write: Int32)
    private let output: (read: Int32, write: Int32)
    private var pending: [UInt8] = []
    private var runTask: Task<Int32, Never>?

    init(options: ServerOptions = ServerOptions(), handler: any RPCHandler) {
        var a: [Int32] = [0, 0]
        var b: [Int32] = [0, 0]
        pipe(&a)
        pipe(&b)
        input = (a[0], a[1])
        output = (b[0], b[1])
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = Server(options: options, handler: handler, output: OutputChannel(fd: b[1]), logger: logger)
        let reader = LineReader(fd: a[0], maxLineBytes: options.maxLineBytes)
        let server = self.server
        runTask = Task { await server.run(reader: reader) }
    }

    func send(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { _ = write(input.write, $0.baseAddress, $0.count) }
    }

    func request(_ id: Int, _ method: String, _ params: JSONValue? = nil) {
        var o: [String: JSONValue] = ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": .string(method)]
        if let params { o["params"] = params }
        send(String(decoding: JSONValue.object(o).encoded(), as: UTF8.self))
    }

    func notify(_ method: String, _ params: JSONValue) {
        send(String(decoding: JSONValue.object(["jsonrpc": "2.0", "method": .string(method), "params": params]).encoded(), as: UTF8.self))
    }

    /// The next line the server wrote, or nil after `timeout` seconds. Waits by sleeping, never by blocking
    /// a thread: the server runs on the same cooperative pool.
    func nextMessage(timeout: Double = 5) async -> JSONValue? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                return try? JSONParser.parse(line)
            }
            if deadline.timeIntervalSinceNow <= 0 { return nil }
            var fds = pollfd(fd: output.read, events: Int16(POLLIN), revents: 0)
            if poll(&fds, 1, 0) <= 0 {
                try? await Task.sleep(for: .milliseconds(5))
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = buffer.withUnsafeMutableBytes { read(output.read, $0.baseAddress, $0.count) }
            if n <= 0 { return nil }
            pending += buffer[0 ..< n]
        }
    }

    /// The answer with this id, skipping other messages (kept in `skipped`).
    var skipped: [JSONValue] = []
    func response(_ id: Int, timeout: Double = 10) async -> JSONValue? {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            guard let m = await nextMessage(timeout: deadline.timeIntervalSinceNow) else { return nil }
            if m["id"] == .int(Int64(id)) { return m }
            skipped.append(m)
        }
        return nil
    }

    /// Closes the server's input and returns its exit status.
    func close() async -> Int32 {
        Glibc.close(input.write)
        let status = await runTask?.value ?? -1
        Glibc.close(output.write)
        Glibc.close(output.read)
        Glibc.close(input.read)
        return status
    }
}
