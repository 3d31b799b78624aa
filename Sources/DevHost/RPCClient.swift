import Dispatch
import Foundation
import JSONCore
import JSONRPC
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Why a call to the backend did not give a result.
public enum BackendError: Error, CustomStringConvertible, Sendable {
    /// The child answered with a JSON-RPC error.
    case rpc(code: Int64, message: String, data: JSONCore.JSONValue?)
    /// The child exited (or closed its pipes) before answering.
    case gone(String)
    /// The child could not be started, or keeps dying.
    case unavailable(String)

    public var description: String {
        switch self {
        case .rpc(let code, let message, _): return "\(message) (JSON-RPC \(code))"
        case .gone(let why): return "the profile backend stopped before answering: \(why)"
        case .unavailable(let why): return "the profile backend is not available: \(why)"
        }
    }
}

/// A JSON-RPC 2.0 client for one `flamegraph-ai serve` child, over its stdin and stdout: one message per line,
/// answers matched to their request by id (they arrive in any order), `$/progress {id, value}` notifications
/// handed to the request they belong to, and `$/cancelRequest {id}` sent when the calling task is cancelled.
/// Every line written and read can be mirrored to a `TrafficRecorder` (secrets redacted, files 0600).
final class RPCClient: Sendable {
    typealias Progress = @Sendable (JSONValue) -> Void

    private struct Pending {
        var continuation: CheckedContinuation<JSONValue, any Error>
        var progress: Progress?
    }

    private struct State {
        var pending: [Int64: Pending] = [:]
        /// Ids whose task was cancelled before their request was registered: they are never sent.
        var cancelledEarly: Set<Int64> = []
        var closedReason: String? = nil
        var inputClosed = false
    }

    private let state = Mutex(State())
    private let writeFD: Int32
    private let writer = DispatchQueue(label: "flamegraph-ai.dev.rpc-writer")
    private let recorder: TrafficRecorder?

    /// `readFD`: the child's stdout; `writeFD`: its stdin. The client owns both and closes them: the read end
    /// after the child closed its output, the write end on `closeInput()` or when the client closes.
    init(readFD: Int32, writeFD: Int32, recorder: TrafficRecorder?, maxLineBytes: Int = 1 << 30) {
        self.writeFD = writeFD
        self.recorder = recorder
        let reader = LineReader(fd: readFD, maxLineBytes: maxLineBytes, window: 8)
        reader.start()
        Task.detached { [self] in
            for await event in reader.events {
                switch event {
                case .line(let bytes):
                    receive(bytes)
                case .oversized(let n):
                    // Cannot be matched to a request: its id is in the skipped bytes.
                    FileHandle.standardError.write(Data("flamegraph-ai dev: skipped a \(n)-byte line from the backend\n".utf8))
                case .end:
                    break
                }
                reader.consumed()
            }
            Glibc.close(readFD)
            close(reason: "it closed its output")
        }
    }

    /// Closes the child's input (it then finishes and exits). Queued after every write already sent.
    func closeInput() {
        writer.async { [self] in
            let open = state.withLock { s -> Bool in
                defer { s.inputClosed = true }
                return !s.inputClosed
            }
            if open { Glibc.close(writeFD) }
        }
    }

    var isClosed: Bool { state.withLock { $0.closedReason != nil } }

    /// Ends every call in flight with `gone(reason)`; later calls fail at once.
    func close(reason: String) {
        let failed = state.withLock { s -> [Pending] in
            if s.closedReason == nil { s.closedReason = reason }
            let all = Array(s.pending.values)
            s.pending = [:]
            return all
        }
        let why = state.withLock { $0.closedReason ?? reason }
        for p in failed { p.continuation.resume(throwing: BackendError.gone(why)) }
        closeInput()
    }

    /// Sends a request and waits for its answer: the result, or `BackendError.rpc` for an error answer.
    /// Cancelling the calling task sends `$/cancelRequest` and ends the call with `CancellationError`.
    func call(id: Int64, method: String, params: JSONValue, progress: Progress? = nil) async throws -> JSONValue {
        let message: JSONValue = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                enum Registration { case sent, cancelled, closed(String) }
                let registration = state.withLock { s -> Registration in
                    if let reason = s.closedReason { return .closed(reason) }
                    if s.cancelledEarly.remove(id) != nil { return .cancelled }
                    s.pending[id] = Pending(continuation: continuation, progress: progress)
                    return .sent
                }
                switch registration {
                case .closed(let reason): continuation.resume(throwing: BackendError.gone(reason))
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .sent: send(message)
                }
            }
        } onCancel: {
            let sent = state.withLock { s -> Bool in
                if s.pending[id] != nil { return true }
                s.cancelledEarly.insert(id)
                return false
            }
            if sent { send(["jsonrpc": "2.0", "method": "$/cancelRequest", "params": ["id": .int(id)]]) }
        }
    }

    /// Writes one message as a line, in order, off the cooperative pool (a large line blocks until the child
    /// has read it). A failed write closes the client.
    private func send(_ message: JSONValue) {
        var encoded = message.encoded()
        recorder?.recordRequest(raw: encoded, parsed: message)
        encoded.append(0x0A)
        let line = encoded
        writer.async { [self] in
            if state.withLock({ $0.inputClosed }) { return }
            let ok = line.withUnsafeBytes { buffer -> Bool in
                var done = 0
                while done < buffer.count {
                    let n = write(writeFD, buffer.baseAddress! + done, buffer.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return false
                    }
                    done += n
                }
                return true
            }
            if !ok { close(reason: "its input closed (\(String(cString: strerror(errno))))") }
        }
    }

    private func receive(_ bytes: [UInt8]) {
        if let recorder {
            var copy = bytes
            copy.append(0x0A)
            recorder.recordResponse(copy)
        }
        guard let message = try? JSONParser.parse(bytes), case .object(let o) = message else { return }
        if case .string(let method)? = o["method"] {
            // A notification: progress for a request in flight.
            guard method == "$/progress", let id = o["params"]?["id"]?.intValue, let value = o["params"]?["value"] else { return }
            let handler = state.withLock { $0.pending[id]?.progress }
            handler?(value)
            return
        }
        guard let id = o["id"]?.intValue else { return }
        guard let pending = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        if let error = o["error"] {
            let code = error["code"]?.intValue ?? -32603
            if code == -32800 {
                pending.continuation.resume(throwing: CancellationError())
            } else {
                pending.continuation.resume(
                    throwing: BackendError.rpc(code: code, message: error["message"]?.stringValue ?? "error", data: error["data"]))
            }
        } else {
            pending.continuation.resume(returning: o["result"] ?? .null)
        }
    }
}
