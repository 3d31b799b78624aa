#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A flag that a request's owner sets to stop CPU-bound work it no longer wants.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func cancel() { flag.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Cooperative cancellation for synchronous work on threads of its own. The JSON-RPC server runs each
/// CPU-bound request on a dedicated thread under a `CancellationFlag`; long loops (pattern matching over
/// every function, classification of names) call `isCancelled` every so often and give up with their
/// module's `cancelled` error, so a cancelled request stops using the CPU instead of finishing unseen.
/// Inside a Swift task, the task's own cancellation counts too.
public enum WorkCancellation {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// Runs `body` on the current thread with `flag` as its cancellation flag.
    public static func run<T, E: Error>(with flag: CancellationFlag, _ body: () throws(E) -> T) throws(E) -> T {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(flag).toOpaque())
        defer { pthread_setspecific(key, previous) }
        return try withExtendedLifetime(flag) { () throws(E) -> T in try body() }
    }

    /// Whether the work running on this thread should stop.
    public static var isCancelled: Bool {
        if let raw = pthread_getspecific(key), Unmanaged<CancellationFlag>.fromOpaque(raw).takeUnretainedValue().isCancelled {
            return true
        }
        return Task.isCancelled
    }
}
