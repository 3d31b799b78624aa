import Foundation
import HTTPTransport
import TestSupport
import Testing

/// libcurl against the local test server over real HTTP on 127.0.0.1.
@Suite(.serialized) struct HTTPClientTests {
    func chat(_ server: LLMTestServer, stream: Bool, fault: String? = nil, token: String? = nil,
              timeout: Duration = .seconds(10), maxBytes: Int = 16 << 20) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [
            ("Authorization", "Bearer \(token ?? server.token)"), ("Content-Type", "application/json"),
        ]
        if let fault { headers.append(("X-Test-Fault", fault)) }
        let body = "{\"model\":\"base\",\"stream\":\(stream),\"messages\":[{\"role\":\"user\",\"content\":\"hello there world\"}]}"
        return HTTPRequest(
            method: "POST", url: server.baseURL + "/v1/chat/completions", headers: headers, body: Array(body.utf8),
            connectTimeout: .seconds(2), totalTimeout: timeout, maxResponseBytes: maxBytes)
    }

    @Test func plainResponse() async throws {
        let server = try LLMTestServer()
        let response = try await HTTPClient.send(chat(server, stream: false))
        #expect(response.status == 200)
        #expect(response.headers.contains { $0.name.lowercased() == "content-type" && $0.value == "application/json" })
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as! [String: Any]
        let message = ((json["choices"] as! [[String: Any]])[0]["message"] as! [String: Any])["content"] as! String
        #expect(message == "echo: hello there world")
    }

    @Test(arguments: [false, true])
    func streamedEventsArriveIntact(crlf: Bool) async throws {
        let server = try LLMTestServer(crlf: crlf)
        var parser = SSEParser()
        var text = ""
        var done = false
        for try await event in HTTPClient.stream(chat(server, stream: true)) {
            guard case .data(let bytes) = event else { continue }
            for e in try parser.feed(bytes) {
                if e.data == "[DONE]" {
                    done = true
                    continue
                }
                let json = try JSONSerialization.jsonObject(with: Data(e.data.utf8)) as! [String: Any]
                let delta = (json["choices"] as! [[String: Any]])[0]["delta"] as! [String: Any]
                text += delta["content"] as? String ?? ""
            }
        }
        #expect(text == "echo: hello there world")
        #expect(done)
    }

    @Test func statusCodesArriveAsStatus() async throws {
        let server = try LLMTestServer()
        let limited = try await HTTPClient.send(chat(server, stream: false, fault: "429=3"))
        #expect(limited.status == 429)
        #expect(limited.headers.contains { $0.name == "Retry-After" && $0.value == "3" })
        #expect(try await HTTPClient.send(chat(server, stream: false, fault: "500")).status == 500)
        #expect(try await HTTPClient.send(chat(server, stream: false, token: "wrong")).status == 401)
    }

    @Test func faultsBecomeTypedErrors() async throws {
        let server = try LLMTestServer()
        await #expect(throws: HTTPError.timeout) {
            try await HTTPClient.send(chat(server, stream: false, fault: "slow=3000", timeout: .milliseconds(500)))
        }
        await #expect(throws: HTTPError.self) { try await HTTPClient.send(chat(server, stream: false, fault: "close")) }
        await #expect(throws: HTTPError.responseTooLarge(limit: 1 << 20)) {
            try await HTTPClient.send(chat(server, stream: false, fault: "huge=8", maxBytes: 1 << 20))
        }
        // Nothing listens on port 9 of the loopback address.
        await #expect(throws: HTTPError.self) {
            try await HTTPClient.send(HTTPRequest(url: "http://127.0.0.1:9/", connectTimeout: .seconds(2)))
        }
        // The server keeps serving after all that.
        #expect(try await HTTPClient.send(chat(server, stream: false)).status == 200)
    }

    @Test func cancellingAStalledStreamStopsWithin100ms() async throws {
        let server = try LLMTestServer()
        var request = chat(server, stream: true, fault: "stall=1")
        // The transfer has stopped when libcurl has cleaned up its handle and closed the connection.
        let ended = AsyncStream<ContinuousClock.Instant>.makeStream()
        request.onTransferEnd = { ended.continuation.yield(ContinuousClock.now) }
        let firstBytes = AsyncStream<Void>.makeStream()
        let task = Task {
            var signalled = false
            do {
                for try await event in HTTPClient.stream(request) {
                    if case .data = event, !signalled {
                        signalled = true
                        firstBytes.continuation.yield()
                    }
                }
            } catch {}
        }
        for await _ in firstBytes.stream { break }
        let started = ContinuousClock.now
        task.cancel()
        await task.value
        var stopped: ContinuousClock.Instant?
        for await instant in ended.stream {
            stopped = instant
            break
        }
        let elapsed = stopped! - started
        #expect(elapsed < .milliseconds(100), "transfer stopped after \(elapsed)")
    }

    @Test func fiftyConcurrentStreams() async throws {
        let server = try LLMTestServer()
        let texts = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0 ..< 50 {
                group.addTask {
                    var parser = SSEParser()
                    var text = ""
                    for try await event in HTTPClient.stream(chat(server, stream: true)) {
                        guard case .data(let bytes) = event else { continue }
                        for e in try parser.feed(bytes) where e.data != "[DONE]" {
                            let json = try JSONSerialization.jsonObject(with: Data(e.data.utf8)) as! [String: Any]
                            text += ((json["choices"] as! [[String: Any]])[0]["delta"] as! [String: Any])["content"] as? String ?? ""
                        }
                    }
                    return text
                }
            }
            var all: [String] = []
            for try await t in group { all.append(t) }
            return all
        }
        #expect(texts.count == 50)
        #expect(texts.allSatisfy { $0 == "echo: hello there world" })
    }
}
