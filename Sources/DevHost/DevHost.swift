import FlyingFox
import FlyingSocks
import Foundation
import JSONCore
import JSONRPC
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What `flamegraph-ai dev` was asked for.
public struct DevHostConfig: Sendable {
    /// Address to listen on (an IP literal; default the IPv4 loopback).
    public var listen = "127.0.0.1"
    /// 0: any free port.
    public var port: UInt16 = 3000
    /// More names accepted in `Host` (with the port).
    public var allowedHosts: [String] = []
    /// The page's folder (frontend-stub/).
    public var pageDirectory: String
    /// `--profiles DIR`: listed for the page; the child reads them by path (`--allow-dir DIR`).
    public var profilesDirectory: String?
    /// FILE and `--vs CMP`: opened at once.
    public var file: String?
    public var compareFile: String?
    public var tokenRequired = true
    /// `--record FILE`: the JSON-RPC traffic to the child, for `replay`.
    public var recordPrefix: String?
    /// The executable run as `serve` (the host's own).
    public var serveExecutable: String
    /// Extra `serve` arguments.
    public var serveArguments: [String] = []
    /// Grafana's app settings for every request's pluginContext: `jsonData` (llmURL, llmMode, llmModel) and
    /// `decryptedSecureJsonData` (llmApiKey).
    public var jsonData: [String: String] = [:]
    public var secureJsonData: [String: String] = [:]
    public var maxUploadBytes = 64 << 20
    public var maxUploads = 16
    public var maxUploadTotalBytes = 256 << 20
    /// A connection that waits this long for its peer is closed (headers sent slowly, idle keep-alive).
    public var idleTimeout: Duration = .seconds(30)
    /// A request's handling (the backend's answer included) is cut off after this long.
    public var requestTimeout: TimeInterval = 300

    public init(pageDirectory: String, serveExecutable: String) {
        self.pageDirectory = pageDirectory
        self.serveExecutable = serveExecutable
    }
}

/// `flamegraph-ai dev`: the page at `/a/flamegraphai-explain-app/`, Grafana's resource and health URLs mapped
/// onto the `serve` child's `callResource` and `checkHealth` over JSON-RPC, uploads kept once, and the rules of
/// `RequestGuard` on every request. HTTP is FlyingFox's.
public final class DevHost: Sendable {
    public static let appID = "flamegraphai-explain-app"
    public static let apiPrefix = "/api/plugins/\(appID)/resources"
    public static let healthPath = "/api/plugins/\(appID)/health"
    /// The routes the host answers itself; every other resource route goes to the child's `callResource`.
    public static let hostRoutes: Set<String> = ["/profiles", "/session", "/upload"]
    /// Bodies up to this size are read with the request's head; larger ones only when a handler asks.
    static let eagerBodyBytes = 64 << 10

    public let config: DevHostConfig
    public let backend: Backend
    let pages: PageFiles
    let catalogue: ProfileCatalogue
    let uploads: UploadStore
    /// True when the child's --allow-dir is the uploads' folder.
    let uploadsByPath: Bool
    let pool: GuardedSocketPool
    let server: HTTPServer
    let token: String?
    private let requestGuard = Mutex<RequestGuard?>(nil)
    private let log: @Sendable (String) -> Void

    public init(config: DevHostConfig, log: @escaping @Sendable (String) -> Void) throws {
        self.config = config
        self.log = log
        pages = try PageFiles(directory: config.pageDirectory)
        catalogue = try ProfileCatalogue(
            directory: config.profilesDirectory, commandLineFiles: [config.file, config.compareFile].compactMap { $0 })
        uploads = try UploadStore(maxBytes: config.maxUploadBytes, maxCount: config.maxUploads, maxTotalBytes: config.maxUploadTotalBytes)
        token = config.tokenRequired ? RequestGuard.makeToken() : nil
        var recorder: TrafficRecorder? = nil
        if let prefix = config.recordPrefix {
            recorder = try TrafficRecorder(prefix: prefix, knownSecrets: Array(config.secureJsonData.values))
        }
        // The child reads profiles by path inside one folder: DIR when given (as the page lists it), else the
        // host's private folder of uploads and command-line copies. With DIR, or when recording (so that the
        // recording holds every profile it needs to replay), uploads go as {data}.
        let readableDirectory = catalogue.directory ?? uploads.directory
        uploadsByPath = catalogue.directory == nil && config.recordPrefix == nil
        let serveArguments = ["--allow-dir", readableDirectory] + config.serveArguments
        backend = Backend(
            options: .init(
                executable: config.serveExecutable, arguments: serveArguments,
                removedEnvironment: [
                    "FLAMEGRAPH_AI_LLM_URL", "FLAMEGRAPH_AI_LLM_MODE", "FLAMEGRAPH_AI_LLM_MODEL", "FLAMEGRAPH_AI_LLM_API_KEY",
                ]),
            recorder: recorder, log: log)
        pool = GuardedSocketPool(idle: config.idleTimeout)
        let address: any SocketAddress
        if config.listen.contains(":") {
            address = try sockaddr_in6.inet6(ip6: config.listen, port: config.port)
        } else {
            address = try sockaddr_in.inet(ip4: config.listen, port: config.port)
        }
        server = HTTPServer(
            config: .init(
                address: address, timeout: config.requestTimeout, sharedRequestBufferSize: Self.eagerBodyBytes,
                // Larger bodies stay on the socket until a handler reads them (in chunks of this size): an
                // upload's Content-Length is checked before any of its body is read.
                sharedRequestReplaySize: 0, pool: pool, logger: .disabled))
    }

    /// Starts the child and the server; returns once listening. `run()` then serves until `stop()`.
    public func start() async throws -> Task<Void, any Error> {
        try await backend.start()
        let server = self.server
        await server.appendRoute("*") { [self] request in await self.handle(request) }
        // The server's task fails at once when the address cannot be bound (port in use): report that, not a
        // time-out of the wait for listening.
        let failure = Mutex<(any Error)?>(nil)
        let task = Task {
            do {
                try await server.run()
            } catch {
                failure.withLock { $0 = error }
                throw error
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while !(await server.isListening) {
            if let error = failure.withLock({ $0 }) {
                await backend.stop()
                throw error
            }
            guard ContinuousClock.now < deadline else {
                task.cancel()
                await backend.stop()
                throw SocketError.timeout(message: "the server did not start listening within 10 seconds")
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        guard let address = await server.listeningAddress else { throw SocketError.unsupportedAddress }
        let port: UInt16
        switch address {
        case .ip4(_, let p), .ip6(_, let p): port = p
        case .unix: port = 0
        }
        var names = config.allowedHosts
        if !["127.0.0.1", "::1", "0.0.0.0", "::"].contains(config.listen) { names.append(config.listen) }
        requestGuard.withLock { $0 = RequestGuard(port: Int(port), extraHostNames: names, token: token) }
        return task
    }

    public func stop() async {
        await server.stop(timeout: 2)
        await backend.stop()
        uploads.removeAll()
    }

    /// The page folder's real path.
    public var pageRoot: String { pages.root }

    /// The port listened on (after `start`).
    public var port: Int { requestGuard.withLock { $0?.port ?? 0 } }

    /// The URL to open: the page, with the token.
    public var url: String {
        let host: String
        switch config.listen {
        case "0.0.0.0": host = "127.0.0.1"
        case "::": host = "[::1]"
        default: host = config.listen.contains(":") ? "[\(config.listen)]" : config.listen
        }
        return "http://\(host):\(port)\(PageFiles.prefix)" + (token.map { "?token=\($0)" } ?? "")
    }

    // MARK: - requests

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        var response = await route(request)
        for (name, value) in RequestGuard.securityHeaders { response.headers[HTTPHeader(name)] = value }
        return response
    }

    private func route(_ request: HTTPRequest) async -> HTTPResponse {
        guard let rules = requestGuard.withLock({ $0 }) else { return Self.text(503, "starting") }
        let raw = request.target.path()
        let isAPI = raw.hasPrefix(Self.apiPrefix + "/") || raw == Self.healthPath
        if let why = rules.refuseHost(request) { return refuse(request, 403, why, json: isAPI) }
        var setCookie = false
        if !rules.hasTokenCookie(request) {
            if !isAPI && request.method == .GET && rules.hasTokenQuery(request) {
                setCookie = true
            } else {
                return refuse(
                    request, 403, "this server needs its token: open the URL that `flamegraph-ai dev` printed (it ends in ?token=…)",
                    json: isAPI)
            }
        }
        if request.method == .POST, let why = rules.refuseCrossSite(request) { return refuse(request, 403, why, json: isAPI) }

        if isAPI {
            if raw == Self.healthPath {
                guard request.method == .GET else { return refuse(request, 405, "health takes GET", json: true) }
                return await health(request)
            }
            let route = String(raw.dropFirst(Self.apiPrefix.count))
            switch (route, request.method) {
            case ("/profiles", .GET): return profiles()
            case ("/session", .GET): return session()
            case ("/upload", .POST): return await upload(request)
            case (_, _) where Self.hostRoutes.contains(route):
                return refuse(request, 405, "\(route) takes \(route == "/upload" ? "POST" : "GET")", json: true)
            default: return await resource(request, route: route)
            }
        }
        let tokenInURL = request.target.query().split(separator: "&").contains { $0.hasPrefix("token=") }
        if raw == "/" || raw == "/a/\(Self.appID)" || (tokenInURL && request.method == .GET) {
            // The bare paths lead to the page; a visit with the token sets the cookie and drops the token from
            // the address bar (and from history), keeping the rest of the query (`?open=NAME`).
            guard request.method == .GET else { return refuse(request, 405, "use GET", json: false) }
            let query = request.target.query().split(separator: "&").filter { !$0.hasPrefix("token=") }.joined(separator: "&")
            let path = raw.hasPrefix(PageFiles.prefix) ? raw : PageFiles.prefix
            var headers: HTTPHeaders = [.location: path + (query.isEmpty ? "" : "?" + query)]
            if (setCookie || rules.hasTokenQuery(request)), let cookie = rules.setCookie { headers[.setCookie] = cookie }
            return HTTPResponse(statusCode: HTTPStatusCode(303, phrase: "See Other"), headers: headers)
        }
        if raw.hasPrefix(PageFiles.prefix) {
            guard request.method == .GET else { return refuse(request, 405, "the page's files take GET", json: false) }
            switch pages.lookup(rawPath: raw) {
            case .refused(let why): return refuse(request, 400, "path refused: \(why)", json: false)
            case .notFound: return refuse(request, 404, "not one of the page's files", json: false)
            case .file(let path, let type):
                guard let data = pages.read(path) else { return refuse(request, 404, "not one of the page's files", json: false) }
                return HTTPResponse(statusCode: .ok, headers: [.contentType: type], body: data)
            }
        }
        return refuse(request, 404, "not found", json: false)
    }

    /// A refusal with a one-line reason (JSON `{error}` for the API, text otherwise). A request body that was
    /// not read is dropped: a small one is read and discarded (the connection stays usable), a large one ends
    /// the connection after the answer.
    private func refuse(_ request: HTTPRequest, _ status: Int, _ why: String, json: Bool) -> HTTPResponse {
        let length = Int(request.headers[.contentLength] ?? "") ?? 0
        if length > Self.eagerBodyBytes || request.headers[.transferEncoding] != nil, let fd = pool.descriptor(for: request.remoteAddress) {
            GuardedSocketPool.stopReading(fd)
        }
        if json { return Self.json(status, ["error": .string(why)]) }
        return Self.text(status, "\(status) \(Self.phrase(status)): \(why)")
    }

    static func phrase(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        default: return "Error"
        }
    }

    static func text(_ status: Int, _ line: String) -> HTTPResponse {
        HTTPResponse(
            statusCode: HTTPStatusCode(status, phrase: phrase(status)), headers: [.contentType: "text/plain; charset=utf-8"],
            body: Data((line + "\n").utf8))
    }

    static func json(_ status: Int, _ value: JSONValue, headers extra: [String: String] = [:]) -> HTTPResponse {
        var headers: HTTPHeaders = [.contentType: "application/json"]
        for (k, v) in extra { headers[HTTPHeader(k)] = v }
        return HTTPResponse(
            statusCode: HTTPStatusCode(status, phrase: status == 200 ? "OK" : phrase(status)), headers: headers,
            body: Data(value.encoded()))
    }

    // MARK: - host routes

    private func profiles() -> HTTPResponse {
        Self.json(200, ["profiles": .array(catalogue.names().map { ["name": .string($0)] })])
    }

    private func session() -> HTTPResponse {
        var open: JSONValue = .null
        if let first = catalogue.commandLine.first {
            let vs: JSONValue = catalogue.commandLine.count > 1 ? ["name": .string(catalogue.commandLine[1].name)] : .null
            open = ["profile": ["name": .string(first.name)], "vs": vs]
        }
        return Self.json(200, ["open": open, "limits": ["maxUploadBytes": .int(Int64(config.maxUploadBytes))]])
    }

    /// `POST /upload?filename=NAME`, the file's bytes as the body: kept by the host, answered `{name, label,
    /// bytes}`; the page then names the profile by `{name}` in every request. The size is checked from
    /// Content-Length before any of the body is read.
    private func upload(_ request: HTTPRequest) async -> HTTPResponse {
        guard let length = request.headers[.contentLength].flatMap({ Int($0) }), request.headers[.transferEncoding] == nil else {
            return refuse(request, 411, "an upload needs a Content-Length", json: true)
        }
        guard length <= config.maxUploadBytes else {
            return refuse(
                request, 413,
                "the file is \(Self.megabytes(length)); this host takes uploads up to \(Self.megabytes(config.maxUploadBytes)) (--max-upload-mb)",
                json: true)
        }
        guard length > 0 else { return refuse(request, 400, "the upload is empty", json: true) }
        guard let bytes = try? await Self.readBody(request, limit: length) else {
            return refuse(request, 400, "the upload ended before its Content-Length", json: true)
        }
        let label = request.query.first { $0.name == "filename" }.map { String($0.value.prefix(255)) } ?? "upload"
        let name: String
        do {
            name = try await uploads.add(bytes, label: label)
        } catch {
            return Self.json(500, ["error": .string("\(error)")])
        }
        return Self.json(200, ["name": .string(name), "label": .string(label), "bytes": .int(Int64(bytes.count))])
    }

    static func megabytes(_ n: Int) -> String {
        String(format: "%.1f MB", Double(n) / 1_000_000)
    }

    /// Reads a body of at most `limit` bytes; nil when it is longer or cut short.
    static func readBody(_ request: HTTPRequest, limit: Int) async throws -> [UInt8]? {
        var out: [UInt8] = []
        if let n = request.bodySequence.count { out.reserveCapacity(min(n, limit)) }
        for try await chunk in request.bodySequence {
            if out.count + chunk.count > limit { return nil }
            out.append(contentsOf: chunk)
        }
        if let n = request.bodySequence.count, out.count != n { return nil }
        return out
    }

    // MARK: - the backend

    private var pluginContext: JSONValue {
        var settings: [String: JSONValue] = [
            "jsonData": .object(config.jsonData.mapValues { .string($0) }),
            "decryptedSecureJsonData": .object(config.secureJsonData.mapValues { .string($0) }),
        ]
        settings["updated"] = "1970-01-01T00:00:00Z"
        return [
            "orgId": 1, "pluginId": .string(Self.appID), "user": ["login": "flamegraph-ai-dev", "role": "Admin"],
            "appInstanceSettings": .object(settings),
        ]
    }

    /// Largest JSON body of a resource request: two profiles as base64 (a page of a host without /upload).
    private var maxJSONBodyBytes: Int { 2 * (config.maxUploadBytes / 3 * 4 + 4) + (1 << 20) }

    /// A resource route → the child's `callResource`, with Grafana's fields (path, method, url, headers, body as
    /// base64) and the pluginContext made from the host's settings. `{name}` references become what the
    /// catalogue or the upload store says.
    private func resource(_ request: HTTPRequest, route: String) async -> HTTPResponse {
        guard route.count > 1, route.count < 128,
            route.utf8.allSatisfy({ c in
                (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2F || c == 0x5F || c == 0x2D
            })
        else { return refuse(request, 404, "no resource at this path", json: true) }
        var bodyBytes: [UInt8] = []
        let streamed = ExplainStream.wanted(request, route: route)
        if request.method == .POST {
            let length = Int(request.headers[.contentLength] ?? "") ?? 0
            guard length <= maxJSONBodyBytes else {
                return refuse(request, 413, "the request body is \(Self.megabytes(length)); upload profiles with /upload", json: true)
            }
            guard let body = try? await Self.readBody(request, limit: maxJSONBodyBytes) else {
                return refuse(request, 400, "the request body was cut short or is too large", json: true)
            }
            if !body.isEmpty {
                var parsed: JSONValue
                do {
                    parsed = try JSONParser.parse(body)
                } catch {
                    return Self.json(400, ["error": .string("the body is not JSON: \(error)")])
                }
                if streamed, case .object(var o) = parsed {
                    o["stream"] = true
                    parsed = .object(o)
                }
                do {
                    bodyBytes = try await mapReferences(parsed).encoded()
                } catch let error as ReferenceError {
                    return Self.json(error.status, ["error": .string(error.message)])
                } catch {
                    return Self.json(400, ["error": .string("\(error)")])
                }
            }
        }
        var encodedBody = [UInt8(ascii: "\"")]
        bodyBytes.withUnsafeBytes { Base64.encode($0, into: &encodedBody) }
        encodedBody.append(UInt8(ascii: "\""))
        let headers: JSONValue = [
            "Content-Type": .array([.string(request.headers[.contentType] ?? "application/json")]),
            "Accept": .array([.string(request.headers[HTTPHeader("Accept")] ?? "application/json")]),
        ]
        let params: JSONValue = [
            "pluginContext": pluginContext, "path": .string(String(route.dropFirst())), "method": .string(request.method.rawValue),
            "url": .string(request.target.rawValue), "headers": headers, "body": .encoded(encodedBody),
        ]
        if streamed { return streamBackend(request, "callResource", params) }
        return await callBackend(request, "callResource", params) { result, restarted in
            let status = Int(result["status"]?.intValue ?? 502)
            let body = result["body"]?.stringValue.flatMap { Data(base64Encoded: $0) } ?? Data()
            var headers: HTTPHeaders = [:]
            for (name, value) in result["headers"]?.objectValue ?? [:] where ["content-type", "allow"].contains(name.lowercased()) {
                if let v = value.arrayValue?.first?.stringValue ?? value.stringValue { headers[HTTPHeader(name)] = v }
            }
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            if restarted { headers[HTTPHeader("X-Backend-Restarted")] = "1" }
            return HTTPResponse(
                statusCode: HTTPStatusCode(status, phrase: status == 200 ? "OK" : Self.phrase(status)), headers: headers, body: body)
        }
    }

    /// `GET /api/plugins/<id>/health` → `checkHealth`: 200 when OK, else 503; Grafana's fields.
    private func health(_ request: HTTPRequest) async -> HTTPResponse {
        await callBackend(request, "checkHealth", ["pluginContext": pluginContext]) { result, restarted in
            let status = result["status"]?.stringValue ?? "UNKNOWN"
            let body: JSONValue = [
                "status": .string(status), "message": result["message"] ?? "", "details": result["jsonDetails"] ?? .null,
            ]
            return Self.json(status == "OK" ? 200 : 503, body, headers: restarted ? ["X-Backend-Restarted": "1"] : [:])
        }
    }

    /// Calls the child while watching the browser's connection: when the browser goes away (or the request times
    /// out) the call is cancelled, which sends `$/cancelRequest`.
    private func callBackend(
        _ request: HTTPRequest, _ method: String, _ params: JSONValue, answer: (JSONValue, Bool) -> HTTPResponse
    ) async -> HTTPResponse {
        let backend = self.backend
        let fd = pool.descriptor(for: request.remoteAddress)
        enum Outcome: Sendable {
            case done(JSONValue, Bool)
            case peerGone
        }
        do {
            let outcome = try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    let (result, restarted) = try await backend.call(method, params)
                    return .done(result, restarted)
                }
                if let fd {
                    group.addTask {
                        while !GuardedSocketPool.peerClosed(fd) { try await Task.sleep(for: .milliseconds(200)) }
                        return .peerGone
                    }
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            switch outcome {
            case .done(let result, let restarted): return answer(result, restarted)
            case .peerGone:
                log("the browser went away: \(method) cancelled")
                return Self.json(503, ["error": "cancelled: the browser went away"])
            }
        } catch let error as BackendError {
            let restarted = await backend.takeRestartFlag()
            let headers: [String: String] = restarted ? ["X-Backend-Restarted": "1"] : [:]
            return Self.json(Self.status(for: error), Self.errorBody(error, restarted: restarted), headers: headers)
        } catch {
            return Self.json(503, ["error": "cancelled"])
        }
    }

    /// The body for a call that gave no result: its error, and whether the child was started again meanwhile.
    static func errorBody(_ error: BackendError, restarted: Bool) -> JSONValue {
        guard restarted else { return ["error": .string(error.description)] }
        return ["error": .string(error.description + "; it was started again: try again"), "backendRestarted": true]
    }

    /// The HTTP status for a call that gave no result.
    static func status(for error: BackendError) -> Int {
        switch error {
        case .rpc(let code, _, _): return code == -32004 ? 503 : 502
        case .gone: return 502
        case .unavailable: return 503
        }
    }

    /// Calls the child with its progress turned into a streamed NDJSON answer (`ExplainStream`). The call is
    /// cancelled (`$/cancelRequest`) when the browser goes away or the request's time is up.
    private func streamBackend(_ request: HTTPRequest, _ method: String, _ params: JSONValue) -> HTTPResponse {
        let backend = self.backend
        let log = self.log
        let fd = pool.descriptor(for: request.remoteAddress)
        let limit = Duration.seconds(config.requestTimeout)
        let (chunks, continuation) = AsyncStream<[UInt8]>.makeStream()
        enum Outcome: Sendable {
            case done([UInt8])
            case peerGone
            case timedOut
        }
        let task = Task {
            var last: [UInt8]? = nil
            do {
                let outcome = try await withThrowingTaskGroup(of: Outcome.self) { group in
                    group.addTask {
                        let (result, restarted) = try await backend.call(method, params) { value in
                            if let line = ExplainStream.deltaLine(value) { continuation.yield(line) }
                        }
                        return .done(ExplainStream.endLine(resource: result, restarted: restarted))
                    }
                    group.addTask {
                        let end = ContinuousClock.now + limit
                        while ContinuousClock.now < end {
                            if let fd, GuardedSocketPool.peerClosed(fd) { return .peerGone }
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        return .timedOut
                    }
                    let first = try await group.next()!
                    group.cancelAll()
                    return first
                }
                switch outcome {
                case .done(let line): last = line
                case .peerGone: log("the browser went away: \(method) cancelled")
                case .timedOut:
                    last = ExplainStream.line(["event": "end", "status": 504, "body": ["error": "the backend did not answer in time"]])
                }
            } catch let error as BackendError {
                let restarted = await backend.takeRestartFlag()
                last = ExplainStream.line([
                    "event": "end", "status": .int(Int64(Self.status(for: error))), "body": Self.errorBody(error, restarted: restarted),
                ])
            } catch {
                last = ExplainStream.line(["event": "end", "status": 503, "body": ["error": "cancelled"]])
            }
            if let last { continuation.yield(last) }
            continuation.finish()
        }
        // FlyingFox stops reading the body when it cannot write it (the browser is gone): stop the call too.
        continuation.onTermination = { _ in task.cancel() }
        return HTTPResponse(
            statusCode: .ok,
            headers: [.contentType: ExplainStream.contentType + "; charset=utf-8", HTTPHeader("Cache-Control"): "no-store"],
            body: HTTPBodySequence(from: StreamedBody(chunks: chunks)))
    }

    struct ReferenceError: Error {
        var status: Int
        var message: String
    }

    /// Replaces `{name}` in `profile`, `baseline` and `comparison` (an object or an array of them) with the
    /// backend's reference. `{path}` is refused (the page names profiles; paths are the host's business);
    /// `{pprof}` and `{data}` pass through.
    func mapReferences(_ body: JSONValue) async throws -> JSONValue {
        guard case .object(var o) = body else { return body }
        for key in ["profile", "baseline", "comparison"] {
            guard let value = o[key] else { continue }
            if case .array(let items) = value {
                var mapped: [JSONValue] = []
                for (i, item) in items.enumerated() { mapped.append(try await mapReference(item, where: "\(key)[\(i)]")) }
                o[key] = .array(mapped)
            } else {
                o[key] = try await mapReference(value, where: key)
            }
        }
        return .object(o)
    }

    private func mapReference(_ ref: JSONValue, where key: String) async throws -> JSONValue {
        guard case .object(let r) = ref else { return ref }
        if r["path"] != nil { throw ReferenceError(status: 400, message: "\(key): name profiles by {name}, not {path}") }
        guard case .string(let name)? = r["name"] else { return ref }
        if name.hasPrefix("upload-"), let path = await uploads.path(of: name) {
            if uploadsByPath { return .encoded(ProfileCatalogue.pathReference(name)) }
            return .encoded(ProfileCatalogue.dataReference(try ProfileCatalogue.readFile(path)))
        }
        switch catalogue.source(for: name) {
        case .inDirectory(let rel)?:
            return .encoded(ProfileCatalogue.pathReference(rel))
        case .commandLine(let path, let index)?:
            if uploadsByPath { return .encoded(ProfileCatalogue.pathReference(try await uploads.mirror(path, key: "file-\(index + 1)"))) }
            return .encoded(ProfileCatalogue.dataReference(try ProfileCatalogue.readFile(path)))
        case nil:
            break
        }
        if name.hasPrefix("upload-") {
            throw ReferenceError(
                status: 404,
                message:
                    "\(key): the upload \(name) is no longer kept here (the host keeps the last \(config.maxUploads)); choose the file again"
            )
        }
        throw ReferenceError(status: 404, message: "\(key): no profile named \(name)")
    }
}
