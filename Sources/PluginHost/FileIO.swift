import FlameDiff
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes bytes to standard output in full.
func writeStdout(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(1, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            done += n
        }
    }
}

func writeStderr(_ text: String) {
    var text = text
    if !text.hasSuffix("\n") { text += "\n" }
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let n = write(2, buffer.baseAddress! + done, buffer.count - done)
            if n <= 0 { return }
            done += n
        }
    }
}

/// Phase timings on stderr when FLAMEGRAPH_AI_TIMING is set: what each stage of a command costs.
struct PhaseTimer {
    private let enabled = getenv("FLAMEGRAPH_AI_TIMING") != nil
    private let start = ContinuousClock.now
    private var last = ContinuousClock.now

    mutating func mark(_ phase: String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        func ms(_ d: Duration) -> String {
            let v = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
            return NumberText.fixed(v, places: 2)
        }
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        writeStderr("[timing] \(phase): \(ms(now - last)) ms (total \(ms(now - start)) ms, peak RSS \(usage.ru_maxrss / 1024) MB)")
        last = now
    }
}

