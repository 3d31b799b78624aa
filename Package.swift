// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "flamegraph-ai",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "flamegraph-ai", targets: ["PluginHost"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // System libraries from Debian packages.
        .systemLibrary(
            name: "CProtobufC", path: "Sources/CProtobufC",
            pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(
            name: "CDeflate", path: "Sources/CDeflate",
            pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl",
            pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Typed wrappers for libcurl's variadic setopt/getinfo.
        .target(name: "CCurlShim", dependencies: ["CCurl"], path: "Sources/CCurlShim"),
        // Generated protobuf-c code for profile.proto (scripts/gen-proto) and the arena decoder.
        .target(name: "CPprofShim", dependencies: ["CProtobufC"], path: "Sources/CPprofShim"),
        // glibc's mallopt (the executable's allocator policy: one arena)
        .target(name: "CMallocShim", path: "Sources/CMallocShim"),

        // JSON values, a strict parser and a fast writer; no dependencies
        .target(name: "JSONCore"),
        // RE2-syntax regular expressions matched in linear time (Thompson NFA, Pike VM); no dependencies
        .target(name: "LinearRegex"),
        // bytes -> pprof model
        .target(name: "ProtoPprof", dependencies: ["CPprofShim", "CDeflate"]),
        // other formats -> pprof model: legacy pprof, folded, Chrome .cpuprofile, speedscope, perf script
        .target(name: "ProfileFormats", dependencies: ["ProtoPprof"]),
        // model -> call trees, flame graphs, diffs, exports
        .target(name: "FlameDiff", dependencies: ["ProtoPprof", "JSONCore", "LinearRegex"]),
        // tree -> analysis, offline explanation, prompts and grounding; the catalogue and the prompt templates are data
        .target(
            name: "Explain", dependencies: ["FlameDiff", "ProtoPprof"],
            resources: [.process("Resources/catalogue.json"), .copy("Resources/prompts")]),
        // HTTP over libcurl (streaming, timeouts, cancellation) and the SSE parser; knows nothing of LLMs
        .target(name: "HTTPTransport", dependencies: ["CCurlShim", "CCurl"]),
        // OpenAI-compatible chat completions; knows nothing of profiles
        .target(name: "LLMGateway", dependencies: ["HTTPTransport"]),
        // JSON-RPC 2.0 over lines: framing, the server loop, in-flight requests, cancellation, progress; knows nothing of profiles
        .target(
            name: "JSONRPC",
            dependencies: ["JSONCore", .product(name: "Logging", package: "swift-log")]),
        // the service: typed methods in one table, profile sources, explanations, the Grafana adapter
        .target(
            name: "ProfileService",
            dependencies: ["ProtoPprof", "ProfileFormats", "FlameDiff", "Explain", "LLMGateway", "JSONRPC", "JSONCore", "PyroscopeClient"],
            resources: [.copy("Resources/self-test.pb.gz")]),
        // `dev`: the local web host for the page (FlyingFox); talks to a `serve` child only through JSON-RPC on its pipes
        .target(
            name: "DevHost",
            dependencies: ["JSONCore", "JSONRPC", .product(name: "FlyingFox", package: "FlyingFox")]),
        // Pyroscope's query API (Connect, JSON or binary protobuf; directly or through Grafana's data source proxy) -> pprof bytes
        .target(name: "PyroscopeClient", dependencies: ["ProtoPprof", "HTTPTransport", "LLMGateway"], exclude: ["README.md"]),
        // MCP (Model Context Protocol) over the JSON-RPC server: tools over the service's methods
        .target(name: "MCPServer", dependencies: ["ProfileService", "JSONRPC", "JSONCore", "FlameDiff", "ProtoPprof"]),
        // the executable: CLI, `serve`, `mcp`, `dev`, replay harness
        .executableTarget(
            name: "PluginHost",
            dependencies: [
                "ProtoPprof", "ProfileFormats", "FlameDiff", "LLMGateway", "Explain", "JSONCore", "JSONRPC", "ProfileService", "PyroscopeClient",
                "MCPServer", "DevHost", "CMallocShim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Test helpers: fixture paths, a protobuf writer for crafted profiles, gzip, the decoder parity oracle
        // and varied encodings (shared with the fuzz targets).
        .target(name: "TestSupport", dependencies: ["CDeflate", "ProtoPprof"], path: "Tests/TestSupport"),
        .testTarget(name: "ProtoPprofTests", dependencies: ["ProtoPprof", "TestSupport"]),
        .testTarget(name: "FlameDiffTests", dependencies: ["FlameDiff", "ProtoPprof", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "ProfileFormatsTests", dependencies: ["ProfileFormats", "FlameDiff", "ProtoPprof", "TestSupport"],
            exclude: ["independent_parse.py"]),
        .testTarget(name: "ExplainTests", dependencies: ["Explain", "FlameDiff", "ProtoPprof", "ProfileFormats", "TestSupport"]),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTPTransport", "TestSupport"]),
        .testTarget(name: "LLMGatewayTests", dependencies: ["LLMGateway", "TestSupport"]),
        .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC", "JSONCore"]),
        .testTarget(name: "ProfileServiceTests", dependencies: ["ProfileService", "JSONRPC", "JSONCore", "PyroscopeClient", "TestSupport"]),
        .testTarget(name: "LinearRegexTests", dependencies: ["LinearRegex"], exclude: ["Fixtures"]),
        .testTarget(
            name: "PyroscopeClientTests",
            dependencies: ["PyroscopeClient", "ProtoPprof", "FlameDiff", "HTTPTransport", "LLMGateway", "TestSupport"],
            exclude: ["pyroscope_test_server.py"]),
        .testTarget(name: "MCPServerTests", dependencies: ["MCPServer", "ProfileService", "JSONRPC", "JSONCore", "TestSupport"]),
        .testTarget(name: "PluginHostTests", dependencies: ["FlameDiff", "ProtoPprof", "TestSupport"]),
        .testTarget(name: "DevHostTests", dependencies: ["DevHost", "JSONCore", "TestSupport"]),

        // What the fuzz targets check (Fuzz/Oracles), and the test that replays their committed corpora
        // (Fuzz/Corpus/<Target>/: seeds and every finding) in CI.
        .target(
            name: "FuzzOracles", dependencies: ["JSONCore", "JSONRPC", "HTTPTransport", "FlameDiff", "ProtoPprof", .product(name: "Logging", package: "swift-log")],
            path: "Fuzz/Oracles"),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzOracles"]),
    ]
)

// Fuzz targets (scripts/fuzz): libFuzzer executables in Fuzz/<Name>/, whose main.swift ends in
// `Fuzzing.main(seeds:_:)` (Fuzz/FuzzSupport). They link only with -sanitize=fuzzer, so they are declared
// only when FLAMEGRAPH_AI_FUZZ is set (scripts/fuzz sets it and builds into .build-fuzz/): a plain
// `swift build` never sees them. Adding one: its folder, and a line here.
let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
    // bytes -> a profile with varied sample encodings; the hand-written decoder must match protobuf-c
    ("FuzzSampleDecoder", ["ProtoPprof", "TestSupport"]),
    // bytes -> any reader (legacy pprof, folded, .cpuprofile, speedscope, perf script) or detection
    ("FuzzProfileFormats", ["ProfileFormats", "FlameDiff", "ProtoPprof"]),
    // bytes -> JSONCore's parser and writer (round trip)
    ("FuzzJSON", ["FuzzOracles"]),
    // lines -> the JSON-RPC server in process (framing, dispatch, batches, cancellation, lifecycle)
    ("FuzzJSONRPC", ["FuzzOracles"]),
    // bytes, split anywhere -> the SSE parser
    ("FuzzSSE", ["FuzzOracles"]),
    // JSON -> the levels (flame graph) input of explain, a call tree, and levels again
    ("FuzzLevels", ["FuzzOracles"]),
]
if Context.environment["FLAMEGRAPH_AI_FUZZ"] != nil {
    package.targets += [
        // libFuzzer's driver, declared for Swift
        .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        // seeds, fixtures, the driver call
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/FuzzSupport"),
    ]
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(name: target.name, dependencies: ["FuzzSupport"] + target.dependencies, path: "Fuzz/\(target.name)"))
    }
}
