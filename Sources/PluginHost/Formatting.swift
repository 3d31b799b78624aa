import ProtoPprof

/// Formats a value in its unit the way `go tool pprof` does: nanoseconds scale to ms/s, bytes to kB/MB/GB.
func formatValue(_ value: Int64, unit: String) -> String {
    func scaled(_ v: Double, _ suffixes: [(Double, String)]) -> String {
        let a = abs(v)
        for (factor, suffix) in suffixes.reversed() where a >= factor {
            return trim(v / factor) + suffix
        }
        return trim(v) + (suffixes.first?.1 ?? "")
    }
    switch unit {
    case "nanoseconds":
        if value == 0 { return "0" }
        return scaled(Double(value), [(1, "ns"), (1e3, "us"), (1e6, "ms"), (1e9, "s")])
    case "microseconds":
        if value == 0 { return "0" }
        return scaled(Double(value), [(1, "us"), (1e3, "ms"), (1e6, "s")])
    case "bytes":
        if value == 0 { return "0" }
        return scaled(Double(value), [(1, "B"), (1024, "kB"), (1024 * 1024, "MB"), (1024 * 1024 * 1024, "GB")])
    default:
        return String(value)
    }
}

private func trim(_ v: Double) -> String {
    var s = String(format2: v)
    if s.contains(".") {
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
    }
    return s
}

extension String {
    /// `v` with two decimals, without Foundation.
    init(format2 v: Double) {
        let negative = v < 0
        let cents = Int64((abs(v) * 100).rounded())
        let whole = cents / 100
        let frac = cents % 100
        self = (negative ? "-" : "") + "\(whole)." + (frac < 10 ? "0" : "") + "\(frac)"
    }
}

func percent(_ value: Int64, of total: Int64) -> String {
    guard total != 0 else { return "0%" }
    let p = 100 * Double(value) / Double(total)
    return String(format2: p) + "%"
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}
