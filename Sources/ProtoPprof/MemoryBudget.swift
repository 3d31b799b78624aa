#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// The memory that requests of one process may hold together, in bytes. Each request reserves from it before
/// its expensive steps (inflating, decoding, building trees) through a `MemoryReservation`, and grows that
/// reservation as the work turns out larger than first thought; what does not fit waits briefly for others to
/// finish, then is refused (the server answers "overloaded", with a hint to retry).
public final class MemoryBudget: Sendable {
    /// The bytes requests may reserve together.
    public let limit: Int
    /// How long a reservation waits for memory before it is refused.
    public let wait: Duration
    private let reserved = Mutex<Int>(0)
    private let peak = Atomic<Int>(0)

    public init(limit: Int, wait: Duration = .seconds(5)) {
        self.limit = limit
        self.wait = wait
    }

    /// The bytes reserved now.
    public var inUse: Int { reserved.withLock { $0 } }
    /// The most bytes ever reserved at once.
    public var peakInUse: Int { peak.load(ordering: .relaxed) }

    /// Reserves `bytes` if they fit now.
    func tryReserve(_ bytes: Int) -> Bool {
        let now: Int? = reserved.withLock { used in
            guard bytes <= limit - used else { return nil }
            used += bytes
            return used
        }
        guard let now else { return false }
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
        return true
    }

    /// Reserves `bytes`, waiting up to `wait` for them (polling: a reservation waits on a thread of its own, never
    /// on Swift's cooperative pool). False when they never fit, the request was cancelled, or they exceed the limit.
    func reserve(_ bytes: Int) -> Bool {
        if tryReserve(bytes) { return true }
        guard bytes <= limit else { return false }
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline {
            if WorkCancellation.isCancelled { return false }
            usleep(2_000)
            if tryReserve(bytes) { return true }
        }
        return false
    }

    func release(_ bytes: Int) {
        reserved.withLock { $0 -= bytes }
    }
}

/// One request's share of a `MemoryBudget`. It grows step by step and is given back, whole, when the last
/// reference to it goes: when the request has answered and every thread working for it has stopped.
/// Requests carry theirs in the task-local `current`; decoding threads in `MemoryReservation.run(with:)`.
public final class MemoryReservation: Sendable {
    public let budget: MemoryBudget
    private let held = Mutex<Int>(0)
    /// The bytes this reservation wanted and could not get (0: none refused).
    private let refusedBytes = Atomic<Int>(0)

    /// The reservation of the request the current task serves, if the server has a budget.
    @TaskLocal public static var current: MemoryReservation?

    public init(budget: MemoryBudget) { self.budget = budget }

    deinit { budget.release(held.withLock { $0 }) }

    /// The bytes held.
    public var bytes: Int { held.withLock { $0 } }
    /// The bytes last refused, or nil when nothing was.
    public var refused: Int? {
        let r = refusedBytes.load(ordering: .relaxed)
        return r == 0 ? nil : r
    }

    /// Adds `bytes`, waiting briefly for them; false (and `refused` set) when they do not come.
    public func grow(by bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        guard budget.reserve(bytes) else {
            refusedBytes.store(max(self.bytes + bytes, 1), ordering: .relaxed)
            return false
        }
        held.withLock { $0 += bytes }
        return true
    }

    // MARK: Decoding threads

    /// What a decoding thread has claimed so far, against its reservation.
    final class Claim {
        let reservation: MemoryReservation
        var claimed = 0
        init(_ reservation: MemoryReservation) { self.reservation = reservation }
    }

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// What a request needs beyond the inflated bytes' share: buffers, the call tree and the answer of a small
    /// profile (a 2 MiB CPU profile peaks 25 MiB above the process's footprint in a debug build).
    public static let fixedNeed = 16 << 20
    /// How many bytes a profile needs per inflated byte, all told: the inflated buffer, the copy of the non-sample
    /// fields the sample decoder hands to protobuf-c, protobuf-c's arena and strings, the model and the tree.
    /// Measured: a 142 MiB synthetic profile (1M samples) peaks at 2.2x, a 48 MiB string table at 4.2x.
    public static let inflatedFactor = 5

    /// The bytes a profile of `inflated` bytes needs, all told.
    public static func need(inflated: Int) -> Int {
        let (scaled, overflow) = inflated.multipliedReportingOverflow(by: inflatedFactor)
        return overflow || scaled > Int.max - fixedNeed ? Int.max : scaled + fixedNeed
    }

    /// Runs `body` (a profile's decoding, on its own thread) with this reservation as the thread's: inflation
    /// and decoding grow it through `cover(inflated:)` as the real sizes show.
    public func run<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let claim = Claim(self)
        let previous = pthread_getspecific(Self.key)
        pthread_setspecific(Self.key, Unmanaged.passUnretained(claim).toOpaque())
        defer { pthread_setspecific(Self.key, previous) }
        return try withExtendedLifetime(claim) { () throws(E) -> T in try body() }
    }

    /// What the current thread's reservation last wanted and could not get, and its budget; nil when nothing was refused.
    public static var threadRefusal: (neededBytes: Int, budgetBytes: Int)? {
        guard let raw = pthread_getspecific(key) else { return nil }
        let reservation = Unmanaged<Claim>.fromOpaque(raw).takeUnretainedValue().reservation
        return reservation.refused.map { ($0, reservation.budget.limit) }
    }

    /// Makes the current thread's reservation cover a profile of `inflated` bytes (a first guess, or what
    /// inflating has actually produced so far); true when there is no reservation or it grew enough.
    public static func cover(inflated: Int) -> Bool {
        guard let raw = pthread_getspecific(key) else { return true }
        let claim = Unmanaged<Claim>.fromOpaque(raw).takeUnretainedValue()
        let wanted = need(inflated: inflated)
        guard wanted > claim.claimed else { return true }
        guard claim.reservation.grow(by: wanted - claim.claimed) else { return false }
        claim.claimed = wanted
        return true
    }
}
