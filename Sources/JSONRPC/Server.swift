import Dispatch
import Foundation
import JSONCore
import Logging

/// What a server asks of the protocol it serves: an answer per method. Unknown methods throw
/// `RPCError.methodNotFound`; the server handles framing, concurrency, cancellation and the lifecycle.
public protocol RPCHandler: Sendable {
    func handle(_ method: String, _ params: JSONValue?, _ context: RequestContext) async throws(RPCError) -> JSONValue
}

/// The server's transport settings, fixed at start.
public struct ServerOptions: Sendable {
    public var maxLineBytes = 64 << 20
    public var maxConcurrent = 16
    public var graceSeconds = 10.0
    /// The notification that cancels a request, and where its params hold the id.
    public var cancelMethod = "$/cancelRequest"
    public var cancelIDKey = "id"
    /// Whether a cancelled request still gets an answer (-32800, as LSP and `serve` do) or none (MCP).
    public var answerCancelled = true
    /// LSP's `shutdown`/`exit` lifecycle; off for protocols without it.
    public var lspLifecycle = true
    /// The notification that carries progress, with the request id under `id` (`$/progress`).
    public var progressMethod = "$/progress"
    /// Answered requests whose answers may wait for the host to read them, beyond `maxConcurrent` in flight; past
    /// it the server stops reading input until the host reads (backpressure, so memory stays bounded).
    public var maxUndelivered = 16

    public init() {}
}

/// What a handler knows of its request: its id, and a way to report progress tied to it.
public struct RequestContext: Sendable {
    public let id: RequestID?
    public let output: OutputChannel
    let progressMethod: String

    public init(id: RequestID?, output: OutputChannel, progressMethod: String = "$/progress") {
        self.id = id
        self.output = output
        self.progressMethod = progressMethod
    }

    /// Sends `$/progress {id, value}`; only requests (not notifications) report progress.
    public func progress(_ value: JSONValue) async {
        guard let id else { return }
        await output.send(Responses.notification(progressMethod, params: ["id": id.json, "value": value]))
    }

    /// Sends any notification (MCP's `notifications/progress`, for one).
    public func notify(_ method: String, _ params: JSONValue) async {
        await output.send(Responses.notification(method, params: params))
    }
}

/// Whether `shutdown` was received.
public actor Lifecycle {
    public private(set) var shutdownRequested = false
    public init() {}
    public func requestShutdown() { shutdownRequested = true }
}

/// The JSON-RPC server: reads lines, admits requests under the concurrency bound, runs them concurrently,
/// answers each exactly once, and drains in-flight work at exit.
public final class Server: Sendable {
    public let config: ServerOptions
    public let output: OutputChannel
    public let registry: InFlightRequests
    public let lifecycle = Lifecycle()
    public let handler: any RPCHandler
    public let logger: Logger
    public let recorder: TrafficRecorder?

    public init(
        options config: ServerOptions, handler: any RPCHandler, output: OutputChannel, logger: Logger, recorder: TrafficRecorder? = nil
    ) {
        self.config = config
        self.output = output
        self.logger = logger
        self.recorder = recorder
        registry = InFlightRequests(limit: config.maxConcurrent)
        self.handler = handler
    }

    /// Serves until `exit`, end of input or SIGTERM; returns the process exit status.
    public func run(reader: LineReader) async -> Int32 {
        logger.info(
            "serving JSON-RPC on stdio", metadata: ["maxConcurrent": "\(config.maxConcurrent)", "maxLineBytes": "\(config.maxLineBytes)"])
        reader.start()
        let hostGone = AsyncStream<Void>.makeStream()
        await output.whenClosed { hostGone.continuation.yield() }
        let watcher = Task { [self] in
            for await _ in hostGone.stream {
                // The host closed our stdout: nothing can be answered. Stop the work in flight and leave.
                logger.warning("the host closed the output (EPIPE); cancelling requests in flight and exiting")
                await registry.cancelAll()
                _ = await registry.waitUntilIdle(timeout: .seconds(1))
                exit(0)
            }
        }
        defer { watcher.cancel() }
        for await event in reader.events {
            // Answers waiting for a host that does not read hold memory: past a bound, stop reading until they go.
            await registry.waitForRoom(below: config.maxConcurrent + config.maxUndelivered)
            reader.consumed()
            switch event {
            case .line(let bytes):
                if let status = await handleLine(bytes) {
                    logger.info("exit notification received")
                    reader.stop()
                    await drain()
                    return status
                }
            case .oversized(let bytes):
                logger.warning("skipped an oversized line", metadata: ["bytes": "\(bytes)"])
                await output.send(
                    Responses.error(
                        .invalidRequest("line of \(bytes) bytes exceeds the limit of \(config.maxLineBytes) bytes (maxLineBytes)"),
                        id: .null))
            case .end:
                logger.info("end of input; finishing requests in flight")
                await drain()
                return 0
            }
        }
        await drain()
        return 0
    }

    /// Waits for requests in flight, at most the grace period; then cancels the rest and gives their
    /// cancellation answers a moment to leave.
    public func drain() async {
        if await registry.waitUntilIdle(timeout: .milliseconds(Int(config.graceSeconds * 1000))) { return }
        let inFlight = await registry.count
        logger.warning("grace period over; cancelling requests still in flight", metadata: ["inFlight": "\(inFlight)"])
        await registry.cancelAll()
        _ = await registry.waitUntilIdle(timeout: .seconds(1))
    }

    /// Handles one line; returns an exit status when the line asked the server to exit.
    private func handleLine(_ bytes: [UInt8]) async -> Int32? {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            recorder?.recordRequest(raw: bytes, parsed: nil)
            await output.send(Responses.error(.parseError(error.description), id: .null))
            return nil
        }
        recorder?.recordRequest(raw: bytes, parsed: value)
        if case .array(let elements) = value {
            guard !elements.isEmpty else {
                await output.send(Responses.error(.invalidRequest("empty batch"), id: .null))
                return nil
            }
            return await handleBatch(elements.map(IncomingMessage.init))
        }
        let message = IncomingMessage(value)
        if let status = await handleControl(message) { return status }
        if isControl(message) { return nil }
        if case .invalid(let error, let id) = message {
            await output.send(Responses.error(error, id: id))
            return nil
        }
        guard await registry.admit(1) else {
            if case .call(_, _, let id?) = message { await output.send(Responses.error(.overloaded(limit: config.maxConcurrent), id: id)) }
            return nil
        }
        let id: RequestID? = if case .call(_, _, let id) = message { id } else { nil }
        let closed = await admitAfterShutdown(message)
        await registry.start(id: id, slots: 1) { [self] in
            await respond(to: message, closed: closed)
        } deliver: { [output] in
            await output.send($0)
        }
        return nil
    }

    /// Whether the server was already shut down when this message was read. A `shutdown` takes effect in
    /// read order, so requests read before it still run.
    private func admitAfterShutdown(_ message: IncomingMessage) async -> Bool {
        guard config.lspLifecycle else { return false }
        let closed = await lifecycle.shutdownRequested
        if case .call("shutdown", _, _) = message { await lifecycle.requestShutdown() }
        return closed
    }

    private func handleBatch(_ messages: [IncomingMessage]) async -> Int32? {
        var exitStatus: Int32? = nil
        var work: [IncomingMessage] = []
        var immediate: [JSONValue] = []
        for message in messages {
            if let status = await handleControl(message) { exitStatus = status }
            if isControl(message) { continue }
            if case .invalid(let error, let id) = message {
                immediate.append(Responses.error(error, id: id))
            } else {
                work.append(message)
            }
        }
        if !work.isEmpty, !(await registry.admit(work.count)) {
            for case .call(_, _, let id?) in work { immediate.append(Responses.error(.overloaded(limit: config.maxConcurrent), id: id)) }
            work = []
        }
        if work.isEmpty {
            if !immediate.isEmpty { await output.send(.array(immediate)) }
            return exitStatus
        }
        var closedFlags: [Bool] = []
        for message in work { closedFlags.append(await admitAfterShutdown(message)) }
        let batch = work
        let early = immediate
        let closed = closedFlags
        await registry.start(id: nil, slots: batch.count) { [self] () async -> JSONValue? in
            var responses = early
            await withTaskGroup(of: (Int, JSONValue?).self) { group in
                for (index, message) in batch.enumerated() {
                    group.addTask { (index, await self.respond(to: message, closed: closed[index])) }
                }
                var ordered = [JSONValue?](repeating: nil, count: batch.count)
                for await (index, response) in group { ordered[index] = response }
                responses += ordered.compactMap { $0 }
            }
            return responses.isEmpty ? nil : .array(responses)
        } deliver: { [output] in
            await output.send($0)
        }
        return exitStatus
    }

    private func isControl(_ message: IncomingMessage) -> Bool {
        if case .call(let method, _, nil) = message { return method == config.cancelMethod || (config.lspLifecycle && method == "exit") }
        return false
    }

    /// Notifications that act on the server itself: cancellation and exit.
    private func handleControl(_ message: IncomingMessage) async -> Int32? {
        guard case .call(let method, let params, nil) = message else { return nil }
        if method == config.cancelMethod {
            if let raw = params?[config.cancelIDKey], let id = RequestID(raw) {
                let found = await registry.cancel(id)
                logger.debug("cancel request", metadata: ["id": "\(id)", "found": "\(found)"])
            }
            return nil
        }
        if config.lspLifecycle && method == "exit" {
            return await lifecycle.shutdownRequested ? 0 : 1
        }
        return nil
    }

    /// Runs one call and builds its response (nil for a notification): exactly one answer per request.
    private func respond(to message: IncomingMessage, closed: Bool) async -> JSONValue? {
        guard case .call(let method, let params, let id) = message else { return nil }
        let started = ContinuousClock.now
        let outcome: Result<JSONValue, RPCError>
        if closed {
            outcome = .failure(.invalidRequest("the server is shutting down"))
        } else {
            let context = RequestContext(id: id, output: output, progressMethod: config.progressMethod)
            do {
                let result = try await handler.handle(method, params, context)
                outcome = Task.isCancelled ? .failure(.cancelled) : .success(result)
            } catch {
                outcome = .failure(error)
            }
        }
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        switch outcome {
        case .success:
            logger.debug("request done", metadata: ["method": "\(method)", "id": "\(id?.description ?? "-")", "ms": "\(ms)"])
        case .failure(let error):
            logger.info(
                "request failed",
                metadata: ["method": "\(method)", "id": "\(id?.description ?? "-")", "code": "\(error.code)", "ms": "\(ms)"])
        }
        guard let id else { return nil }
        switch outcome {
        case .success(let result): return Responses.result(result, id: id)
        case .failure(let error):
            if error.code == RPCError.requestCancelledCode && !config.answerCancelled { return nil }
            return Responses.error(error, id: id)
        }
    }
}
