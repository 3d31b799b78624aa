/// An sRGB colour with 8-bit channels, written as `rgb(r,g,b)`.
public struct RGB: Sendable, Equatable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// `rgb(r,g,b)`, no spaces.
    public var description: String { "rgb(\(r),\(g),\(b))" }
}

/// Frame colours by package, the same for a function in every profile and every renderer.
///
/// The rules, written so that another renderer (the JavaScript page) can mirror them exactly:
///
/// 1. **Package of a frame name** (`packageName(of:)`), on the name's characters:
///    1. Ruby block prefixes: a name starting `block `, `rescue in ` or `ensure in ` that contains ` in ` is
///       replaced by what follows the first ` in ` (`block (2 levels) in Foo#bar` → `Foo#bar`).
///    2. Script files: if the name contains one of `.py` `.rb` `.php` `.js` `.mjs` `.cjs` `.jsx` `.ts` `.tsx`
///       followed by `:`, a space or the end of the name, the first such occurrence ends a file path. If the path
///       contains `node_modules/`, the package is the npm package after the last `node_modules/` (`@scope/name`
///       or `name`); otherwise it is the path without its extension and without a leading `./`
///       (`app/models/user.rb:12 - User#save` → `app/models/user`, `module.py:func` → `module`).
///    3. Otherwise the *head* is the name up to its first `(`, `<` or `[` (after dropping one leading `<`, as in
///       Rust's `<T as Trait>::f`), then after its last space (C++ return types: `void ns::f` → `ns::f`).
///       A head starting `0x` (an unsymbolized address) has package "" (all addresses share one colour).
///    4. A head containing `::` (Rust `crate::mod::fn`, C++ `ns::Class::fn`, Ruby `Foo::Bar#m`): the part before
///       the first `::`.
///    5. Else a head containing `#` (Ruby `Foo#m`): the part before the first `#`.
///    6. Else a head containing `/`: if the part after the last `/` starts with an ASCII capital letter, it is a
///       Java class in slash form: the package is the part before the last `/` with `/` turned into `.`
///       (`java/lang/Thread.run` → `java.lang`). Otherwise it is Go: the head up to the first `.` after the last
///       `/` (`github.com/x/y/pkg.(*T).m` → `github.com/x/y/pkg`).
///    7. Else a head containing `.`, split at `.` into segments: if the first segment starts with an ASCII capital
///       (.NET `Namespace.Class.Method`), the package is every segment but the last two (just the first segment when
///       there are fewer than three); else if a later segment starts with an ASCII capital (Java
///       `com.foo.Bar.method`, Python `json.decoder.JSONDecoder.decode`, Go `fmt.Println`), the segments before the
///       first such one; else (Go `runtime.mallocgc`, Python `module.func`) the first segment.
///    8. Else the head itself (a C or kernel function is its own package).
/// 2. **Hash**: 32-bit FNV-1a over the package's UTF-8 bytes (offset basis 2166136261, prime 16777619, arithmetic
///    modulo 2^32).
/// 3. **Colour**: `palette[hash % palette.count]`.
///
/// The root (`total`) and the synthetic `other` frames are drawn in `neutral` / `otherColor`, not by package.
public enum PackageColor {
    /// 24 light colours, hues 15° apart in a scattered order, light enough for black text.
    public static let palette: [RGB] = [
        RGB(231, 106, 106), RGB(165, 236, 141), RGB(106, 168, 231), RGB(236, 141, 213), RGB(231, 231, 106),
        RGB(141, 236, 213), RGB(168, 106, 231), RGB(236, 165, 141), RGB(106, 231, 106), RGB(141, 165, 236),
        RGB(231, 106, 168), RGB(213, 236, 141), RGB(106, 231, 231), RGB(213, 141, 236), RGB(231, 168, 106),
        RGB(141, 236, 165), RGB(106, 106, 231), RGB(236, 141, 165), RGB(168, 231, 106), RGB(141, 213, 236),
        RGB(196, 176, 130), RGB(236, 213, 141), RGB(106, 231, 168), RGB(165, 141, 236),
    ]
    /// The root frame.
    public static let neutral = RGB(200, 200, 200)
    /// The synthetic `other` frames (children merged by truncation).
    public static let otherColor = RGB(220, 220, 220)

    /// The colour of a frame name: its package, hashed to the palette.
    public static func color(of name: String) -> RGB {
        palette[Int(fnv1a32(packageName(of: name)) % UInt32(palette.count))]
    }

    /// 32-bit FNV-1a of the UTF-8 bytes.
    public static func fnv1a32(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    /// The package of a frame name, by the rules above.
    public static func packageName(of name: String) -> String {
        String(decoding: package(Array(name.utf8)), as: UTF8.self)
    }

    /// Rules 1.1 to 1.8 on UTF-8 bytes (every separator is ASCII, so byte positions are safe to cut at).
    static func package(_ name: [UInt8]) -> [UInt8] {
        var s = name[...]
        // 1.1 Ruby block prefixes.
        if s.starts(with: Self.block) || s.starts(with: Self.rescueIn) || s.starts(with: Self.ensureIn),
            let i = find(Self.spaceIn, in: s)
        {
            s = s[(i + Self.spaceIn.count)...]
        }
        // 1.2 Script files.
        if let file = scriptFile(s) {
            if let i = findLast(Self.nodeModules, in: file) {
                let rest = file[(i + Self.nodeModules.count)...]
                let parts = rest.split(separator: slash, maxSplits: 2, omittingEmptySubsequences: false)
                if rest.first == UInt8(ascii: "@"), parts.count >= 2 { return Array(parts[0]) + [slash] + Array(parts[1]) }
                return Array(parts.first ?? rest)
            }
            var path = file[..<(file.lastIndex(of: dot) ?? file.endIndex)]
            if path.starts(with: [dot, slash]) { path = path.dropFirst(2) }
            return Array(path)
        }
        // 1.3 The head.
        if s.first == UInt8(ascii: "<") { s = s.dropFirst() }
        var head = s[..<(s.firstIndex { $0 == UInt8(ascii: "(") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: "[") } ?? s.endIndex)]
        if let space = head.lastIndex(of: UInt8(ascii: " ")) { head = head[(space + 1)...] }
        if head.starts(with: Array("0x".utf8)) { return [] }
        // 1.4 `::`
        if let i = find(Self.colons, in: head) { return Array(head[..<i]) }
        // 1.5 `#`
        if let i = head.firstIndex(of: UInt8(ascii: "#")) { return Array(head[..<i]) }
        // 1.6 `/`
        if let i = head.lastIndex(of: slash) {
            let tail = head[(i + 1)...]
            if let first = tail.first, isCapital(first) { return head[..<i].map { $0 == slash ? dot : $0 } }
            return Array(head[..<(tail.firstIndex(of: dot) ?? head.endIndex)])
        }
        // 1.7 `.`
        if head.contains(dot) {
            let segments = head.split(separator: dot, omittingEmptySubsequences: false)
            func capital(_ segment: ArraySlice<UInt8>) -> Bool { segment.first.map(isCapital) ?? false }
            let keep: Int
            if capital(segments[0]) {
                keep = segments.count < 3 ? 1 : segments.count - 2
            } else if let i = segments.indices.dropFirst().first(where: { capital(segments[$0]) }) {
                keep = i
            } else {
                keep = 1
            }
            return Array(segments[..<keep].joined(separator: [dot]))
        }
        // 1.8
        return Array(head)
    }

    private static let dot = UInt8(ascii: ".")
    private static let slash = UInt8(ascii: "/")
    private static let block = Array("block ".utf8)
    private static let rescueIn = Array("rescue in ".utf8)
    private static let ensureIn = Array("ensure in ".utf8)
    private static let spaceIn = Array(" in ".utf8)
    private static let nodeModules = Array("node_modules/".utf8)
    private static let colons = Array("::".utf8)
    private static let scriptExtensions = [".py", ".rb", ".php", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx"].map { Array($0.utf8) }

    private static func isCapital(_ b: UInt8) -> Bool { b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") }

    /// Whether `needle` occurs in `s` at position `i`.
    private static func matches(_ needle: [UInt8], in s: ArraySlice<UInt8>, at i: Int) -> Bool {
        guard i + needle.count <= s.endIndex else { return false }
        for k in 0 ..< needle.count where s[i + k] != needle[k] { return false }
        return true
    }

    /// The first position of `needle` in `s`.
    private static func find(_ needle: [UInt8], in s: ArraySlice<UInt8>) -> Int? {
        var i = s.startIndex
        while i + needle.count <= s.endIndex {
            if s[i] == needle[0] && matches(needle, in: s, at: i) { return i }
            i += 1
        }
        return nil
    }

    /// The last position of `needle` in `s`.
    private static func findLast(_ needle: [UInt8], in s: ArraySlice<UInt8>) -> Int? {
        var i = s.endIndex - needle.count
        while i >= s.startIndex {
            if s[i] == needle[0] && matches(needle, in: s, at: i) { return i }
            i -= 1
        }
        return nil
    }

    /// The script file path that a name starts with (rule 1.2): up to the first extension followed by `:`, a space
    /// or the end. (At one position at most one extension can be so followed, and a later position ends later.)
    private static func scriptFile(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == dot {
                for ext in scriptExtensions where matches(ext, in: s, at: i) {
                    let end = i + ext.count
                    if end == s.endIndex || s[end] == UInt8(ascii: ":") || s[end] == UInt8(ascii: " ") { return s[..<end] }
                }
            }
            i += 1
        }
        return nil
    }
}

/// Diff colours by the relative change in share, as Grafana's flame graph draws a diff.
///
/// A frame's share of each side is its value over that side's total (0 when the total is 0). The change is
/// `(right share − left share) / left share × 100`, or +100 when the left share is 0 and the right is not (new),
/// 0 when both are 0; then clamped to −100…+100. Colours interpolate linearly per channel from green
/// rgb(0,170,0) at −100 through grey rgb(148,142,142) at 0 to red rgb(200,0,0) at +100, each channel rounded
/// half up: `round(a + (b − a) × f)`, with `f = (change + 100) / 100` below 0 and `f = change / 100` above.
public enum DiffColor {
    public static let shrunk = RGB(0, 170, 0)
    public static let unchanged = RGB(148, 142, 142)
    public static let grown = RGB(200, 0, 0)

    /// The relative change in share in percent, clamped to −100…+100.
    public static func change(left: Int64, leftTotal: Int64, right: Int64, rightTotal: Int64) -> Double {
        let a = leftTotal == 0 ? 0 : Double(left) / Double(leftTotal)
        let b = rightTotal == 0 ? 0 : Double(right) / Double(rightTotal)
        let c: Double = a == 0 ? (b == 0 ? 0 : 100) : (b - a) / a * 100
        return min(100, max(-100, c))
    }

    /// The colour of a relative change in percent (−100…+100).
    public static func color(change: Double) -> RGB {
        let c = min(100, max(-100, change.isNaN ? 0 : change))
        let (from, to, f) = c < 0 ? (shrunk, unchanged, (c + 100) / 100) : (unchanged, grown, c / 100)
        func channel(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8(max(0, min(255, (Double(a) + (Double(b) - Double(a)) * f + 0.5).rounded(.down))))
        }
        return RGB(channel(from.r, to.r), channel(from.g, to.g), channel(from.b, to.b))
    }
}
