import CMallocShim

/// The process's allocator policy, set by CMallocShim's constructor before main: one malloc arena.
///
/// glibc gives threads arenas of their own, made of 64 MiB heaps that it rarely returns; a profile decoded on a
/// worker thread (every request is) left a 1M-sample flame graph peaking at 290 MB in some runs and 243 MB in
/// others, depending on which arena its thread drew. With one arena it is 244 MB every run, with fewer page
/// faults. Our hot paths allocate a few large arrays, not many small objects, so the shared arena's lock is
/// not contended (small allocations hit glibc's per-thread cache first). It must be set before the Swift
/// runtime starts its threads, hence a constructor rather than a call from `main`.
enum MallocPolicy {
    /// The arena cap in force (0: the platform's default).
    static var arenaMax: Int { Int(CMallocShim_arenaMax()) }
}
