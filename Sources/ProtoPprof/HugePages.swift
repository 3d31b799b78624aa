#if canImport(Glibc)
    import Glibc
#endif

/// Transparent huge pages for the few buffers of a hundred MB (inflated profiles): the kernel then maps them
/// 2 MiB at a time, one page fault where there were 512, and the decoder scanning them misses the TLB less.
/// Debian's kernels enable THP for regions that ask (`madvise` mode), which is what this does.
enum HugePages {
    /// Below this a buffer stays on ordinary pages: rounding to 2 MiB would waste more than it saves.
    static let minimumBytes = 8 << 20
    static let size = 2 << 20

    /// Asks for huge pages on the 2 MiB-aligned part of `buffer`; call it before the buffer is written. A
    /// hint: without THP, or when the kernel has no huge page free, nothing changes.
    static func advise(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
            guard buffer.count >= minimumBytes, let base = buffer.baseAddress else { return }
            let start = (Int(bitPattern: base) + size - 1) & ~(size - 1)
            let end = (Int(bitPattern: base) + buffer.count) & ~(size - 1)
            guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
            _ = madvise(aligned, end - start, MADV_HUGEPAGE)
        #endif
    }
}
