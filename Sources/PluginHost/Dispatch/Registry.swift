/// Requests in flight: admission under the concurrency bound, cancellation by id, draining at exit.
actor Registry {
    let limit: Int
    private var tasks: [Int: (id: RequestID?, task: Task<Void, Never>)] = [:]
    private var reserved = 0
    private var nextKey = 0
    private var idleWaiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    private var nextWaiter = 0

    init(limit: Int) { self.limit = limit }

    var count: Int { reserved }

    /// Reserves `n` slots if they fit under the bound.
    func admit(_ n: Int) -> Bool {
        guard reserved + n <= limit else { return false }
        reserved += n
        return true
    }

    /// Starts a reserved request's task and remembers it under its id for cancellation.
    func start(id: RequestID?, slots: Int, _ body: @escaping @Sendable () async -> Void) {
        let key = nextKey
        nextKey += 1
        let task = Task { [weak self] in
            await body()
            await self?.finish(key, slots: slots)
        }
        tasks[key] = (id, task)
    }

    private func finish(_ key: Int, slots: Int) {
        tasks[key] = nil
        reserved -= slots
        if reserved == 0 {
            for waiter in idleWaiters.values { waiter.resume(returning: true) }
            idleWaiters = [:]
        }
    }

    /// Cancels every in-flight request with this id; true if one was found.
    func cancel(_ id: RequestID) -> Bool {
        var found = false
        for (_, entry) in tasks where entry.id == id {
            entry.task.cancel()
            found = true
        }
        return found
    }

    func cancelAll() {
        for (_, entry) in tasks { entry.task.cancel() }
    }

    /// Returns true when nothing is in flight, or false once `timeout` has passed.
    func waitUntilIdle(timeout: Duration) async -> Bool {
        if reserved == 0 { return true }
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
