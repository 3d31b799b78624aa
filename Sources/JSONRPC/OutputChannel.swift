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

    public init(fd: Int32, recorder: TrafficRecorder? = nil) {
        self.fd = fd
        self.recorder = recorder
    }

    public func send(_ message: JSONValue) {
        var w = JSONWriter(reservingCapacity: 256)
        message.write(to: &w)
        var bytes = w.bytes
        bytes.append(0x0A)
        writeAll(fd, bytes)
        recorder?.recordResponse(bytes)
        linesWritten += 1
    }

    private nonisolated func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return  // the reader went away; nothing useful to do
                }
                done += n
            }
        }
    }
}
