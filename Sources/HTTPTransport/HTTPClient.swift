import CCurl
import CCurlShim
import Foundation
import Synchronization

/// An HTTP request for libcurl. TLS peers are always verified.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var connectTimeout: Duration
    /// The whole exchange, streaming included.
    public var totalTimeout: Duration
    public var maxResponseBytes: Int
    /// Called on the transfer's thread once libcurl has let go of the connection (for measurements).
    public var onTransferEnd: (@Sendable () -> Void)?

    public init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
        connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(120), maxResponseBytes: Int = 16 << 20
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// What a streamed response delivers: its head once, then body chunks as they arrive.
public enum HTTPEvent: Sendable {
    case head(status: Int, headers: [(name: String, value: String)])
    case data([UInt8])
}

/// Why an exchange failed. Messages never include the URL or headers (they may hold credentials).
public enum HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreachable(String)
    case timeout
    case connectionClosed(String)
    case responseTooLarge(limit: Int)
    case cancelled
    case transport(String)
    /// The TLS handshake or the peer's certificate failed: retrying the same peer cannot help.
    case tls(String)
    /// The URL's scheme is not http or https (libcurl would otherwise read `file://` and others).
    case unsupportedScheme

    public var description: String {
        switch self {
        case .unreachable(let why): return "server unreachable: \(why)"
        case .timeout: return "timed out"
        case .connectionClosed(let why): return "connection closed before the response ended: \(why)"
        case .responseTooLarge(let limit): return "response larger than \(limit) bytes"
        case .cancelled: return "cancelled"
        case .transport(let why): return "transport error: \(why)"
        case .tls(let why): return "TLS failure: \(why)"
        case .unsupportedScheme: return "only http:// and https:// URLs are allowed"
        }
    }
}

/// HTTP over libcurl. Each exchange runs on a thread of its own (libcurl blocks), driven through a multi
/// handle polled every 50 ms, so a cancelled stream stops within one poll, or at once through a wakeup.
public enum HTTPClient {
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Whether a URL is http or https, the only schemes an exchange may use.
    public static func isWebURL(_ url: String) -> Bool {
        let lower = url.prefix(8).lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// The response as a stream of events; cancelling the consuming task aborts the transfer.
    public static func stream(_ request: HTTPRequest) -> AsyncThrowingStream<HTTPEvent, Error> {
        _ = globalInit
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: HTTPEvent.self)
        let transfer = Transfer(request: request, continuation: continuation)
        continuation.onTermination = { _ in transfer.cancel() }
        let thread = Thread { transfer.run() }
        thread.name = "http-transfer"
        thread.start()
        return stream
    }

    /// The whole response: status, headers and body.
    public static func send(_ request: HTTPRequest) async throws(HTTPError) -> (
        status: Int, headers: [(name: String, value: String)], body: [UInt8]
    ) {
        var status = 0
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        do {
            for try await event in stream(request) {
                switch event {
                case .head(let s, let h):
                    status = s
                    headers = h
                case .data(let chunk):
                    body.append(contentsOf: chunk)
                }
            }
        } catch let error as HTTPError {
            throw error
        } catch {
            throw .cancelled
        }
        // A cancelled task's stream ends without an error (AsyncThrowingStream's iterator returns nil): not an answer.
        if Task.isCancelled { throw .cancelled }
        return (status, headers, body)
    }
}

/// One exchange: libcurl's callbacks reach it through an unmanaged pointer.
private final class Transfer: @unchecked Sendable {
    let request: HTTPRequest
    let continuation: AsyncThrowingStream<HTTPEvent, Error>.Continuation
    private let cancelled = Atomic<Bool>(false)
    /// The multi handle while the transfer runs, for wakeups from other threads (curl_multi_wakeup is
    /// thread-safe; the mutex keeps the handle from being freed under it).
    private struct MultiHandle: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
    }
    private let multi = Mutex<MultiHandle?>(nil)

    // Touched only on the transfer's thread.
    private var status = 0
    private var headers: [(name: String, value: String)] = []
    private var headSent = false
    private var received = 0
    private var tooLarge = false

    init(request: HTTPRequest, continuation: AsyncThrowingStream<HTTPEvent, Error>.Continuation) {
        self.request = request
        self.continuation = continuation
    }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        multi.withLock { handle in
            if let handle { _ = curl_multi_wakeup(handle.pointer) }
        }
    }

    func run() {
        guard HTTPClient.isWebURL(request.url) else {
            continuation.finish(throwing: HTTPError.unsupportedScheme)
            return
        }
        guard let easy = curl_easy_init() else {
            continuation.finish(throwing: HTTPError.transport("libcurl could not create a handle"))
            return
        }
        let url = strdup(request.url)
        let method = strdup(request.method)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        let body = UnsafeMutablePointer<UInt8>.allocate(capacity: max(request.body.count, 1))
        body.initialize(from: request.body, count: request.body.count)
        defer {
            free(url)
            free(method)
            curl_slist_free_all(headerList)
            body.deallocate()
            curl_easy_cleanup(easy)
            request.onTransferEnd?()
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = CCurlShim_setopt_pointer(easy, CURLOPT_URL, url)
        _ = CCurlShim_setopt_pointer(easy, CURLOPT_CUSTOMREQUEST, method)
        _ = CCurlShim_setopt_pointer(easy, CURLOPT_HTTPHEADER, headerList)
        if !request.body.isEmpty || request.method == "POST" {
            _ = CCurlShim_setopt_pointer(easy, CURLOPT_POSTFIELDS, body)
            _ = CCurlShim_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        }
        _ = CCurlShim_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        // Only the web: libcurl would otherwise follow `file://`, `gopher://`, `dict://` and more.
        _ = CCurlShim_setopt_pointer(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = CCurlShim_setopt_pointer(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = CCurlShim_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = CCurlShim_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        _ = CCurlShim_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout))
        _ = CCurlShim_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.totalTimeout))
        _ = CCurlShim_setopt_callback(
            easy, CURLOPT_WRITEFUNCTION,
            { data, size, count, user in
                Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue().body(data, size * count)
            })
        _ = CCurlShim_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        _ = CCurlShim_setopt_callback(
            easy, CURLOPT_HEADERFUNCTION,
            { data, size, count, user in
                Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue().header(data, size * count)
            })
        _ = CCurlShim_setopt_pointer(easy, CURLOPT_HEADERDATA, me)

        guard let handle = curl_multi_init() else {
            continuation.finish(throwing: HTTPError.transport("libcurl could not create a multi handle"))
            return
        }
        _ = curl_multi_add_handle(handle, easy)
        let shared = MultiHandle(pointer: handle)
        multi.withLock { $0 = shared }
        var result = CURLE_OK
        while true {
            if cancelled.load(ordering: .relaxed) { break }
            var running: Int32 = 0
            _ = curl_multi_perform(handle, &running)
            if running == 0 {
                var left: Int32 = 0
                while let message = curl_multi_info_read(handle, &left) {
                    if message.pointee.msg == CURLMSG_DONE { result = message.pointee.data.result }
                }
                break
            }
            _ = curl_multi_poll(handle, nil, 0, 50, nil)
        }
        multi.withLock { $0 = nil }
        _ = curl_multi_remove_handle(handle, easy)
        _ = curl_multi_cleanup(handle)

        if cancelled.load(ordering: .relaxed) {
            continuation.finish(throwing: HTTPError.cancelled)
        } else if tooLarge {
            continuation.finish(throwing: HTTPError.responseTooLarge(limit: request.maxResponseBytes))
        } else if result != CURLE_OK {
            continuation.finish(throwing: Self.error(result))
        } else {
            sendHead()
            continuation.finish()
        }
    }

    private func sendHead() {
        guard !headSent else { return }
        headSent = true
        continuation.yield(.head(status: status, headers: headers))
    }

    private func body(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        if cancelled.load(ordering: .relaxed) { return 0 }
        received += count
        if received > request.maxResponseBytes {
            tooLarge = true
            return 0
        }
        sendHead()
        if count > 0, let data {
            continuation.yield(.data(Array(UnsafeRawBufferPointer(start: data, count: count))))
        }
        return count
    }

    private func header(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        guard let data else { return count }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            // A new response (after a redirect or 100 Continue): start over.
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = []
        } else if let colon = line.firstIndex(of: ":") {
            headers.append(
                (
                    String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                    String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                ))
        }
        return count
    }

    static func milliseconds(_ d: Duration) -> Int {
        Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
    }

    static func error(_ code: CURLcode) -> HTTPError {
        let text = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .unreachable(text)
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE: return .connectionClosed(text)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
            CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE,
            CURLE_USE_SSL_FAILED:
            return .tls(text)
        case CURLE_UNSUPPORTED_PROTOCOL: return .unsupportedScheme
        default: return .transport(text)
        }
    }
}
