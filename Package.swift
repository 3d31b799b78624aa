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

        // bytes -> pprof model
        .target(name: "ProtoPprof", dependencies: ["CPprofShim", "CDeflate"]),
        // model -> call trees, flame graphs, diffs, exports
        .target(name: "FlameDiff", dependencies: ["ProtoPprof"]),
        // tree -> analysis, offline explanation, prompts and grounding; the catalogue and the prompt templates are data
        .target(
            name: "Explain", dependencies: ["FlameDiff", "ProtoPprof"],
            resources: [.process("Resources/catalogue.json"), .copy("Resources/prompts")]),
        // OpenAI-compatible chat completions over libcurl; knows nothing of profiles
        .target(name: "LLMGateway", dependencies: ["CCurlShim", "CCurl"]),
        // Pyroscope's query API (Connect, JSON or binary protobuf; directly or through Grafana's data source proxy) -> pprof bytes
        .target(name: "PyroscopeClient", dependencies: ["ProtoPprof", "LLMGateway"], exclude: ["README.md"]),
        // the executable: CLI, JSON-RPC server, replay harness
        .executableTarget(
            name: "PluginHost",
            dependencies: [
                "ProtoPprof", "FlameDiff", "LLMGateway", "Explain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Test helpers: fixture paths, a protobuf writer for crafted profiles, gzip.
        .target(name: "TestSupport", dependencies: ["CDeflate"], path: "Tests/TestSupport"),
        .testTarget(name: "ProtoPprofTests", dependencies: ["ProtoPprof", "TestSupport"]),
        .testTarget(name: "FlameDiffTests", dependencies: ["FlameDiff", "ProtoPprof", "TestSupport"]),
        .testTarget(name: "ExplainTests", dependencies: ["Explain", "FlameDiff", "ProtoPprof", "TestSupport"]),
        .testTarget(name: "LLMGatewayTests", dependencies: ["LLMGateway", "TestSupport"]),
        .testTarget(
            name: "PyroscopeClientTests",
            dependencies: ["PyroscopeClient", "ProtoPprof", "FlameDiff", "LLMGateway", "TestSupport"],
            exclude: ["pyroscope_test_server.py"]),
        .testTarget(name: "PluginHostTests", dependencies: ["FlameDiff", "ProtoPprof", "TestSupport"]),
    ]
)
