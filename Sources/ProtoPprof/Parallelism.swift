import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How many threads one profile's work may use (building its tree; a diff decodes its two sides at once): the
/// process's setting, `--threads` on the command line. Two by default, one on a one-core machine; 1 keeps every step
/// on the calling thread, exactly the single-threaded code. Results are the same whatever the setting.
///
/// The default of `TreeOptions.threads`: a server reads its requests' options from JSON, and this is how its
/// `--threads` reaches them. (Sample decoding in halves is `DecodeLimits.threads`, `--decode-threads`.)
public enum Parallelism {
    private static let setting = Atomic<Int>(defaultThreads)

    /// Two, or one when the machine has one core: more halves would not pay on the 2-core hosts we measure.
    public static let defaultThreads = min(2, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

    /// The most threads a profile's work may use: 1 or 2 (larger values are taken as 2).
    public static var threads: Int {
        get { setting.load(ordering: .relaxed) }
        set { setting.store(min(2, max(1, newValue)), ordering: .relaxed) }
    }
}
