import JSONCore

/// Requests in flight: admission under the concurrency bound, cancellation by id, draining at exit.
public actor InFlightRequests {
    public let limit: Int
    private var tasks: [Int: (id: RequestID?, task: Task<Void, Never>)] = [:]
    private var reserved = 0
    private var nextKey = 0
    private var idleWaiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    private var nextWaiter = 0
    private var roomWaiters: [(tasks: Int, continuation: CheckedContinuation<Void, Never>)] = []

    public init(limit: Int) { self.limit = limit }

    public var count: Int { tasks.count }

    /// Reserves `n` slots if they fit under the bound.
    public func admit(_ n: Int) -> Bool {
        guard reserved + n <= limit else { return false }
        reserved += n
        return true
    }

    /// Starts a reserved request's task and remembers it under its id for cancellation. The slots are
    /// released as soon as `body` has its answer, before `deliver` writes it: a client that waits for an
    /// answer before sending its next request is never refused. Draining waits for `deliver` too.
    public func start(
        id: RequestID?, slots: Int, _ body: @escaping @Sendable () async -> JSONValue?,
        deliver: @escaping @Sendable (JSONValue) async -> Void
    ) {
        let key = nextKey
        nextKey += 1
        let task = Task { [weak self] in
            let answer = await body()
            await self?.release(slots)
            if let answer { await deliver(answer) }
            await self?.finish(key)
        }
        tasks[key] = (id, task)
    }

    private func release(_ slots: Int) {
        reserved -= slots
    }

    /// Returns once fewer than `tasks` requests are in flight or waiting to deliver their answers. The server waits
    /// here before reading on, so a host that stops reading our output stops us reading its input: answers nobody
    /// takes cannot pile up (each may be megabytes).
    public func waitForRoom(below tasks: Int) async {
        if self.tasks.count < tasks { return }
        await withCheckedContinuation { roomWaiters.append((tasks, $0)) }
    }

    private func finish(_ key: Int) {
        tasks[key] = nil
        if !roomWaiters.isEmpty {
            let count = tasks.count
            roomWaiters.removeAll { waiter in
                guard count < waiter.tasks else { return false }
                waiter.continuation.resume()
                return true
            }
        }
        if tasks.isEmpty {
            for waiter in idleWaiters.values { waiter.resume(returning: true) }
            idleWaiters = [:]
        }
    }

    /// Cancels every in-flight request with this id; true if one was found.
    public func cancel(_ id: RequestID) -> Bool {
        var found = false
        for (_, entry) in tasks where entry.id == id {
            entry.task.cancel()
            found = true
        }
        return found
    }

    public func cancelAll() {
        for (_, entry) in tasks { entry.task.cancel() }
    }

    /// Returns true when nothing is in flight (every answer written), or false once `timeout` has passed.
    public func waitUntilIdle(timeout: Duration) async -> Bool {
        if tasks.isEmpty { return true }
        let key = nextWaiter
        nextWaiter += 1
        return await withCheckedContinuation { continuation in
            idleWaiters[key] = continuation
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.expire(key)
            }
        }
    }

    private func expire(_ key: Int) {
        idleWaiters.removeValue(forKey: key)?.resume(returning: false)
    }
}
