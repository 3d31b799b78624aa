import Foundation
import JSONCore
import JSONRPC
import MCPServer
import ProfileService
import TestSupport
import Testing

/// The tool table against the service's method table, and every listing's schemas and budget, in process.
@Suite struct ToolTableTests {
    let environment = ToolEnvironment(allowedDirectory: "/profiles", llmConfigured: false)

    /// Every method of MethodTable is a tool or listed as not one, never both: none is half-registered.
    @Test func everyMethodIsAToolOrSaysWhyNot() {
        let (missing, both) = ToolTable.coverage()
        #expect(missing.isEmpty, "methods with no decision about MCP: \(missing)")
        #expect(both.isEmpty, "methods both exposed and excluded: \(both)")
        let names = ToolTable.all.map { $0.name }
        #expect(Set(names).count == names.count)
        let methods = ToolTable.all.map { $0.methodName }
        #expect(Set(methods).count == methods.count, "one tool per method")
    }

    @Test func testToolsOnlyWithTestMethods() {
        var config = ServiceConfig()
        #expect(!ToolTable.tools(for: ProfileService(config: config)).contains { $0.name == "debug_sleep" })
        config.testMethods = true
        #expect(ToolTable.tools(for: ProfileService(config: config)).contains { $0.name == "debug_sleep" })
    }

    /// Names follow the spec's advice; schemas are objects; each budget has a default inside its range that the
    /// description states; defaults validate against their own property schemas.
    @Test func listingsAreWellFormed() throws {
        let nameRule = try Regex("^[A-Za-z0-9_.-]{1,128}$")
        for tool in ToolTable.all {
            let listing = tool.listing(environment, version: MCPVersion.latest)
            #expect(tool.name.wholeMatch(of: nameRule) != nil)
            #expect(listing["inputSchema"]?["type"] == "object" && listing["outputSchema"]?["type"] == "object")
            let properties = listing["inputSchema"]?["properties"]?.objectValue ?? [:]
            let budget = properties["maxOutputTokens"]
            #expect(budget?["default"]?.intValue == Int64(tool.budget.defaultTokens))
            #expect(tool.budget.range.contains(tool.budget.defaultTokens))
            #expect(budget?["description"]?.stringValue?.contains("Default \(tool.budget.defaultTokens)") == true, "\(tool.name)")
            for (key, schema) in properties {
                if let value = schema["default"] {
                    #expect(SchemaValidator.validate(value, against: schema).isEmpty, "\(tool.name).\(key) default")
                }
            }
            for key in listing["inputSchema"]?["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                #expect(properties[key] != nil, "\(tool.name) requires an unknown \(key)")
            }
            #expect(!tool.description.isEmpty && tool.description.utf8.count < 700)
        }
        // Without --allow-dir a profile is base64 only, and the schema says so.
        let noPaths = TopFunctionsTool.inputSchema(ToolEnvironment(allowedDirectory: nil, llmConfigured: false))
        #expect(noPaths["properties"]?["profile"]?["properties"]?["path"] == nil)
        #expect(TopFunctionsTool.inputSchema(environment)["properties"]?["profile"]?["properties"]?["path"] != nil)
    }

    /// A tool's answer through the handler in process: the same method layer `serve` uses, shaped and budgeted.
    @Test func toolsCallTheServiceMethods() async throws {
        var config = ServiceConfig()
        config.allowedDirectory = Fixtures.root.path
        let handler = MCPHandler(service: ProfileService(config: config))
        let context = RequestContext(id: nil, output: OutputChannel(fd: open("/dev/null", O_WRONLY)))
        _ = try await handler.handle("initialize", MCPSessionTests.initialize(), context)
        let viaTool = try await handler.handle(
            "tools/call", ["name": "top_functions", "arguments": ["profile": ["path": "profiles/go-cpu-benchmark.pb.gz"], "limit": 3]], context)
        let viaMethod = try await ServiceHandler(service: ProfileService(config: config)).handle(
            "profile.top", ["profile": ["path": "profiles/go-cpu-benchmark.pb.gz"], "limit": 3], context)
        let names = viaTool["structuredContent"]?["rows"]?.arrayValue?.map { $0["name"] }
        #expect(names == viaMethod["rows"]?.arrayValue?.map { $0["name"] })
        #expect(viaTool["structuredContent"]?["total"] == viaMethod["total"])
    }
}
