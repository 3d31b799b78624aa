import Dispatch
import Foundation
import Logging

/// The JSON-RPC server: reads lines, admits requests under the concurrency bound, runs them concurrently,
/// answers each exactly once, and drains in-flight work at exit.
final class Server: Sendable {
    let config: ServerConfig
    let output: OutputChannel
    let registry: Registry
    let lifecycle = Lifecycle()
    let dispatcher: Dispatcher
    let logger: Logger
    let recorder: TrafficRecorder?

    init(config: ServerConfig, output: OutputChannel, logger: Logger, recorder: TrafficRecorder? = nil) {
        self.config = config
        self.output = output
        self.logger = logger
        self.recorder = recorder
        registry = Registry(limit: config.maxConcurrent)
        dispatcher = Dispatcher(config: config)
    }

    /// Serves until `exit`, end of input or SIGTERM; returns the process exit status.
    func run(reader: LineReader) async -> Int32 {
        logger.info("serving JSON-RPC on stdio", metadata: ["maxConcurrent": "\(config.maxConcurrent)", "maxLineBytes": "\(config.maxLineBytes)"])
        reader.start()
        for await event in reader.events {
            reader.consumed()
            switch event {
            case .line(let bytes):
                if let status = await handleLine(bytes) {
                    logger.info("exit notification received")
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
    func drain() async {
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
        if case .call(let method, _, nil) = message { return method == "$/cancelRequest" || method == "exit" }
        return false
    }

    /// Notifications that act on the server itself: cancellation and exit.
    private func handleControl(_ message: IncomingMessage) async -> Int32? {
        guard case .call(let method, let params, nil) = message else { return nil }
        switch method {
        case "$/cancelRequest":
            if let raw = params?["id"], let id = RequestID(raw) {
                let found = await registry.cancel(id)
                logger.debug("cancel request", metadata: ["id": "\(id)", "found": "\(found)"])
            }
            return nil
        case "exit":
            return await lifecycle.shutdownRequested ? 0 : 1
        default:
            return nil
        }
    }

    /// Runs one call and builds its response (nil for a notification): exactly one answer per request.
    private func respond(to message: IncomingMessage, closed: Bool) async -> JSONValue? {
        guard case .call(let method, let params, let id) = message else { return nil }
        let started = ContinuousClock.now
        let outcome: Result<JSONValue, RPCError>
        if closed {
            outcome = .failure(.invalidRequest("the server is shutting down"))
        } else {
            let context = RequestContext(id: id, output: output)
            do {
                let result = try await dispatcher.handle(method, params, context)
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
            logger.info("request failed", metadata: ["method": "\(method)", "id": "\(id?.description ?? "-")", "code": "\(error.code)", "ms": "\(ms)"])
        }
        guard let id else { return nil }
        switch outcome {
        case .success(let result): return Responses.result(result, id: id)
        case .failure(let error): return Responses.error(error, id: id)
        }
    }
}
