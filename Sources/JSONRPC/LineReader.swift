import Dispatch
import Foundation
import JSONCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What the reader delivers: a complete line (without its newline), a line that was over the size limit
/// (its bytes were skipped, not buffered), or the end of input.
public enum InputEvent: Sendable {
    case line([UInt8])
    case oversized(bytes: Int)
    case end
}

/// Splits a byte stream into lines, holding at most `maxLineBytes` of any one line.
public struct LineFramer {
    public let maxLineBytes: Int
    private var current: [UInt8] = []
    private var skipping = false
    private var skippedBytes = 0

    public init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    /// Feeds a chunk; returns the events it completes.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) -> [InputEvent] {
        var events: [InputEvent] = []
        var start = 0
        while start < chunk.count {
            let rest = UnsafeRawBufferPointer(rebasing: chunk[start...])
            let newline = memchr(rest.baseAddress!, 0x0A, rest.count)
            let end = newline.map { rest.baseAddress!.distance(to: UnsafeRawPointer($0)) + start } ?? chunk.count
            let piece = UnsafeRawBufferPointer(rebasing: chunk[start..<end])
            if skipping {
                skippedBytes += piece.count
            } else if current.count + piece.count > maxLineBytes {
                skipping = true
                skippedBytes = current.count + piece.count
                current = []
            } else {
                current.append(contentsOf: piece)
            }
            if newline == nil { break }
            events.append(contentsOf: finishLine())
            start = end + 1
        }
        return events
    }

    /// Ends the input: a last line without a newline still counts.
    public mutating func finish() -> [InputEvent] {
        (current.isEmpty && !skipping ? [] : finishLine()) + [.end]
    }

    private mutating func finishLine() -> [InputEvent] {
        defer {
            current = []
            skipping = false
            skippedBytes = 0
        }
        if skipping { return [.oversized(bytes: skippedBytes)] }
        if current.last == 0x0D { current.removeLast() }
        // Blank lines carry no message.
        if current.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return [] }
        return [.line(current)]
    }
}

/// Reads a file descriptor on a thread of its own (a blocking read must not hold a thread of Swift's
/// cooperative pool) and hands lines to async code, at most `window` ahead of the consumer, so a fast
/// producer cannot fill memory.
public final class LineReader: @unchecked Sendable {
    public let events: AsyncStream<InputEvent>
    private let continuation: AsyncStream<InputEvent>.Continuation
    private let credits: DispatchSemaphore
    private let fd: Int32
    private let maxLineBytes: Int
    private let stopped = Atomic<Bool>(false)

    public init(fd: Int32, maxLineBytes: Int, window: Int = 4) {
        (events, continuation) = AsyncStream.makeStream(of: InputEvent.self)
        // Credits are signalled in rather than given to the initializer: libdispatch traps when a semaphore is
        // deallocated holding less than its initial value, which a reader whose consumer left early does (found by
        // FuzzJSONRPC: an `exit` notification followed by more lines).
        credits = DispatchSemaphore(value: 0)
        for _ in 0..<window { credits.signal() }
        self.fd = fd
        self.maxLineBytes = maxLineBytes
    }

    /// The consumer is gone (the server returned): the reader thread stops at its next line instead of waiting for
    /// credits forever. A read already blocked on the descriptor ends with its input.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        credits.signal()
    }

    /// The consumer took an event: the reader may go one further.
    public func consumed() { credits.signal() }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "stdin-reader"
        thread.start()
    }

    private func run() {
        var framer = LineFramer(maxLineBytes: maxLineBytes)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            let events = buffer.withUnsafeBytes { framer.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            for event in events { deliver(event) }
            if stopped.load(ordering: .relaxed) { break }
        }
        for event in framer.finish() { deliver(event) }
        continuation.finish()
    }

    private func deliver(_ event: InputEvent) {
        if case .end = event {
            continuation.yield(event)
            return
        }
        if stopped.load(ordering: .relaxed) { return }
        credits.wait()
        if stopped.load(ordering: .relaxed) {
            credits.signal()  // wake any other waiter of a stopped reader
            return
        }
        continuation.yield(event)
    }
}
