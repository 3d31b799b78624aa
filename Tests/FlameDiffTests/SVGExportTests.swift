import FlameDiff
import Foundation
import ProtoPprof
import TestSupport
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element of a parsed SVG: enough of a DOM to check frames.
final class XMLNode {
    let name: String
    let attributes: [String: String]
    var children: [XMLNode] = []
    var text = ""
    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    func all(_ name: String) -> [XMLNode] {
        var found: [XMLNode] = []
        var stack: [XMLNode] = [self]
        while let n = stack.popLast() {
            if n.name == name { found.append(n) }
            stack.append(contentsOf: n.children.reversed())
        }
        return found
    }

    func first(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    func double(_ key: String) -> Double { Double(attributes[key] ?? "") ?? .nan }
}

/// Parses with Foundation's XMLParser; nil with the parser's error when the text is not well-formed XML.
final class SVGParser: NSObject, XMLParserDelegate {
    private var stack: [XMLNode] = [XMLNode(name: "#document", attributes: [:])]
    private(set) var error: Error?

    static func parse(_ bytes: [UInt8]) -> (root: XMLNode?, error: Error?) {
        let delegate = SVGParser()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = delegate
        let ok = parser.parse()
        return (ok ? delegate.stack.first?.children.first : nil, delegate.error ?? parser.parserError)
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String]
    ) {
        let node = XMLNode(name: elementName, attributes: attributes)
        stack.last!.children.append(node)
        stack.append(node)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { stack.last!.text += string }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        stack.last!.text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }
}

/// One drawn frame of a parsed SVG.
struct DrawnFrame {
    var name: String
    var title: String
    var x: Double
    var y: Double
    var width: Double
    var fill: String
    var label: String
    var valueX: Int64
    var valueWidth: Int64
}

@Suite struct SVGExportTests {
    static let nanoseconds = ValueType(type: "cpu", unit: "nanoseconds")

    /// A small profile with Go-like names in several packages, one frame too narrow to draw.
    static func smallTree() -> CallTree {
        CallTree(
            stacks: [
                (["main.main", "net/http.(*Server).Serve", "github.com/acme/app/handler.Serve", "encoding/json.Marshal"], 300_000_000),
                (["main.main", "net/http.(*Server).Serve", "github.com/acme/app/handler.Serve"], 100_000_000),
                (["main.main", "runtime.mallocgc"], 50_000_000),
                (["main.main", "tiny"], 1),
                (["runtime.gcBgMarkWorker", "runtime.scanobject"], 150_000_000),
            ], sampleType: nanoseconds)
    }

    static func smallDiff() -> DiffTree {
        DiffTree(
            left: [(["main", "grow"], 10), (["main", "shrink"], 90), (["main", "same", "leaf"], 50), (["main", "gone"], 20)],
            right: [(["main", "grow"], 60), (["main", "shrink"], 40), (["main", "same", "leaf"], 50), (["main", "new"], 20)])
    }

    static func parse(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> XMLNode {
        let (root, error) = SVGParser.parse(bytes)
        guard let root else {
            Issue.record("not well-formed XML: \(String(describing: error))", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return root
    }

    static func frames(_ root: XMLNode) -> [DrawnFrame] {
        guard let group = root.all("g").first(where: { $0.attributes["id"] == "frames" }) else { return [] }
        return group.children.map { g in
            let title = g.first("title")?.text ?? ""
            let rect = g.first("rect")!
            return DrawnFrame(
                name: String(title.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""), title: title,
                x: rect.double("x"), y: rect.double("y"), width: rect.double("width"), fill: rect.attributes["fill"] ?? "",
                label: g.first("text")?.text ?? "", valueX: Int64(g.attributes["fg:x"] ?? "") ?? -1,
                valueWidth: Int64(g.attributes["fg:w"] ?? "") ?? -1)
        }
    }

    static func rgb(_ fill: String) -> (r: Int, g: Int, b: Int)? {
        guard fill.hasPrefix("rgb("), fill.hasSuffix(")") else { return nil }
        let parts = fill.dropFirst(4).dropLast().split(separator: ",").compactMap { Int($0) }
        return parts.count == 3 ? (parts[0], parts[1], parts[2]) : nil
    }

    @Test func wellFormedXML() throws {
        let graph = FlameGraph(tree: Self.smallTree())
        for options in [SVGOptions(), SVGOptions(title: "T", subtitle: "", inverted: true), SVGOptions(width: 300, minWidth: 0)] {
            let root = try Self.parse(SVGExport.svg(graph, options: options))
            #expect(root.name == "svg")
            #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
            #expect(root.all("script").count == 1)
        }
        let diff = DiffFlameGraph(diff: Self.smallDiff())
        let root = try Self.parse(SVGExport.svg(diff, options: SVGOptions()))
        #expect(root.all("linearGradient").contains { $0.attributes["id"] == "legend" })
        // An empty graph still makes a valid document.
        let empty = FlameGraph(tree: CallTree(stacks: []))
        _ = try Self.parse(SVGExport.svg(empty, options: SVGOptions()))
    }

    @Test func frameWidthsProportionalToValues() throws {
        // Distinct names so that a frame's title identifies its node.
        var stacks: [([String], Int64)] = []
        for i in 0 ..< 12 { stacks.append((["root", "mid\(i % 3)", "leaf\(i)"], Int64(i * i + 7))) }
        stacks.append((["root", "mid1"], 33))
        let graph = FlameGraph(tree: CallTree(stacks: stacks))
        let total = Double(graph.totalValue)
        let avail = 1180.0
        let drawn = Self.frames(try Self.parse(SVGExport.svg(graph, options: SVGOptions(minWidth: 0))))
        #expect(drawn.count == graph.nodeCount)
        var byName: [String: DrawnFrame] = [:]
        for f in drawn { byName[f.name] = f }
        for node in 0 ..< graph.nodeCount {
            let name = node == 0 ? "total" : graph.name(of: node)
            let f = try #require(byName[name])
            let expected = Double(graph.total[node]) / total * avail
            #expect(abs(f.width - expected) <= 0.1 + 1e-9, "\(name): width \(f.width), expected \(expected)")
            #expect(f.valueWidth == graph.total[node])
            if node > 0 {
                // Inside the parent, and the first child starts at the parent's left edge.
                let p = byName[graph.parent[node] == 0 ? "total" : graph.name(of: Int(graph.parent[node]))]!
                #expect(f.x >= p.x - 1e-9 && f.x + f.width <= p.x + p.width + 1e-9)
                #expect(f.y == p.y - 16)
                if graph.children(of: Int(graph.parent[node])).first.map({ Int($0) }) == node { #expect(f.x == p.x) }
            }
        }
        // Siblings meet exactly: each starts where the previous ended.
        for node in 0 ..< graph.nodeCount {
            let kids = graph.children(of: node).map { byName[graph.name(of: Int($0))]! }
            for (a, b) in zip(kids, kids.dropFirst()) { #expect(abs(a.x + a.width - b.x) < 1e-9) }
        }
    }

    @Test func everyTitleNamesAFunctionOfTheProfile() throws {
        let profile = try Profile.decode(Fixtures.bytes("go-cpu-fib.pb.gz"))
        let tree = try CallTree(profile: profile)
        let graph = FlameGraph(tree: tree, maxNodes: 200)
        let names = Set(tree.names + [FlameGraph.rootName, FlameGraph.otherName])
        let drawn = Self.frames(try Self.parse(SVGExport.svg(graph, options: SVGOptions())))
        #expect(drawn.count > 10)
        for f in drawn {
            #expect(names.contains(f.name), "\(f.name) is not a function of the profile")
            #expect(f.title.contains("Total: ") && f.title.contains("Self: "))
        }
        #expect(drawn.contains { $0.name == "math/big.addVV" && $0.title.contains("%") })
        // Labels are the name or a ".." prefix of it.
        for f in drawn where !f.label.isEmpty {
            #expect(f.label == f.name || (f.label.hasSuffix("..") && f.name.hasPrefix(f.label.dropLast(2))))
        }
    }

    @Test func framesUnderTheMinimumWidthAreDroppedWithTheirDescendants() throws {
        // main 100000 + 20 tiny frames of 1 (0.0118 px each at 1180 px), each with a child.
        var stacks: [([String], Int64)] = [(["main", "big"], 100_000)]
        for i in 0 ..< 20 { stacks.append((["main", "tiny\(i)", "under\(i)"], 1)) }
        let graph = FlameGraph(tree: CallTree(stacks: stacks))
        let root = try Self.parse(SVGExport.svg(graph, options: SVGOptions()))
        let drawn = Self.frames(root)
        #expect(drawn.map(\.name).sorted() == ["big", "main", "total"])
        let group = root.all("g").first { $0.attributes["id"] == "frames" }!
        #expect(group.attributes["fg:omitted"] == "40")
        // Widths still add up: main is as wide as all of its value, the dropped frames' share is the gap right of big.
        let main = drawn.first { $0.name == "main" }!
        let big = drawn.first { $0.name == "big" }!
        #expect(main.width == 1180)
        #expect(main.valueWidth == 100_020)
        #expect(abs(big.width - 100_000.0 / 100_020 * 1180) <= 0.1)
        // A frame exactly at the minimum stays; minimum 0 draws everything.
        let threshold = 1180.0 / 100_020
        #expect(Self.frames(try Self.parse(SVGExport.svg(graph, options: SVGOptions(minWidth: threshold)))).count == 43)
        #expect(Self.frames(try Self.parse(SVGExport.svg(graph, options: SVGOptions(minWidth: 0)))).count == 43)
        #expect(Self.frames(try Self.parse(SVGExport.svg(graph, options: SVGOptions(minWidth: threshold * 1.01)))).count == 3)
    }

    @Test func hostileNamesStayEscapedText() throws {
        let hostile = ["<script>alert(1)</script>", "a & b", "say \"hi\"", "x]]>y", "it's", "bell\u{07}tab\tline\nend", "nonchar\u{FFFE}"]
        let tree = CallTree(stacks: hostile.map { (["main", $0], 10) })
        let bytes = SVGExport.svg(FlameGraph(tree: tree), options: SVGOptions(title: "<b>&title</b>", subtitle: "]]>"))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("<script>alert"))
        #expect(!text.contains("<b>"))
        #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(text.contains("x]]&gt;y"))
        #expect(text.contains("say &quot;hi&quot;"))
        #expect(text.contains("it&apos;s"))
        #expect(text.contains("a &amp; b"))
        // The only `]]>` closes the script's CDATA section, right before </script>.
        #expect(text.components(separatedBy: "]]>").count == 2)
        #expect(text.contains("]]></script>"))
        let root = try Self.parse(bytes)
        let names = Set(Self.frames(root).map(\.name))
        for name in hostile {
            let expected = String(String.UnicodeScalarView(name.unicodeScalars.map {
                $0.value < 0x20 || $0.value == 0xFFFE || $0.value == 0xFFFF ? "\u{FFFD}" : $0
            }))
            #expect(names.contains(expected), "\(expected) not found among \(names)")
        }
        #expect(root.all("text").first { $0.attributes["id"] == "title" }?.text == "<b>&title</b>")
        #expect(SVGExport.xmlEscaped("<&>\"'\u{0}") == "&lt;&amp;&gt;&quot;&apos;\u{FFFD}")
    }

    @Test func diffColoursGrownRedShrunkGreen() throws {
        let diff = DiffFlameGraph(diff: Self.smallDiff())
        let root = try Self.parse(SVGExport.svg(diff, options: SVGOptions()))
        var fill: [String: (r: Int, g: Int, b: Int)] = [:]
        var drawn: [String: DrawnFrame] = [:]
        for f in Self.frames(root) {
            fill[f.name] = Self.rgb(f.fill)
            drawn[f.name] = f
        }
        let grow = try #require(fill["grow"])
        let shrink = try #require(fill["shrink"])
        #expect(grow.r > grow.g && grow.r > grow.b, "grow is \(grow)")
        #expect(shrink.g > shrink.r && shrink.g > shrink.b, "shrink is \(shrink)")
        #expect(fill["new"].map { $0 == (200, 0, 0) } == true)
        #expect(fill["gone"].map { $0 == (0, 170, 0) } == true)
        #expect(fill["total"].map { $0 == (148, 142, 142) } == true)
        #expect(fill["leaf"].map { $0 == (148, 142, 142) } == true)
        // Width: the mean of the two shares (grow: 10/170 and 60/170).
        let expected = (10.0 / 170 + 60.0 / 170) / 2 * 1180
        #expect(abs(drawn["grow"]!.width - expected) <= 0.1)
        #expect(drawn["grow"]!.title.contains("Baseline: 10 samples (5.9%)"))
        #expect(drawn["grow"]!.title.contains("Comparison: 60 samples (35.3%)"))
        #expect(drawn["grow"]!.title.contains("Change: +29.41pp (+500.0%)"))
        #expect(drawn["new"]!.title.contains("(new)"))
        #expect(drawn["gone"]!.title.contains("(removed)"))
        // Under raw values the width is baseline + comparison.
        let raw = Self.frames(try Self.parse(SVGExport.svg(DiffFlameGraph(diff: Self.smallDiff(), normalization: .raw))))
        let rawGrow = try #require(raw.first { $0.name == "grow" })
        #expect(abs(rawGrow.width - 70.0 / 340 * 1180) <= 0.1)
        #expect(rawGrow.title.contains("Change: +50 samples"))
    }

    @Test func invertedPutsTheRootOnTop() throws {
        let graph = FlameGraph(tree: Self.smallTree())
        let flame = Self.frames(try Self.parse(SVGExport.svg(graph, options: SVGOptions())))
        let icicle = Self.frames(try Self.parse(SVGExport.svg(graph, options: SVGOptions(inverted: true))))
        let flameRoot = flame.first { $0.name == "total" }!
        let icicleRoot = icicle.first { $0.name == "total" }!
        #expect(flame.allSatisfy { $0.y <= flameRoot.y })
        #expect(icicle.allSatisfy { $0.y >= icicleRoot.y })
    }

    @Test func sameInputSameBytes() {
        let a = SVGExport.svg(FlameGraph(tree: Self.smallTree()), options: SVGOptions())
        let b = SVGExport.svg(FlameGraph(tree: Self.smallTree()), options: SVGOptions())
        #expect(a == b)
        let c = SVGExport.svg(DiffFlameGraph(diff: Self.smallDiff()), options: SVGOptions())
        let d = SVGExport.svg(DiffFlameGraph(diff: Self.smallDiff()), options: SVGOptions())
        #expect(c == d)
    }

    @Test(arguments: ["small.svg", "small-diff.svg"])
    func golden(_ file: String) throws {
        let bytes =
            file == "small.svg"
            ? SVGExport.svg(FlameGraph(tree: Self.smallTree()), options: SVGOptions())
            : SVGExport.svg(DiffFlameGraph(diff: Self.smallDiff()), options: SVGOptions())
        try assertGolden(bytes, named: "svg/\(file)")
    }

    /// The 1M-sample synthetic profile: set FLAMEGRAPH_AI_SYNTHETIC to shared/profiles/synthetic/large.pb.gz
    /// (and FLAMEGRAPH_AI_SVG_OUT to a path to keep the SVG, e.g. to try it in a browser).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FLAMEGRAPH_AI_SYNTHETIC"] != nil))
    func syntheticProfileTiming() throws {
        let path = ProcessInfo.processInfo.environment["FLAMEGRAPH_AI_SYNTHETIC"]!
        let profile = try Profile.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let graph = FlameGraph(tree: try CallTree(profile: profile), maxNodes: FlameGraph.defaultMaxNodes)
        let clock = ContinuousClock()
        var bytes: [UInt8] = []
        let elapsed = clock.measure { bytes = SVGExport.svg(graph, options: SVGOptions()) }
        if let out = ProcessInfo.processInfo.environment["FLAMEGRAPH_AI_SVG_OUT"] {
            try Data(bytes).write(to: URL(fileURLWithPath: out))
        }
        let root = try Self.parse(bytes)
        let group = root.all("g").first { $0.attributes["id"] == "frames" }!
        print(
            "synthetic: \(graph.nodeCount) nodes, \(group.children.count) frames drawn, \(group.attributes["fg:omitted"] ?? "?") omitted, "
                + "\(bytes.count) bytes, \(elapsed)")
        // Well under a second in a release build; a debug build on a busy machine gets more room.
        #if DEBUG
        #expect(elapsed < .seconds(10))
        #else
        #expect(elapsed < .seconds(1))
        #endif
    }
}

/// Compares `bytes` with the golden file Tests/FlameDiffTests/Fixtures/`name`. With FLAMEGRAPH_AI_RECORD=1, or when
/// the golden is missing, writes it and fails, saying so.
func assertGolden(_ bytes: [UInt8], named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        .appendingPathComponent(name)
    let record = ProcessInfo.processInfo.environment["FLAMEGRAPH_AI_RECORD"] == "1"
    if record || !FileManager.default.fileExists(atPath: url.path) {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        Issue.record(
            "Recorded golden \(url.path)\(record ? "" : " (it was missing)"); check it and run again without FLAMEGRAPH_AI_RECORD",
            sourceLocation: sourceLocation)
        return
    }
    let expected = Array(try Data(contentsOf: url))
    if expected != bytes {
        let actual = FileManager.default.temporaryDirectory.appendingPathComponent(url.lastPathComponent)
        try? Data(bytes).write(to: actual)
        Issue.record(
            "\(name) differs from the golden (actual output written to \(actual.path)); FLAMEGRAPH_AI_RECORD=1 re-records it",
            sourceLocation: sourceLocation)
    }
}
