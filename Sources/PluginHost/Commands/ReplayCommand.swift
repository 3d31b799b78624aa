import ArgumentParser
import FlameDiff
import JSONCore
import Foundation

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Feed recorded JSON-RPC requests to a fresh server and print its answers; with --expect, compare them.",
        discussion: """
            Answers are matched by id, in any order; fields that hold timings (elapsedMs and similar) are ignored,
            and so are notifications. Exits 1 when an answer differs, is missing or is unexpected.
            Arguments after -- go to `serve` (for example --allow-dir).
            """)

    @Argument(help: "Requests, one JSON-RPC message per line (as `serve --record` writes them).")
    var requests: String

    @Option(help: "Expected answers, one per line.")
    var expect: String?

    @Argument(parsing: .postTerminator, help: "Extra arguments for serve.")
    var serveArguments: [String] = []

    static let timingKeys: Set<String> = ["elapsedMs", "latencyMs", "durationMs", "ms"]

    func run() throws {
        let input = try Data(contentsOf: URL(fileURLWithPath: requests))
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        server.arguments = ["serve"] + serveArguments
        let stdin = Pipe()
        let stdout = Pipe()
        server.standardInput = stdin
        server.standardOutput = stdout
        server.standardError = FileHandle.nullDevice
        try server.run()
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        server.waitUntilExit()
        writeStdout([UInt8](output))

        guard let expect else { return }
        let actual = try Self.answersByID(output)
        let expected = try Self.answersByID(try Data(contentsOf: URL(fileURLWithPath: expect)))
        var problems: [String] = []
        for (id, value) in expected.sorted(by: { $0.key < $1.key }) {
            guard let got = actual[id] else {
                problems.append("missing answer for id \(id)")
                continue
            }
            if got != value {
                problems.append("answer for id \(id) differs:\n  expected \(String(decoding: value.encoded(), as: UTF8.self))\n  actual   \(String(decoding: got.encoded(), as: UTF8.self))")
            }
        }
        for id in actual.keys.sorted() where expected[id] == nil { problems.append("unexpected answer for id \(id)") }
        if problems.isEmpty {
            writeStderr("replay: all \(expected.count) answers match")
        } else {
            for p in problems { writeStderr("replay: \(p)") }
            throw ExitCode(1)
        }
    }

    /// Answers keyed by their id's JSON text; answers without an id (parse errors) are keyed by their order.
    static func answersByID(_ data: Data) throws -> [String: JSONValue] {
        var answers: [String: JSONValue] = [:]
        var anonymous = 0
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            let value = try JSONParser.parse([UInt8](line))
            let messages = value.arrayValue ?? [value]
            for message in messages {
                guard let id = message["id"] else { continue }  // notifications
                var key = String(decoding: id.encoded(), as: UTF8.self)
                if id == .null {
                    key = "null#\(anonymous)"
                    anonymous += 1
                }
                answers[key] = stripTimings(message)
            }
        }
        return answers
    }

    static func stripTimings(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o where !timingKeys.contains(k) { out[k] = stripTimings(v) }
            return .object(out)
        case .array(let a):
            return .array(a.map(stripTimings))
        default:
            return value
        }
    }
}
