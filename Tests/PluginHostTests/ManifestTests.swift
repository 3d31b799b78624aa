import Foundation
import TestSupport
import Testing

@Suite struct ManifestTests {
    @Test func pluginJSONIsAGrafanaBackendApp() throws {
        let data = try Data(contentsOf: Fixtures.packageRoot.appendingPathComponent("plugin.json"))
        let manifest = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let id = manifest["id"] as! String
        // Grafana's id form: org-name-type.
        #expect(id.split(separator: "-").count >= 3 && id.hasSuffix("-app"))
        #expect(manifest["type"] as? String == "app")
        #expect(manifest["backend"] as? Bool == true)
        #expect((manifest["executable"] as? String)?.hasPrefix("gpx_") == true)
        let info = manifest["info"] as! [String: Any]
        for key in ["description", "author", "logos", "version", "updated"] { #expect(info[key] != nil, "info.\(key)") }
        let deps = manifest["dependencies"] as! [String: Any]
        #expect((deps["grafanaDependency"] as? String)?.hasPrefix(">=") == true)
        let includes = manifest["includes"] as! [[String: Any]]
        #expect(includes.first?["type"] as? String == "page")
        #expect((includes.first?["path"] as? String)?.hasPrefix("/a/\(id)/") == true)
    }

    @Test func frontendStubRegistersTheApp() throws {
        let module = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("frontend-stub/module.js"), encoding: .utf8)
        #expect(module.contains("new grafanaData.AppPlugin()"))
        #expect(module.contains("plugin: plugin"))
    }
}
