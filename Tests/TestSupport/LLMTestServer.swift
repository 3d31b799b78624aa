import Foundation

/// The OpenAI-compatible test server (Tests/LLMGatewayTests/llm_test_server.py) as a real process on
/// 127.0.0.1 with an ephemeral port. It stops when this object goes away (its stdin closes).
public final class LLMTestServer: @unchecked Sendable {
    public let process = Process()
    private let input = Pipe()
    public let port: Int
    public let token: String
    private var repliesFile: URL?

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `reply`: answer every completion with this text instead of echoing the last message. `replies`: texts a
    /// request picks with the model `fault:reply=KEY`. `modelsJSON`: a file whose body `/v1/models` answers.
    public init(
        token: String = "test-token", crlf: Bool = false, legacy: Bool = false, reply: String? = nil, replies: [String: String] = [:],
        modelsJSON: URL? = nil
    ) throws {
        self.token = token
        let script = Fixtures.packageRoot.appendingPathComponent("Tests/LLMGatewayTests/llm_test_server.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var extra: [String] = []
        if !replies.isEmpty {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("llm-replies-\(UUID().uuidString).json")
            try JSONSerialization.data(withJSONObject: replies).write(to: file)
            repliesFile = file
            extra += ["--replies", file.path]
        }
        if let modelsJSON { extra += ["--models-json", modelsJSON.path] }
        process.arguments = ["python3", script, "--token", token] + (crlf ? ["--crlf"] : []) + (legacy ? ["--legacy"] : []) + (reply.map { ["--reply", $0] } ?? []) + extra
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let reader = output.fileHandleForReading
        while !line.contains(0x0A) {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw NSError(domain: "LLMTestServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "no port from test server: \(text)"])
        }
        self.port = port
    }

    /// How many requests the server received (other than this question).
    public func requestCount() throws -> Int {
        let response = try RawHTTP.request(port: port, "GET /__test/requests HTTP/1.1\r\nHost: 127.0.0.1:\(port)")
        guard let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any], let count = object["count"] as? Int else {
            throw NSError(domain: "LLMTestServer", code: 2, userInfo: [NSLocalizedDescriptionKey: "no count from test server"])
        }
        return count
    }

    /// One replayed stream (`fault:replay=NAME`): events sent, events in the recording, and whether the client
    /// closed the connection before the end.
    public struct ReplayedStream: Sendable {
        public var name: String
        public var sent: Int
        public var total: Int
        public var closedEarly: Bool
    }

    public func streams() throws -> [ReplayedStream] {
        let response = try RawHTTP.request(port: port, "GET /__test/streams HTTP/1.1\r\nHost: 127.0.0.1:\(port)")
        guard let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let list = object["streams"] as? [[String: Any]]
        else { throw NSError(domain: "LLMTestServer", code: 3, userInfo: [NSLocalizedDescriptionKey: "no streams from test server"]) }
        return list.map {
            ReplayedStream(
                name: $0["name"] as? String ?? "", sent: $0["sent"] as? Int ?? 0, total: $0["total"] as? Int ?? 0,
                closedEarly: $0["closedEarly"] as? Bool ?? false)
        }
    }

    deinit {
        if let repliesFile { try? FileManager.default.removeItem(at: repliesFile) }
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }
}
