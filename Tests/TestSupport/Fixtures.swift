import Foundation

/// Paths to the committed fixtures (Tests/Fixtures), independent of the working directory.
public enum Fixtures {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static let packageRoot: URL = root.deletingLastPathComponent().deletingLastPathComponent()

    public static func profile(_ name: String) -> URL { root.appendingPathComponent("profiles").appendingPathComponent(name) }

    public static func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: profile(name))) }

    /// Rows of reference.tsv: totals and top flat functions computed by `go tool pprof` (the oracle).
    public struct ReferenceRow: Sendable, CustomStringConvertible {
        public var file: String
        public var sampleTypeIndex: Int
        public var sampleType: String
        public var total: Int64
        public var topFunction: String
        public var topValue: Int64
        public var description: String { "\(file)[\(sampleTypeIndex)]" }
    }

    public static func referenceRows() throws -> [ReferenceRow] {
        let text = try String(contentsOf: root.appendingPathComponent("profiles/reference.tsv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return ReferenceRow(
                file: f[0], sampleTypeIndex: Int(f[1])!, sampleType: f[2], total: Int64(f[3])!, topFunction: f[4],
                topValue: Int64(f[5])!)
        }
    }

    /// Every fixture that pprof decodes (not broken-*, not legacy-*).
    public static func decodableProfiles() throws -> [String] {
        Set(try referenceRows().map(\.file)).filter { !$0.hasPrefix("legacy-") }.sorted()
    }

    /// The built executable, next to the test bundle.
    public static var executable: URL {
        let bundle = Bundle.main.bundleURL
        for candidate in [bundle, bundle.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("flamegraph-ai")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appendingPathComponent(".build/debug/flamegraph-ai")
    }
}
