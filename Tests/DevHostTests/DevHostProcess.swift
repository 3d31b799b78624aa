import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `flamegraph-ai dev --port 0 …` as a real process: the URL it prints, its token, its `serve` child.
final class DevHostProcess: @unchecked Sendable {
    let process = Process()
    let url: String
    let port: Int
    let token: String?
    let logPath: String

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = Fixtures.executable
        process.arguments = ["dev", "--port", "0"] + arguments
        var env = ProcessInfo.processInfo.environment
        for k in ["FLAMEGRAPH_AI_LLM_URL", "FLAMEGRAPH_AI_LLM_MODE", "FLAMEGRAPH_AI_LLM_MODEL", "FLAMEGRAPH_AI_LLM_API_KEY"] {
            env[k] = nil
        }
        process.environment = env.merging(environment) { _, new in new }
        logPath = NSTemporaryDirectory() + "dev-host-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let reader = out.fileHandleForReading
        while !line.contains(0x0A) {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("http://"), let comps = URLComponents(string: text), let port = comps.port else {
            process.terminate()
            throw RawHTTP.Failure(
                description: "dev printed no URL: \(text)\n\((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        }
        url = text
        self.port = port
        token = comps.queryItems?.first { $0.name == "token" }?.value
    }

    deinit { stop() }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    var host: String { "127.0.0.1:\(port)" }
    var origin: String { "http://\(host)" }
    var cookie: String { token.map { "flamegraph_ai_token_\(port)=\($0)" } ?? "" }
    static let api = "/api/plugins/flamegraphai-explain-app/resources"
    static let page = "/a/flamegraphai-explain-app/"

    /// A request as the page sends it: right Host, the token cookie, and for POST the page's Origin.
    func pageRequest(_ method: String, _ path: String, body: [UInt8] = [], contentType: String = "application/json", extra: [String] = [])
        throws -> RawHTTP.Response
    {
        var head = ["\(method) \(path) HTTP/1.1", "Host: \(host)"]
        if token != nil { head.append("Cookie: \(cookie)") }
        if method == "POST" {
            head += ["Origin: \(origin)", "Sec-Fetch-Site: same-origin", "Content-Type: \(contentType)"]
        }
        head += extra
        return try RawHTTP.request(port: port, head.joined(separator: "\r\n"), body: body)
    }

    func postJSON(_ route: String, _ json: String, extra: [String] = []) throws -> RawHTTP.Response {
        try pageRequest("POST", Self.api + route, body: Array(json.utf8), extra: extra)
    }

    /// The `serve` child's pid: the host's only child process.
    func childPID() -> Int32? {
        let pid = process.processIdentifier
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else { continue }
            if let child = text.split(separator: " ").compactMap({ Int32($0) }).first { return child }
        }
        return nil
    }
}

func json(_ response: RawHTTP.Response) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
}
