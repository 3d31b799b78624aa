import JSONCore

#if canImport(Glibc)
    import Glibc
#endif

/// The only writer of protocol output. Each message is one line written with complete write calls inside
/// the actor, so two messages never interleave. Optionally mirrors every message to a recording (secrets redacted).
public actor OutputChannel {
    private let fd: Int32
    private let recorder: TrafficRecorder?
    private(set) var linesWritten = 0
    /// Whether the host closed its end (EPIPE): nothing more can be delivered.
    public private(set) var closed = false
    private var onClosed: (@Sendable () -> Void)?

    public init(fd: Int32, recorder: TrafficRecorder? = nil) {
        self.fd = fd
        self.recorder = recorder
    }

    /// Called once, when a write finds the reader gone (the server then cancels its work and exits).
    public func whenClosed(_ action: @escaping @Sendable () -> Void) {
        onClosed = action
        if closed { action() }
    }

    public func send(_ message: JSONValue) {
        if closed { return }
        var w = JSONWriter(reservingCapacity: 256)
        message.write(to: &w)
        var bytes = w.bytes
        bytes.append(0x0A)
        recorder?.recordResponse(bytes)
        if !writeFully(fd, bytes) {
            closed = true
            onClosed?()
            return
        }
        linesWritten += 1
    }
}
