import JSONCore
import ProtoPprof

/// How an SVG flame graph is drawn.
public struct SVGOptions: Sendable, Equatable {
    /// Image width in pixels; frames use it less 10 px padding on each side.
    public var width: Int
    /// Height of one frame row in pixels (the rectangle is one pixel less).
    public var frameHeight: Int
    /// Font size in pixels of frame labels and header texts (the title is 5 px larger).
    public var fontSize: Int
    /// The title; nil: "Flame Graph", "Icicle Graph" or "Differential Flame Graph".
    public var title: String?
    /// The line below the title; nil: the sample type, totals and how the graph was cut; "": none.
    public var subtitle: String?
    /// Frames narrower than this many pixels are not drawn, with their descendants (flamegraph.pl's and inferno's
    /// `--minwidth`, default 0.1 px). Their values stay in their ancestors' widths and titles.
    public var minWidth: Double
    /// Root at the top (an icicle graph); by default the root is at the bottom, as in flamegraph.pl and inferno.
    public var inverted: Bool

    public init(
        width: Int = 1200, frameHeight: Int = 16, fontSize: Int = 12, title: String? = nil, subtitle: String? = nil,
        minWidth: Double = 0.1, inverted: Bool = false
    ) {
        self.width = width
        self.frameHeight = frameHeight
        self.fontSize = fontSize
        self.title = title
        self.subtitle = subtitle
        self.minWidth = minWidth
        self.inverted = inverted
    }
}

/// A self-contained interactive SVG flame graph in the manner of flamegraph.pl and inferno: one `<g>` per frame
/// holding a `<title>` (the tooltip: the function name on the first line, values on the next), a `<rect>` and a
/// `<text>` label; an embedded ES5 script (in CDATA) zooms on click (the frame and its descendants fill the width,
/// ancestors are greyed, "Reset Zoom" or Esc undoes it), searches on the Search button, Ctrl+F or F3 (a regular
/// expression over function names; matches turn magenta and "Matched: x.x%" gives their share of the total, nested
/// matches counted once), and shows the hovered frame in the details line at the bottom. No external resources.
///
/// Layout: the root spans the width; children sit left to right from their parent's left edge, in the graph's
/// order (bytewise by name, `other` last), so a parent's self value is the gap on its right, as flamegraph.pl and
/// Grafana draw. Coordinates are rounded to 0.1 px at both edges, so adjacent frames meet exactly and a frame's
/// width is within 0.1 px of value / total × (width − 20). Each frame `<g>` carries its exact position and width
/// in value units (`fg:x`, `fg:w`; the frames group has `fg:total`, and `fg:omitted`, the number of nodes not
/// drawn): zoom and search work on those, not on rounded pixels.
///
/// Minimum width: as flamegraph.pl and inferno do, a frame narrower than `minWidth` pixels is dropped with all its
/// descendants (they are narrower still); nothing is merged. Widths still add up, because every drawn frame is as
/// wide as its full value: a dropped child's value shows as part of the gap right of its drawn siblings.
///
/// Colours: a flame graph by package (`PackageColor`); a diff by the relative change in share (`DiffColor`), with a
/// legend. A diff frame's width is the mean of its two shares under `share` normalization (each side counts
/// equally), and baseline + comparison under `raw` and `normalize` (Pyroscope's `total = left + right`).
///
/// Every text from the profile goes through one escaping helper (`appendEscaped`); the script reads names from the
/// titles' text and never evaluates them. Same input, same bytes.
public enum SVGExport {
    /// Fill of frames matched by a search.
    public static let searchColor = RGB(230, 0, 230)

    public static func svg(_ graph: FlameGraph, options: SVGOptions = SVGOptions()) -> [UInt8] {
        let n = graph.nodeCount
        let start = leftAligned(nodeCount: n, width: graph.total, children: graph.children(of:))
        let total = graph.totalValue
        let type = graph.sampleType
        var paletteIndex = [Int32](repeating: -1, count: graph.names.count)
        let title = options.title ?? (options.inverted ? "Icicle Graph" : "Flame Graph")
        var subtitle = "\(type.type)/\(type.unit) · total \(valueText(total, type))"
        if graph.minTotal > 0 { subtitle += " · call tree cut to \(n - 1) of \(graph.sourceNodes) nodes" }
        let frames = Frames(
            nodeCount: n, parent: graph.parent, level: graph.level, start: start, width: graph.total, total: total)
        return render(
            frames, title: title, subtitle: options.subtitle ?? subtitle, legend: false,
            background: ("#eeeeee", "#eeeeb0"), options: options,
            name: { $0 == 0 ? FlameGraph.rootName : graph.name(of: $0) },
            fill: { node in
                if node == 0 { return PackageColor.neutral }
                let id = Int(graph.nodeName[node])
                if graph.names[id] == FlameGraph.otherName { return PackageColor.otherColor }
                if paletteIndex[id] < 0 {
                    let hash = PackageColor.fnv1a32(PackageColor.packageName(of: graph.names[id]))
                    paletteIndex[id] = Int32(hash % UInt32(PackageColor.palette.count))
                }
                return PackageColor.palette[Int(paletteIndex[id])]
            },
            info: { node, out in
                out.text("Total: " + valueText(graph.total[node], type) + " (" + share(graph.total[node], total) + ")")
                out.newline()
                out.text("Self: " + valueText(graph.selfValue[node], type) + " (" + share(graph.selfValue[node], total) + ")")
            })
    }

    public static func svg(_ diff: DiffFlameGraph, options: SVGOptions = SVGOptions()) -> [UInt8] {
        let n = diff.nodeCount
        let lx = leftAligned(nodeCount: n, width: diff.leftTotal, children: diff.children(of:))
        let rx = leftAligned(nodeCount: n, width: diff.rightTotal, children: diff.children(of:))
        let (lt, rt) = (diff.leftTicks, diff.rightTicks)
        let type = diff.sampleType
        // Layout units: exact sums under raw/normalize; parts of 10^9 of the mean share under share.
        var start = [Int64](repeating: 0, count: n)
        var width = [Int64](repeating: 0, count: n)
        if diff.normalization == .share {
            let wl = lt == 0 ? 0 : (rt == 0 ? 1 : 0.5) / Double(lt)
            let wr = rt == 0 ? 0 : (lt == 0 ? 1 : 0.5) / Double(rt)
            func units(_ l: Int64, _ r: Int64) -> Int64 { Int64(((Double(l) * wl + Double(r) * wr) * 1e9).rounded()) }
            for i in 0 ..< n {
                start[i] = units(lx[i], rx[i])
                width[i] = units(lx[i] + diff.leftTotal[i], rx[i] + diff.rightTotal[i]) - start[i]
            }
        } else {
            for i in 0 ..< n {
                start[i] = lx[i] + rx[i]
                width[i] = diff.leftTotal[i] + diff.rightTotal[i]
            }
        }
        let baselineLabel = diff.normalization == .normalize ? "Baseline (scaled)" : "Baseline"
        let widthRule: String
        switch diff.normalization {
        case .share: widthRule = "width: mean of the two shares"
        case .raw: widthRule = "width: baseline + comparison"
        case .normalize: widthRule = "width: scaled baseline + comparison"
        }
        let subtitle =
            "\(type.type)/\(type.unit) · \(baselineLabel.lowercased()) \(valueText(lt, type)) · comparison \(valueText(rt, type))"
            + " · \(widthRule) · colour: change in share"
        let frames = Frames(nodeCount: n, parent: diff.parent, level: diff.level, start: start, width: width, total: width.first ?? 0)
        return render(
            frames, title: options.title ?? "Differential Flame Graph", subtitle: options.subtitle ?? subtitle, legend: true,
            background: ("#f8f8f8", "#e4e4e4"), options: options,
            name: { diff.name(of: $0) },
            fill: { node in
                DiffColor.color(
                    change: DiffColor.change(left: diff.leftTotal[node], leftTotal: lt, right: diff.rightTotal[node], rightTotal: rt))
            },
            info: { node, out in
                let l = diff.leftTotal[node]
                let r = diff.rightTotal[node]
                out.text(baselineLabel + ": " + valueText(l, type) + " (" + share(l, lt) + ")")
                out.newline()
                out.text("Comparison: " + valueText(r, type) + " (" + share(r, rt) + ")")
                out.newline()
                let a = lt == 0 ? 0 : 100 * Double(l) / Double(lt)
                let b = rt == 0 ? 0 : 100 * Double(r) / Double(rt)
                let relative = l == 0 ? (r == 0 ? "unchanged" : "new") : r == 0 ? "removed" : signedPercent((b - a) / a * 100)
                if diff.normalization == .share {
                    out.text("Change: " + NumberText.points(b - a) + " (" + relative + ")")
                } else {
                    out.text("Change: " + (r > l ? "+" : "") + valueText(r - l, type) + " (share " + relative + ")")
                }
            })
    }

    /// `text` with `&`, `<`, `>`, `"` and `'` as entities and every character XML 1.0 forbids (C0 controls,
    /// U+FFFE, U+FFFF) as U+FFFD. Tab, line feed and carriage return are allowed by XML but replaced as well: a
    /// frame name is one line, and the script takes a title's first line as the name.
    public static func xmlEscaped(_ text: String) -> String {
        var out: [UInt8] = []
        appendEscaped(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The one escaping helper: appends `text` escaped as `xmlEscaped` describes.
    public static func appendEscaped(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            var i = 0
            let n = bytes.count
            while i < n {
                let b = bytes[i]
                switch b {
                case UInt8(ascii: "&"): out.append(contentsOf: amp)
                case UInt8(ascii: "<"): out.append(contentsOf: lt)
                case UInt8(ascii: ">"): out.append(contentsOf: gt)
                case UInt8(ascii: "\""): out.append(contentsOf: quot)
                case UInt8(ascii: "'"): out.append(contentsOf: apos)
                case 0 ..< 0x20: out.append(contentsOf: replacement)
                case 0xEF where i + 2 < n && bytes[i + 1] == 0xBF && (bytes[i + 2] == 0xBE || bytes[i + 2] == 0xBF):
                    out.append(contentsOf: replacement)
                    i += 2
                default: out.append(b)
                }
                i += 1
            }
        }
    }

    private static let amp = Array("&amp;".utf8)
    private static let lt = Array("&lt;".utf8)
    private static let gt = Array("&gt;".utf8)
    private static let quot = Array("&quot;".utf8)
    private static let apos = Array("&apos;".utf8)
    private static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// A value in its unit: scaled time and bytes as pprof writes them, other units as "12 samples".
    static func valueText(_ value: Int64, _ type: ValueType) -> String {
        let text = NumberText.value(value, unit: type.unit)
        switch type.unit {
        case "nanoseconds", "microseconds", "bytes": return text
        default:
            let noun = type.unit == "count" || type.unit.isEmpty ? type.type : type.unit
            return noun.isEmpty ? text : text + " " + noun
        }
    }

    static func share(_ value: Int64, _ total: Int64) -> String {
        NumberText.share(total == 0 ? 0 : 100 * Double(value) / Double(total))
    }

    static func signedPercent(_ v: Double) -> String {
        let text = NumberText.fixed(v, places: 1)
        return (v > 0 && text != "0.0" ? "+" : "") + text + "%"
    }

    /// Children placed from their parent's left edge: each child's x is its parent's x plus the widths of the
    /// siblings before it. Nodes are in pre-order, so a parent's x is final before its children are visited.
    static func leftAligned(nodeCount: Int, width: [Int64], children: (Int) -> ArraySlice<Int32>) -> [Int64] {
        var x = [Int64](repeating: 0, count: nodeCount)
        for p in 0 ..< nodeCount {
            var cursor = x[p]
            for c in children(p) {
                x[Int(c)] = cursor
                cursor += width[Int(c)]
            }
        }
        return x
    }

    /// What the renderer needs of a graph: nodes in pre-order with their depth and extent in layout units.
    struct Frames {
        var nodeCount: Int
        var parent: [Int32]
        var level: [Int32]
        var start: [Int64]
        var width: [Int64]
        var total: Int64
    }

    /// Bytes of the SVG document.
    struct Writer {
        var bytes: [UInt8] = []

        /// Markup and numbers of our own, written as they are.
        mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }
        /// Any text (names, units, shares such as "<0.1%"), escaped.
        mutating func text(_ s: String) { appendEscaped(s, to: &bytes) }
        /// A line break inside a title (`text` would replace it).
        mutating func newline() { bytes.append(0x0A) }
        mutating func int(_ v: Int64) { JSONWriter.appendInt(v, to: &bytes) }
        mutating func int(_ v: Int) { int(Int64(v)) }

        /// A coordinate given in tenths of a pixel: "123" or "123.4".
        mutating func tenths(_ v: Int64) {
            if v < 0 { bytes.append(UInt8(ascii: "-")) }
            let m = v.magnitude
            JSONWriter.appendInt(Int64(m / 10), to: &bytes)
            if m % 10 != 0 {
                bytes.append(UInt8(ascii: "."))
                bytes.append(UInt8(ascii: "0") + UInt8(m % 10))
            }
        }

        mutating func attribute(_ name: String, tenths v: Int64) {
            raw(" \(name)=\"")
            tenths(v)
            raw("\"")
        }
    }

    static func tenths(_ v: Double) -> Int64 { Int64((v * 10).rounded()) }

    /// Roughly the width of one character in units of the font size (flamegraph.pl's Verdana estimate).
    static let fontWidth = 0.59

    /// `name` cut to fit `width` pixels with ".." as flamegraph.pl does; "" when fewer than 3 characters fit.
    static func label(_ name: String, width: Double, fontSize: Int) -> Substring {
        let chars = Int(width / (Double(fontSize) * fontWidth))
        if chars < 3 { return "" }
        if name.utf8.count <= chars || name.count <= chars { return Substring(name) }
        return name.prefix(chars - 2) + ".."
    }

    static func render(
        _ frames: Frames, title: String, subtitle: String, legend: Bool, background: (String, String), options: SVGOptions,
        name: (Int) -> String, fill: (Int) -> RGB, info: (Int, inout Writer) -> Void
    ) -> [UInt8] {
        let n = frames.nodeCount
        let imageWidth = max(options.width, 40)
        let pad = 10
        let fs = max(options.fontSize, 1)
        let fh = max(options.frameHeight, 2)
        let avail = Double(imageWidth - 2 * pad)
        let scale = frames.total > 0 ? avail / Double(frames.total) : 0

        // Which frames are drawn: not under the minimum width, and their parent drawn.
        var drawn = [Bool](repeating: false, count: n)
        var maxDepth = -1
        for i in 0 ..< n {
            if i > 0 && !drawn[Int(frames.parent[i])] { continue }
            if Double(frames.width[i]) * scale < options.minWidth { continue }
            drawn[i] = true
            maxDepth = max(maxDepth, Int(frames.level[i]))
        }
        let omitted = drawn.reduce(n) { $1 ? $0 - 1 : $0 }

        // Vertical layout: title band, optional subtitle and legend bands, frame rows, details band.
        let titleBand = fs * 3
        let subtitleBand = subtitle.isEmpty ? 0 : fs * 2
        let legendBand = legend ? fs * 2 : 0
        let top = titleBand + subtitleBand + legendBand
        let bottomBand = fs * 2 + 10
        let imageHeight = top + (maxDepth + 1) * fh + bottomBand
        func rowY(_ depth: Int) -> Int { options.inverted ? top + depth * fh : imageHeight - bottomBand - (depth + 1) * fh }

        var w = Writer()
        w.bytes.reserveCapacity(4096 + n * 64)
        w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n")
        w.raw("<svg version=\"1.1\" width=\"\(imageWidth)\" height=\"\(imageHeight)\" viewBox=\"0 0 \(imageWidth) \(imageHeight)\"")
        w.raw(" onload=\"init(evt)\" xmlns=\"http://www.w3.org/2000/svg\" xmlns:fg=\"urn:flamegraph-ai:svg\">\n")
        w.raw("<!-- Click a frame to zoom; Search, Ctrl+F or F3 to highlight functions by regular expression; Esc to reset. -->\n")
        w.raw("<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">")
        w.raw("<stop stop-color=\"\(background.0)\" offset=\"5%\"/><stop stop-color=\"\(background.1)\" offset=\"95%\"/></linearGradient>")
        if legend {
            w.raw("<linearGradient id=\"legend\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\"><stop stop-color=\"\(DiffColor.shrunk)\" offset=\"0%\"/>")
            w.raw("<stop stop-color=\"\(DiffColor.unchanged)\" offset=\"50%\"/><stop stop-color=\"\(DiffColor.grown)\" offset=\"100%\"/></linearGradient>")
        }
        w.raw("</defs>\n<style type=\"text/css\">\n")
        w.raw("text{font-family:Verdana,sans-serif;font-size:\(fs)px;fill:rgb(0,0,0)}\n")
        w.raw("#title{text-anchor:middle;font-size:\(fs + 5)px}#subtitle{text-anchor:middle}\n")
        w.raw("#search,#matched,#legend-left{text-anchor:end}#legend-mid{text-anchor:middle;font-size:\(max(fs - 2, 1))px}\n")
        w.raw("#search,#reset{cursor:pointer}#search{opacity:0.1}#search:hover,#search.show{opacity:1}\n")
        w.raw("#frames g{cursor:pointer}#frames g:hover rect{stroke:rgb(0,0,0);stroke-width:0.5}\n")
        w.raw(".hide{display:none}.parent{opacity:0.5}\n</style>\n")
        w.raw("<script type=\"text/ecmascript\"><![CDATA[\n")
        w.raw("var fgConfig = {width: \(imageWidth), pad: \(pad), fontSize: \(fs), fontWidth: \(fontWidth), ")
        w.raw("inverted: \(options.inverted), searchColor: \"\(searchColor)\"};\n")
        w.raw(script)
        w.raw("]]></script>\n")
        w.raw("<rect x=\"0\" y=\"0\" width=\"\(imageWidth)\" height=\"\(imageHeight)\" fill=\"url(#background)\"/>\n")
        w.raw("<text id=\"title\" x=\"\(imageWidth / 2)\" y=\"\(fs * 2)\">")
        w.text(title)
        w.raw("</text>\n")
        if !subtitle.isEmpty {
            w.raw("<text id=\"subtitle\" x=\"\(imageWidth / 2)\" y=\"\(titleBand + fs)\">")
            w.text(subtitle)
            w.raw("</text>\n")
        }
        if legend {
            let y = titleBand + subtitleBand + fs / 3
            let barWidth = 200
            let left = imageWidth / 2 - barWidth / 2
            w.raw("<g id=\"legend\"><rect x=\"\(left)\" y=\"\(y)\" width=\"\(barWidth)\" height=\"\(fs)\" fill=\"url(#legend)\"/>")
            w.raw("<text id=\"legend-left\" x=\"\(left - 6)\" y=\"\(y + fs - 1)\">-100% (removed)</text>")
            w.raw("<text id=\"legend-mid\" x=\"\(imageWidth / 2)\" y=\"\(y + fs - 2)\">0%</text>")
            w.raw("<text id=\"legend-right\" x=\"\(left + barWidth + 6)\" y=\"\(y + fs - 1)\">+100% (added)</text></g>\n")
        }
        w.raw("<text id=\"reset\" class=\"hide\" x=\"\(pad)\" y=\"\(fs * 2)\">Reset Zoom</text>\n")
        w.raw("<text id=\"search\" x=\"\(imageWidth - pad)\" y=\"\(fs * 2)\">Search</text>\n")
        w.raw("<text id=\"details\" x=\"\(pad)\" y=\"\(imageHeight - bottomBand / 2)\"> </text>\n")
        w.raw("<text id=\"matched\" x=\"\(imageWidth - pad)\" y=\"\(imageHeight - bottomBand / 2)\"> </text>\n")

        w.raw("<g id=\"frames\" fg:total=\"")
        w.int(frames.total)
        w.raw("\" fg:omitted=\"\(omitted)\">\n")
        let padTenths = Int64(pad * 10)
        // Label baseline: centred in the rectangle for a Verdana-like font.
        let textOffset = tenths((Double(fh) - 1) / 2 + Double(fs) * 0.36)
        for i in 0 ..< n where drawn[i] {
            let x1 = padTenths + tenths(Double(frames.start[i]) * scale)
            let x2 = padTenths + tenths(Double(frames.start[i] + frames.width[i]) * scale)
            let y = Int64(rowY(Int(frames.level[i])) * 10)
            let frameName = name(i)
            w.raw("<g fg:x=\"")
            w.int(frames.start[i])
            w.raw("\" fg:w=\"")
            w.int(frames.width[i])
            w.raw("\"><title>")
            w.text(frameName)
            w.newline()
            info(i, &w)
            w.raw("</title><rect")
            w.attribute("x", tenths: x1)
            w.attribute("y", tenths: y)
            w.attribute("width", tenths: x2 - x1)
            w.raw(" height=\"\(fh - 1)\" fill=\"\(fill(i))\"/><text")
            w.attribute("x", tenths: x1 + 30)
            w.attribute("y", tenths: y + textOffset)
            w.raw(">")
            w.text(String(label(frameName, width: Double(x2 - x1) / 10, fontSize: fs)))
            w.raw("</text></g>\n")
        }
        w.raw("</g>\n</svg>\n")
        return w.bytes
    }

    /// The embedded script (ES5). It reads each frame's name from its title's first line and its extent from
    /// `fg:x`/`fg:w`; names are only compared and shown as text, never evaluated or parsed as markup.
    static let script = #"""
        var frames = [], details, matched, searchButton, resetButton, zoomed = null, searching = null, total = 0;
        function init(evt) {
          details = document.getElementById("details").firstChild;
          matched = document.getElementById("matched").firstChild;
          searchButton = document.getElementById("search");
          resetButton = document.getElementById("reset");
          var container = document.getElementById("frames");
          total = parseFloat(container.getAttribute("fg:total")) || 0;
          var groups = container.getElementsByTagName("g");
          for (var i = 0; i < groups.length; i++) {
            var g = groups[i];
            var rect = g.getElementsByTagName("rect")[0];
            var text = g.getElementsByTagName("text")[0];
            var lines = (g.getElementsByTagName("title")[0].textContent || "").split("\n");
            frames.push({
              g: g, rect: rect, text: text, name: lines[0], info: lines.slice(1).join(", "),
              x: parseFloat(g.getAttribute("fg:x")), w: parseFloat(g.getAttribute("fg:w")),
              y: parseFloat(rect.getAttribute("y")), px: parseFloat(rect.getAttribute("x")),
              pw: parseFloat(rect.getAttribute("width")), fill: rect.getAttribute("fill"), label: text.textContent
            });
            g.fgIndex = i;
          }
          container.addEventListener("mouseover", function (e) {
            var f = frameOf(e.target);
            if (f) details.nodeValue = "Function: " + f.name + (f.info ? " (" + f.info + ")" : "");
          }, false);
          container.addEventListener("mouseout", function () { details.nodeValue = " "; }, false);
          container.addEventListener("click", function (e) {
            var f = frameOf(e.target);
            if (f) zoom(f);
          }, false);
          resetButton.addEventListener("click", unzoom, false);
          searchButton.addEventListener("click", function () {
            if (searching === null) searchPrompt(); else resetSearch();
          }, false);
          window.addEventListener("keydown", function (e) {
            if (e.keyCode === 114 || ((e.ctrlKey || e.metaKey) && e.keyCode === 70)) {
              e.preventDefault();
              searchPrompt();
            } else if (e.keyCode === 27) {
              unzoom();
              resetSearch();
            }
          }, false);
        }
        function frameOf(node) {
          while (node && node.fgIndex === undefined) node = node.parentNode;
          return node ? frames[node.fgIndex] : null;
        }
        function fit(name, width) {
          var chars = Math.floor(width / (fgConfig.fontSize * fgConfig.fontWidth));
          if (chars < 3) return "";
          return name.length <= chars ? name : name.substring(0, chars - 2) + "..";
        }
        function setClass(f, name) {
          if (name) f.g.setAttribute("class", name); else f.g.removeAttribute("class");
        }
        function place(f, x, w, label) {
          f.rect.setAttribute("x", x.toFixed(1));
          f.rect.setAttribute("width", w.toFixed(1));
          f.text.setAttribute("x", (x + 3).toFixed(1));
          f.text.textContent = label === undefined ? fit(f.name, w) : label;
        }
        function zoom(target) {
          var avail = fgConfig.width - 2 * fgConfig.pad;
          var scale = target.w > 0 ? avail / target.w : 0;
          for (var i = 0; i < frames.length; i++) {
            var f = frames[i];
            var below = fgConfig.inverted ? f.y < target.y : f.y > target.y;
            if (below && f.x <= target.x && f.x + f.w >= target.x + target.w) {
              place(f, fgConfig.pad, avail);
              setClass(f, "parent");
            } else if (!below && f.x >= target.x && f.x + f.w <= target.x + target.w) {
              place(f, fgConfig.pad + (f.x - target.x) * scale, f.w * scale);
              setClass(f, "");
            } else {
              setClass(f, "hide");
            }
          }
          zoomed = target;
          resetButton.removeAttribute("class");
        }
        function unzoom() {
          if (zoomed === null) return;
          zoomed = null;
          for (var i = 0; i < frames.length; i++) {
            place(frames[i], frames[i].px, frames[i].pw, frames[i].label);
            setClass(frames[i], "");
          }
          resetButton.setAttribute("class", "hide");
        }
        function searchPrompt() {
          var term = window.prompt("Search function names (a regular expression, e.g. ^runtime)", searching === null ? "" : searching);
          if (term === null) return;
          if (term === "") resetSearch(); else search(term);
        }
        function search(term) {
          var re;
          try { re = new RegExp(term); } catch (err) { matched.nodeValue = "Invalid regular expression"; return; }
          searching = term;
          var hits = [];
          for (var i = 0; i < frames.length; i++) {
            var f = frames[i];
            if (re.test(f.name)) {
              f.rect.setAttribute("fill", fgConfig.searchColor);
              hits.push(f);
            } else {
              f.rect.setAttribute("fill", f.fill);
            }
          }
          // A match inside an earlier (enclosing) match is already counted: frames nest, so sort by start, widest first.
          hits.sort(function (a, b) { return a.x !== b.x ? a.x - b.x : b.w - a.w; });
          var sum = 0, end = -1;
          for (var j = 0; j < hits.length; j++) {
            if (hits[j].x >= end) {
              sum += hits[j].w;
              end = hits[j].x + hits[j].w;
            }
          }
          searchButton.setAttribute("class", "show");
          matched.nodeValue = "Matched: " + (total > 0 ? (100 * sum / total).toFixed(1) : "0.0") + "%";
        }
        function resetSearch() {
          if (searching === null) return;
          searching = null;
          for (var i = 0; i < frames.length; i++) frames[i].rect.setAttribute("fill", frames[i].fill);
          searchButton.removeAttribute("class");
          matched.nodeValue = " ";
        }

        """#
}
