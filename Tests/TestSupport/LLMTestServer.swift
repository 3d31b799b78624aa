import Foundation

/// The OpenAI-compatible test server (Tests/LLMGatewayTests/llm_test_server.py) as a real process on
/// 127.0.0.1 with an ephemeral port. It stops when this object goes away (its stdin closes).
public final class LLMTestServer: @unchecked Sendable {
    public let process = Process()
    private let input = Pipe()
    public let port: Int
    public let token: String

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `reply`: answer every completion with this text instead of echoing the last message.
    public init(token: String = "test-token", crlf: Bool = false, legacy: Bool = false, reply: String? = nil) throws {
        self.token = token
        let script = Fixtures.packageRoot.appendingPathComponent("Tests/LLMGatewayTests/llm_test_server.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--token", token] + (crlf ? ["--crlf"] : []) + (legacy ? ["--legacy"] : []) + (reply.map { ["--reply", $0] } ?? [])
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

    deinit {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }
}
