import FlyingFox
import FlyingSocks
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// FlyingFox's epoll pool with two additions the host needs and FlyingFox does not offer:
///
/// - An idle timeout: a connection that waits longer than `idle` for its peer to send (or to take what we send)
///   is dropped, so a client that opens connections and sends nothing, or sends a request slowly, cannot hold
///   them for ever. The listening socket is exempt (it waits for connections, not for a peer).
/// - A way for a handler to find its own connection by the peer address FlyingFox gives it: to notice that the
///   browser went away (`peerClosed`) and to stop reading a request whose body it refused (`stopReading`).
final class GuardedSocketPool: AsyncSocketPool, Sendable {
    private let base: SocketPool<ePoll>
    let idle: Duration

    init(idle: Duration) {
        self.base = .ePoll()
        self.idle = idle
    }

    func prepare() async throws { try await base.prepare() }
    func run() async throws { try await base.run() }

    func suspendSocket(_ socket: Socket, untilReadyFor events: Socket.Events) async throws {
        let fd = socket.file.rawValue
        if Self.isListening(fd) {
            return try await base.suspendSocket(socket, untilReadyFor: events)
        }
        let base = self.base
        let idle = self.idle
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await base.suspendSocket(socket, untilReadyFor: events)
                return true
            }
            group.addTask {
                try await Task.sleep(for: idle)
                return false
            }
            let ready = try await group.next() ?? false
            group.cancelAll()
            // The wait that lost is cancelled; its error (CancellationError) is expected and dropped.
            while let _ = try? await group.next() {}
            if !ready { throw SocketError.disconnected }
        }
    }

    /// The connection socket whose peer is `address` (a 4-tuple is unique among live connections), found among
    /// this process's descriptors: a request whose bytes were already there was read without waiting, so the
    /// pool may never have seen its socket.
    func descriptor(for address: HTTPRequest.Address?) -> Int32? {
        guard let address else { return nil }
        let wanted: (ip: String, port: UInt16)
        switch address {
        case .ip4(let ip, let port), .ip6(let ip, let port): wanted = (ip, port)
        case .unix: return nil
        }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        for entry in entries {
            guard let fd = Int32(entry), fd > 2, let peer = Self.peer(of: fd) else { continue }
            if peer.port == wanted.port && peer.ip == wanted.ip { return fd }
        }
        return nil
    }

    /// POLLRDHUP (Linux; Glibc declares it only under _GNU_SOURCE): the peer shut its side down.
    private static let pollRDHUP: Int16 = 0x2000

    /// True when the peer has closed the connection (or it failed): the browser went away.
    static func peerClosed(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Self.pollRDHUP, revents: 0)
        guard Glibc.poll(&p, 1, 0) >= 0 else { return true }
        return p.revents & (Self.pollRDHUP | Int16(POLLHUP | POLLERR | POLLNVAL)) != 0
    }

    /// Reads on this connection end: FlyingFox sees the end of input after the response it is about to send,
    /// instead of parsing the unread body of a refused request as the next request.
    static func stopReading(_ fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_RD))
    }

    private static func isListening(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &size) == 0 && value != 0
    }

    private static func peer(of fd: Int32) -> (ip: String, port: UInt16)? {
        var storage = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &size) == 0 }
        }
        guard ok, let address = try? Socket.makeAddress(from: storage) else { return nil }
        switch address {
        case .ip4(let ip, let port), .ip6(let ip, let port): return (ip, port)
        case .unix: return nil
        }
    }
}
