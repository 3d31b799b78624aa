import Foundation

/// Time expressions resolved to absolute milliseconds since the epoch against a given "now", so that a query
/// (and a cache key made from it) names absolute times.
///
/// Accepted: `now`; `now-<n><unit>` and `now+<n><unit>` with units `ms`, `s`, `m`, `h`, `d`, `w` (several terms
/// may follow each other: `now-1h30m`); RFC 3339 (`2026-01-01T10:00:00Z`, `…T10:00:00.250+02:00`, lower-case
/// `t`/`z` and a space for `T` too); and a bare integer of milliseconds since the epoch (what Grafana sends).
public enum PyroscopeTime {
    /// Milliseconds since the epoch of a system clock reading (the default "now").
    public static func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// One expression, resolved against `now` (ms since the epoch).
    public static func parse(_ text: String, now: Int64) throws(PyroscopeError) -> Int64 {
        let s = text.trimmingWhitespace()
        guard !s.isEmpty else { throw .invalidQuery("an empty time") }
        if s.lowercased() == "now" { return now }
        if s.lowercased().hasPrefix("now") { return try relative(Substring(s.dropFirst(3)), original: s, now: now) }
        if s.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let ms = Int64(s) else { throw .invalidQuery("'\(s)' is out of range") }
            return ms
        }
        if let ms = rfc3339(s) { return ms }
        throw .invalidQuery("'\(s)' is not a time: use now, now-1h, now-30m, an RFC 3339 time or milliseconds since the epoch")
    }

    private static func relative(_ rest: Substring, original: String, now: Int64) throws(PyroscopeError) -> Int64 {
        var rest = rest
        guard let sign = rest.first, sign == "-" || sign == "+" else {
            throw .invalidQuery("'\(original)' is not a relative time: use now-1h, now-30m, now+5m")
        }
        rest.removeFirst()
        var offset: Int64 = 0
        var terms = 0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let n = Int64(digits) else {
                throw .invalidQuery("'\(original)': expected a number after '\(sign)'")
            }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unitText.count)
            let unit: Int64
            switch unitText {
            case "ms": unit = 1
            case "s": unit = 1000
            case "m": unit = 60_000
            case "h": unit = 3_600_000
            case "d": unit = 86_400_000
            case "w": unit = 604_800_000
            default: throw .invalidQuery("'\(original)': unknown unit '\(unitText)' (use ms, s, m, h, d or w)")
            }
            let (product, o1) = n.multipliedReportingOverflow(by: unit)
            let (sum, o2) = offset.addingReportingOverflow(product)
            guard !o1, !o2 else { throw .invalidQuery("'\(original)' is out of range") }
            offset = sum
            terms += 1
        }
        guard terms > 0 else { throw .invalidQuery("'\(original)': expected a duration after '\(sign)'") }
        let (result, overflow) = sign == "-" ? now.subtractingReportingOverflow(offset) : now.addingReportingOverflow(offset)
        guard !overflow else { throw .invalidQuery("'\(original)' is out of range") }
        return result
    }

    /// RFC 3339 `date-time` in milliseconds (fractions past milliseconds are cut), or nil.
    static func rfc3339(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        func number(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in from ..< from + count {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20,
            let year = number(0, 4), b[4] == UInt8(ascii: "-"), let month = number(5, 2), b[7] == UInt8(ascii: "-"),
            let day = number(8, 2), [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(b[10]),
            let hour = number(11, 2), b[13] == UInt8(ascii: ":"), let minute = number(14, 2), b[16] == UInt8(ascii: ":"),
            let second = number(17, 2)
        else { return nil }
        guard (1 ... 12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month), hour <= 23, minute <= 59,
            second <= 60
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            guard i > start else { return nil }
            for (k, j) in (start ..< min(i, start + 3)).enumerated() { millis += Int64(b[j] - 48) * [100, 10, 1][k] }
        }
        guard i < b.count else { return nil }
        var offsetMinutes: Int64 = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let oh = number(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let om = number(i + 4, 2), oh <= 23, om <= 59
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetMinutes * 60
        return seconds * 1000 + millis
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// An absolute time range in milliseconds since the epoch.
public struct PyroscopeTimeRange: Sendable, Hashable, CustomStringConvertible {
    public var start: Int64
    public var end: Int64

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// `from` and `to` as `PyroscopeTime` expressions, both against the same `now`; start must precede end.
    public static func resolve(from: String, to: String = "now", now: Int64) throws(PyroscopeError) -> PyroscopeTimeRange {
        let range = PyroscopeTimeRange(start: try PyroscopeTime.parse(from, now: now), end: try PyroscopeTime.parse(to, now: now))
        guard range.start < range.end else {
            throw .invalidQuery("the time range is empty: '\(from)' resolves to \(range.start) ms, not before '\(to)' at \(range.end) ms")
        }
        return range
    }

    /// The same window moved by `milliseconds` (negative: into the past).
    public func shifted(by milliseconds: Int64) -> PyroscopeTimeRange {
        PyroscopeTimeRange(start: start + milliseconds, end: end + milliseconds)
    }

    public var description: String { "[\(start), \(end)] ms" }
}

/// What to compare a window with: the same window a day or a week earlier.
public enum PyroscopeDiffPreset: String, Sendable, CaseIterable {
    case yesterday
    case lastWeek = "last-week"

    /// By its CLI name: `yesterday`, `last-week` (also `lastWeek`, `last_week`).
    public init?(name: String) {
        switch name.lowercased() {
        case "yesterday": self = .yesterday
        case "last-week", "lastweek", "last_week": self = .lastWeek
        default: return nil
        }
    }

    public var offsetMilliseconds: Int64 {
        switch self {
        case .yesterday: return 86_400_000
        case .lastWeek: return 7 * 86_400_000
        }
    }

    /// The earlier window: `range` moved back by a day or a week (the baseline of a diff whose comparison is `range`).
    public func baseline(for range: PyroscopeTimeRange) -> PyroscopeTimeRange { range.shifted(by: -offsetMilliseconds) }
}
