/// How explanations write shares: one decimal for shares of a total, two for percentage-point deltas.
enum Percent {
    /// "12.3%", "<0.1%" for a small nonzero share, "0.0%" for none.
    static func share(_ v: Double) -> String {
        let tenths = Int((abs(v) * 10).rounded())
        if tenths == 0 { return v == 0 ? "0.0%" : "<0.1%" }
        return (v < 0 ? "-" : "") + "\(tenths / 10).\(tenths % 10)%"
    }

    /// "+1.25pp", "-0.50pp".
    static func points(_ v: Double) -> String {
        let hundredths = Int((abs(v) * 100).rounded())
        return (v < 0 ? "-" : "+") + "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)pp"
    }
}
