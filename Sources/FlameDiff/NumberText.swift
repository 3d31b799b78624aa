/// How values and shares are written, in tables, explanations and prompts alike (no Foundation).
public enum NumberText {
    /// A value in its unit the way `go tool pprof` writes it: nanoseconds scale to us/ms/s, bytes to kB/MB/GB,
    /// trailing zeros dropped; other units as plain integers.
    public static func value(_ value: Int64, unit: String) -> String {
        func scaled(_ v: Double, _ suffixes: [(Double, String)]) -> String {
            let a = abs(v)
            for (factor, suffix) in suffixes.reversed() where a >= factor {
                return trimmed(v / factor) + suffix
            }
            return trimmed(v) + (suffixes.first?.1 ?? "")
        }
        switch unit {
        case "nanoseconds":
            return value == 0 ? "0" : scaled(Double(value), [(1, "ns"), (1e3, "us"), (1e6, "ms"), (1e9, "s")])
        case "microseconds":
            return value == 0 ? "0" : scaled(Double(value), [(1, "us"), (1e3, "ms"), (1e6, "s")])
        case "bytes":
            return value == 0 ? "0" : scaled(Double(value), [(1, "B"), (1024, "kB"), (1024 * 1024, "MB"), (1024 * 1024 * 1024, "GB")])
        default:
            return String(value)
        }
    }

    /// `v` rounded to `places` decimals (0...6), always showing them: fixed(2.5, 2) is "2.50".
    public static func fixed(_ v: Double, places: Int) -> String {
        var scale: Int64 = 1
        for _ in 0 ..< places { scale *= 10 }
        let units = Int64((abs(v) * Double(scale)).rounded())
        let whole = units / scale
        var text = (v < 0 && units != 0 ? "-" : "") + "\(whole)"
        if places > 0 {
            let frac = String(units % scale)
            text += "." + String(repeating: "0", count: places - frac.count) + frac
        }
        return text
    }

    /// `fixed(v, 2)` without trailing zeros: 1.50 is "1.5", 2.00 is "2".
    public static func trimmed(_ v: Double) -> String {
        var s = fixed(v, places: 2)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A share of a total: "12.3%"; "<0.1%" when nonzero but below what one decimal shows.
    public static func share(_ v: Double) -> String {
        if v != 0 && abs(v) < 0.05 { return "<0.1%" }
        return fixed(v, places: 1) + "%"
    }

    /// A change in percentage points, always signed: "+1.25pp", "-0.50pp".
    public static func points(_ v: Double) -> String {
        (v < 0 ? "" : "+") + fixed(v, places: 2) + "pp"
    }
}
