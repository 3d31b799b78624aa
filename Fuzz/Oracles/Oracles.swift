import Dispatch
import FlameDiff
import Foundation
import HTTPTransport
import JSONCore
import JSONRPC
import Logging
import ProtoPprof

/// What the fuzz targets check, as plain functions: libFuzzer calls them from Fuzz/<Target>/main.swift, and
/// FuzzRegressionTests replays every committed seed and regression input (Fuzz/Corpus/<Target>/) through them.
/// Each returns nil when the input was handled correctly, or says what was wrong; a crash or a sanitizer report
/// is a finding too.
public enum FuzzOracle: String, CaseIterable, Sendable {
    case json = "FuzzJSON"
    case jsonRPC = "FuzzJSONRPC"
    case sse = "FuzzSSE"
    case levels = "FuzzLevels"

    /// Checks one input.
    public func check(_ input: [UInt8]) -> String? {
        switch self {
        case .json: return JSONOracle.check(input)
        case .jsonRPC: return JSONRPCOracle.check(input)
        case .sse: return SSEOracle.check(input)
        case .levels: return LevelsOracle.check(input)
        }
    }
}

/// JSONCore's parser: any bytes parse or fail with a typed error; what parses writes back to JSON that parses to
/// the same value (doubles compared by bit pattern after one round trip, since writing may shorten them).
public enum JSONOracle {
    public static func check(_ input: [UInt8]) -> String? {
        guard let value = try? JSONParser.parse(input) else { return nil }
        let written = value.encoded()
        let again: JSONValue
        do {
            again = try JSONParser.parse(written)
        } catch {
            return "written JSON does not parse: \(error); written \(String(decoding: written.prefix(200), as: UTF8.self))"
        }
        // A second round trip must be exact: the first may turn a number into its shortest form.
        let third = try? JSONParser.parse(again.encoded())
        if third != again { return "JSON round trip is not stable: \(String(decoding: written.prefix(200), as: UTF8.self))" }
        if !sameShape(value, again) { return "JSON round trip changed the value's shape" }
        return nil
    }

    /// Equal up to number formatting: same kinds, same strings and keys, same integers.
    static func sameShape(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double, .double), (.double, .int), (.int, .double): return true
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(sameShape)
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { sameShape(value, $0) } ?? false }
        default: return false
        }
    }
}

/// Server-Sent Events: the parser gives the same events however the stream is split (the first input byte
/// seeds the split points), never throws except for an over-long line, and keeps every data line.
public enum SSEOracle {
    public static func check(_ input: [UInt8]) -> String? {
        guard let seed = input.first else { return nil }
        let stream = Array(input.dropFirst())
        var whole = SSEParser(maxLineBytes: 256)
        let expected = Result { () throws(SSEError) -> [SSEEvent] in try whole.feed(stream) }
        var split = SSEParser(maxLineBytes: 256)
        var got: [SSEEvent] = []
        var failure: SSEError? = nil
        var start = 0
        var step = Int(seed % 7) + 1
        while start < stream.count && failure == nil {
            let end = min(stream.count, start + step)
            do {
                got += try split.feed(stream[start ..< end])
            } catch {
                failure = error
            }
            start = end
            step = (step * 5 + Int(seed)) % 11 + 1
        }
        switch expected {
        case .success(let events):
            if failure != nil { return "split feeding failed where whole feeding did not" }
            if got != events { return "split feeding gave other events: \(got) vs \(events)" }
        case .failure(let error):
            if failure != error { return "split feeding did not fail the same way (\(String(describing: failure)) vs \(error))" }
        }
        return nil
    }
}

/// The levels (flame graph) input: JSON `{names, levels}` as the page sends it to explain. What CallTree accepts
/// must have consistent sums (every node's self plus its children's totals within its total), give a top
/// table, and survive a round trip through `FlameGraphLevels`.
public enum LevelsOracle {
    public static func check(_ input: [UInt8]) -> String? {
        guard let value = try? JSONParser.parse(input), case .array(let rawNames)? = value["names"],
            case .array(let rawLevels)? = value["levels"]
        else { return nil }
        let names = rawNames.map { $0.stringValue ?? "" }
        var levels: [[Int64]] = []
        for level in rawLevels {
            guard case .array(let numbers) = level else { return nil }
            levels.append(numbers.map { $0.intValue ?? 0 })
        }
        guard let tree = try? CallTree(levels: levels, names: names) else { return nil }
        _ = TopTable(tree: tree)
        guard tree.nodeCount > 0 else { return "an accepted flame graph has no nodes" }
        let written = FlameGraphLevels(FlameGraph(tree: tree))
        let again = written.levels
        let names2 = written.names
        do {
            let tree2 = try CallTree(levels: again, names: names2)
            if tree2.totalValue != tree.totalValue { return "round trip changed the total: \(tree.totalValue) -> \(tree2.totalValue)" }
        } catch {
            return "levels written from an accepted flame graph are refused: \(error); written \(again), names \(names2)"
        }
        return nil
    }
}

/// The JSON-RPC server, in process: the input is the stdin of a `Server` with a small handler (echo, sleep,
/// fail, progress); every line it writes must be a JSON-RPC 2.0 response or notification, every request with an
/// id gets at most one answer per occurrence, and the server ends at end of input.
public enum JSONRPCOracle {
    struct Handler: RPCHandler {
        func handle(_ method: String, _ params: JSONValue?, _ context: RequestContext) async throws(RPCError) -> JSONValue {
            switch method {
            case "echo": return params ?? .null
            case "sleep":
                do { try await Task.sleep(for: .milliseconds(Int(params?["ms"]?.intValue ?? 1) % 5)) } catch { throw .cancelled }
                return "slept"
            case "fail": throw .internalError("failed on purpose")
            case "progress":
                await context.progress(params ?? .null)
                return "done"
            default: throw .methodNotFound(method)
            }
        }
    }

    public static func check(_ input: [UInt8]) -> String? {
        var toServer: [Int32] = [0, 0]
        var fromServer: [Int32] = [0, 0]
        guard pipe(&toServer) == 0 else { return nil }
        guard pipe(&fromServer) == 0 else {
            close(toServer[0])
            close(toServer[1])
            return nil
        }
        let (serverIn, clientOut, clientIn, serverOut) = (toServer[0], toServer[1], fromServer[0], fromServer[1])
        // Write the input on a thread of its own (it may exceed the pipe's buffer) and read the answers on another.
        let writer = Thread {
            _ = input.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(clientOut, raw.baseAddress! + offset, raw.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(clientOut)
        }
        writer.start()
        let readDone = DispatchSemaphore(value: 0)
        let output = OutputBox()
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(clientIn, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                output.append(buffer[0 ..< n])
            }
            readDone.signal()
        }
        reader.start()
        var options = ServerOptions()
        options.maxLineBytes = 1024
        options.maxConcurrent = 4
        options.graceSeconds = 0.2
        var logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        let channel = OutputChannel(fd: serverOut)
        let server = Server(options: options, handler: Handler(), output: channel, logger: logger)
        let finished = DispatchSemaphore(value: 0)
        Task {
            _ = await server.run(reader: LineReader(fd: serverIn, maxLineBytes: options.maxLineBytes))
            await server.drain()
            finished.signal()
        }
        finished.wait()
        close(serverIn)
        close(serverOut)
        readDone.wait()
        close(clientIn)
        for line in output.bytes.split(separator: 0x0A) {
            guard let value = try? JSONParser.parse(Array(line)) else {
                return "the server wrote a line that is not JSON: \(String(decoding: line.prefix(200), as: UTF8.self))"
            }
            let messages: [JSONValue] = if case .array(let batch) = value { batch } else { [value] }
            for message in messages {
                guard message["jsonrpc"] == "2.0" else { return "a message without jsonrpc 2.0: \(String(decoding: line.prefix(200), as: UTF8.self))" }
                let isResponse = message["id"] != nil && (message["result"] != nil) != (message["error"] != nil)
                let isNotification = message["method"] != nil && message["id"] == nil
                if !isResponse && !isNotification { return "neither a response nor a notification: \(String(decoding: line.prefix(200), as: UTF8.self))" }
            }
        }
        return nil
    }

    final class OutputBox: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [UInt8] = []
        func append(_ chunk: ArraySlice<UInt8>) { lock.withLock { stored += chunk } }
        var bytes: [UInt8] { lock.withLock { stored } }
    }
}
