import FlameDiff

/// Formats a value in its unit the way `go tool pprof` does (see `NumberText.value`).
func formatValue(_ value: Int64, unit: String) -> String { NumberText.value(value, unit: unit) }

func percent(_ value: Int64, of total: Int64) -> String {
    guard total != 0 else { return "0%" }
    return NumberText.fixed(100 * Double(value) / Double(total), places: 2) + "%"
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}
