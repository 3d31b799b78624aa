import Foundation
import TestSupport
import Testing

/// Requests built to hurt the server: each gets a result or a typed error, and the next request is answered.
@Suite(.serialized) struct HostileRequestTests {
    func errorMessage(_ response: [String: Any]?) -> String? {
        (response?["error"] as? [String: Any])?["message"] as? String
    }

    func errorCode(_ response: [String: Any]?) -> Int? {
        (response?["error"] as? [String: Any])?["code"] as? Int
    }

    /// `{path}` under `--allow-dir`: relative names resolve against the directory, a FIFO is refused at once
    /// (it used to block a thread forever), a symlink out of the directory is refused, and `--allow-dir /`
    /// allows absolute paths instead of refusing all of them.
    @Test func pathsAreConfinedWithoutRacesOrFIFOs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("allow-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixture = Fixtures.profile("go-cpu-fib.pb.gz").path
        try FileManager.default.copyItem(atPath: fixture, toPath: dir.appendingPathComponent("fib.pb.gz").path)
        #expect(mkfifo(dir.appendingPathComponent("fifo").path, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("escape").path, withDestinationPath: "/etc/passwd")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)

        // The working directory is not the allowed one: a relative path must still resolve inside it.
        let rpc = try RPCProcess(arguments: ["--allow-dir", dir.path])
        rpc.request(1, "profile.info", ["profile": ["path": "fib.pb.gz"]])
        #expect((rpc.response(id: 1)?["result"] as? [String: Any])?["samples"] as? Int == 120)
        let started = Date()
        rpc.request(2, "profile.info", ["profile": ["path": "fifo"]])
        #expect(errorMessage(rpc.response(id: 2, timeout: 5))?.contains("not a regular file") == true)
        #expect(Date().timeIntervalSince(started) < 2)
        rpc.request(3, "profile.info", ["profile": ["path": "escape"]])
        #expect(errorMessage(rpc.response(id: 3))?.contains("outside the allowed directory") == true)
        rpc.request(4, "profile.info", ["profile": ["path": "sub"]])
        #expect(errorMessage(rpc.response(id: 4))?.contains("not a regular file") == true)
        rpc.request(5, "profile.info", ["profile": ["path": "sub/../../\(dir.lastPathComponent)/fib.pb.gz"]])
        #expect((rpc.response(id: 5)?["result"] as? [String: Any])?["samples"] as? Int == 120)
        rpc.request(6, "profile.info", ["profile": ["path": "../../etc/passwd"]])
        #expect(errorCode(rpc.response(id: 6)) == -32602)
        rpc.closeInput()
        #expect(rpc.waitForExit() == 0)

        let root = try RPCProcess(arguments: ["--allow-dir", "/"])
        root.request(1, "profile.info", ["profile": ["path": dir.appendingPathComponent("fib.pb.gz").path]])
        #expect((root.response(id: 1)?["result"] as? [String: Any])?["samples"] as? Int == 120)
        root.closeInput()
        #expect(root.waitForExit() == 0)
    }

    /// Base64 with characters outside the alphabet is refused (it was skipped, giving free bytes for cache
    /// collisions), and maxNodes 0 over RPC is out of range instead of "no cut".
    @Test func strictBase64AndABoundedNodeCount() throws {
        let rpc = try RPCProcess()
        let good = try base64Profile("go-cpu-fib.pb.gz")
        rpc.request(1, "profile.top", ["profile": ["pprof": good], "limit": 1])
        #expect(rpc.response(id: 1)?["result"] != nil)
        rpc.request(2, "profile.top", ["profile": ["pprof": "!!" + good + "~~"], "limit": 1])
        #expect(errorMessage(rpc.response(id: 2))?.contains("not valid base64") == true)
        rpc.request(3, "profile.flamegraph", ["profile": ["pprof": good], "maxNodes": 0])
        #expect(errorCode(rpc.response(id: 3)) == -32602)
        rpc.request(4, "profile.diff", ["baseline": ["pprof": good], "comparison": ["pprof": good], "maxNodes": 0])
        #expect(errorCode(rpc.response(id: 4)) == -32602)
        rpc.request(5, "profile.flamegraph", ["profile": ["pprof": good], "maxNodes": 1 << 20])
        #expect(rpc.response(id: 5)?["result"] != nil)
        rpc.closeInput()
        #expect(rpc.waitForExit() == 0)
    }
}
