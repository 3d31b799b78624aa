import Dispatch

/// Runs two pieces of work at once, one per thread (`DispatchQueue.concurrentPerform`), and returns both
/// results when both are done.
func concurrently<A, B>(_ first: @Sendable () -> A, _ second: @Sendable () -> B) -> (A, B) {
    let results = TwoResults<A, B>()
    DispatchQueue.concurrentPerform(iterations: 2) { part in
        if part == 0 { results.first = first() } else { results.second = second() }
    }
    return (results.first!, results.second!)
}

/// The results of `concurrently`.
///
/// `@unchecked Sendable`: `first` is written only by part 0 and `second` only by part 1 (two stored
/// properties, so no exclusive access overlaps), and both are read only after `concurrentPerform` has
/// returned, which waits for both parts.
private final class TwoResults<A, B>: @unchecked Sendable {
    var first: A?
    var second: B?
}

/// A buffer that two concurrent parts fill at disjoint indices.
///
/// `@unchecked Sendable`: whoever hands one to concurrent parts must give each part indices that no other
/// part reads or writes, and read the buffer only after the parts are joined (`concurrently` returns).
/// The memory belongs to an array being initialised (`Array(unsafeUninitializedCapacity:)`) or kept
/// alive by the caller for as long as the parts run.
struct DisjointWrites<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>

    init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        // A zero-sized buffer has no base address; nothing is written through it then.
        base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }

    /// Initialises (or overwrites, for trivial types) element `i`.
    @inline(__always)
    func set(_ i: Int, _ value: Element) { (base + i).initialize(to: value) }

    @inline(__always)
    subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}
