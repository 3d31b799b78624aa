import Foundation

/// The Pyroscope test server (Tests/PyroscopeClientTests/pyroscope_test_server.py) as a real process on 127.0.0.1
/// with an ephemeral port. It stops when this object goes away (its stdin closes).
public final class PyroscopeTestServer: @unchecked Sendable {
    public let process = Process()
    private let input = Pipe()
    public let port: Int

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `arguments`: the server's options (`--token T`, `--basic U:P`, `--tenants A,B`, `--grafana-uid U`,
    /// `--grafana-token T`, `--old`, `--fault NAME`).
    public init(_ arguments: [String] = []) throws {
        let script = Fixtures.packageRoot.appendingPathComponent("Tests/PyroscopeClientTests/pyroscope_test_server.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
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
            throw NSError(domain: "PyroscopeTestServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "no port from test server: \(text)"])
        }
        self.port = port
    }

    deinit {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }
}
