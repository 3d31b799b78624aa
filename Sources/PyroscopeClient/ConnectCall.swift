import Foundation
import ProtoPprof

/// One Connect unary call with retries: `POST <base>/querier.v1.QuerierService/<Method>`, the body in the
/// configured codec, the answer decoded by its own Content-Type, gzip undone, errors typed.
struct ConnectCall: Sendable {
    let config: PyroscopeConfig

    /// A successful answer's body (inflated) and the codec it is in.
    struct Answer {
        var codec: PyroscopeCodec
        var body: [UInt8]
    }

    /// Runs attempts until one succeeds, an error is final, or `deadline` passes. A retry starts only when its wait
    /// (a server's Retry-After in full, else backoff) ends before the deadline and within `retry.maxTotal` of the
    /// first attempt; a server asking for longer gets its error at once, never an early retry.
    func call(_ request: QuerierRequest, deadline: ContinuousClock.Instant) async throws(PyroscopeError) -> Answer {
        let started = ContinuousClock.now
        var attempt = 1
        while true {
            var retryAfter: Duration?
            do throws(PyroscopeError) {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { throw PyroscopeError.timeout }
                return try await once(request, remaining: remaining, retryAfter: &retryAfter)
            } catch {
                let now = ContinuousClock.now
                let elapsed = now - started
                guard error.isRetryable, attempt < config.retry.maxAttempts, elapsed < config.retry.maxTotal else { throw error }
                let delay = config.retry.backoff(attempt: attempt, retryAfter: retryAfter)
                guard now + delay < deadline, elapsed + delay <= config.retry.maxTotal else { throw error }
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw .cancelled
                }
                attempt += 1
            }
        }
    }

    private func once(_ request: QuerierRequest, remaining: Duration, retryAfter: inout Duration?) async throws(PyroscopeError) -> Answer {
        let codec = config.codec
        let contentType = codec == .binary ? "application/proto" : "application/json"
        let timeoutMs = max(1, min(Int64(remaining.components.seconds) * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000, 9_999_999_999))
        var headers: [(name: String, value: String)] = [
            ("Content-Type", contentType), ("Accept", contentType), ("Accept-Encoding", "gzip"),
            ("Connect-Protocol-Version", "1"), ("Connect-Timeout-Ms", String(timeoutMs)), ("User-Agent", "flamegraph-ai"),
        ]
        headers += config.auth.headers
        let http = HTTPRequest(
            method: "POST", url: config.endpoint.methodURL(request.method.rawValue), headers: headers,
            body: codec == .binary ? request.binary() : request.json(), connectTimeout: min(config.connectTimeout, remaining),
            totalTimeout: remaining, maxResponseBytes: config.maxResponseBytes)
        let response: (status: Int, headers: [(name: String, value: String)], body: [UInt8])
        do throws(HTTPError) {
            response = try await HTTPClient.send(http)
        } catch {
            throw Self.map(error)
        }
        func header(_ name: String) -> String? {
            response.headers.last { $0.name.lowercased() == name }?.value.trimmingWhitespace()
        }
        let body = try inflate(response.body, encoding: header("content-encoding"))
        guard response.status == 200 else {
            retryAfter = header("retry-after").flatMap { RetryPolicy.retryAfterSeconds($0) }.map { .seconds($0) }
            throw statusError(response.status, body)
        }
        let type = (header("content-type") ?? "").lowercased().split(separator: ";").first.map { String($0).trimmingWhitespace() } ?? ""
        switch type {
        case "application/proto", "application/protobuf", "application/x-protobuf": return Answer(codec: .binary, body: body)
        case "application/json": return Answer(codec: .json, body: body)
        case "": return Answer(codec: codec, body: body)
        default:
            throw .malformedResponse(
                "expected a Connect answer (application/proto or application/json), got \(String(type.prefix(60))): is \(config.endpoint) "
                    + "Pyroscope, or Grafana with a Pyroscope data source uid?")
        }
    }

    /// Undoes `Content-Encoding: gzip`; the inflated size is capped like the response.
    private func inflate(_ body: [UInt8], encoding: String?) throws(PyroscopeError) -> [UInt8] {
        guard let encoding, !encoding.isEmpty, encoding.lowercased() != "identity" else { return body }
        guard encoding.lowercased() == "gzip" else { throw .malformedResponse("unsupported Content-Encoding \(String(encoding.prefix(30)))") }
        let result: Result<[UInt8], PprofError> = body.withUnsafeBytes { raw in
            Result { () throws(PprofError) -> [UInt8] in try Gunzip.inflate(raw, limit: config.maxResponseBytes) }
        }
        switch result {
        case .success(let bytes): return bytes
        case .failure(.inflatedSizeLimit): throw .tooLarge(limit: config.maxResponseBytes)
        case .failure(let error): throw .malformedResponse("the gzip body does not inflate: \(error)")
        }
    }

    /// A non-200 answer as a typed error. Connect error bodies are `{"code", "message"}`; Grafana's are
    /// `{"message"}`; a mux's 404 is plain text. Messages are redacted of every configured secret and cut short.
    func statusError(_ status: Int, _ body: [UInt8]) -> PyroscopeError {
        var code: String?
        var message: String?
        if let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            code = json["code"] as? String
            message = json["message"] as? String ?? json["error"] as? String
        } else if body.count <= 512, let text = String(validating: body, as: UTF8.self), !text.contains("<") {
            message = text.trimmingWhitespace()
        }
        let text = config.redact(String((message ?? "").prefix(500)))
        let shown = text.isEmpty ? "HTTP \(status)" : text
        if text.lowercased().contains("no org id") { return .tenantMissing }
        switch (code, status) {
        case ("unauthenticated", _), ("permission_denied", _), (nil, 401), (nil, 403):
            return .unauthorized(shown)
        case ("not_found", _):
            return .notFound(shown)
        case (nil, 404):
            return .notFound("no Pyroscope query API at \(config.endpoint) (\(shown)): check the URL" + (isGrafana ? " and the data source uid" : ""))
        case ("invalid_argument", _), (nil, 400):
            return .invalidQuery(shown)
        case ("unimplemented", _):
            return .server(status: 501, message: shown)
        case ("resource_exhausted", _):
            return .server(status: 429, message: shown)
        case ("unavailable", _):
            return .server(status: 503, message: shown)
        case ("deadline_exceeded", _):
            return .server(status: 504, message: shown)
        default:
            return .server(status: status, message: shown)
        }
    }

    private var isGrafana: Bool {
        if case .grafana = config.endpoint { return true }
        return false
    }

    static func map(_ error: HTTPError) -> PyroscopeError {
        switch error {
        case .unreachable(let why), .connectionClosed(let why), .transport(let why): return .unreachable(why)
        case .timeout: return .timeout
        case .responseTooLarge(let limit): return .tooLarge(limit: limit)
        case .cancelled: return .cancelled
        case .tls(let why): return .misconfigured("TLS failure: \(why)")
        case .unsupportedScheme: return .misconfigured("the URL must start with http:// or https://")
        }
    }
}
