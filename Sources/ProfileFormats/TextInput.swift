#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

typealias Bytes = UnsafeBufferPointer<UInt8>

/// Lines of a text input, as byte ranges without the line break (`\n`, `\r\n`), each at most `maxLineBytes` long.
struct LineScanner {
    let bytes: Bytes
    let format: ProfileFormat
    let maxLineBytes: Int
    private(set) var position = 0
    /// 1-based number of the line last returned.
    private(set) var number = 0

    init(_ bytes: Bytes, format: ProfileFormat, maxLineBytes: Int) {
        self.bytes = bytes
        self.format = format
        self.maxLineBytes = maxLineBytes
    }

    var atEnd: Bool { position >= bytes.count }

    mutating func next() throws(ProfileFormatError) -> Range<Int>? {
        guard position < bytes.count, let base = bytes.baseAddress else { return nil }
        let start = position
        let end: Int
        if let hit = memchr(base + start, 0x0A, bytes.count - start) {
            end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            position = end + 1
        } else {
            end = bytes.count
            position = end
        }
        number += 1
        if end - start > maxLineBytes {
            throw .limitExceeded(format: format, what: "line \(number) is longer than \(maxLineBytes) bytes", limit: maxLineBytes)
        }
        var e = end
        if e > start && bytes[e - 1] == 0x0D { e -= 1 }
        return start..<e
    }

    /// The remaining bytes after the last line returned.
    var rest: Range<Int> { position..<bytes.count }
}

@inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C }
@inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
@inline(__always) func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x61...0x66: return b - 0x61 + 10
    case 0x41...0x46: return b - 0x41 + 10
    default: return nil
    }
}

extension Bytes {
    /// The range without leading and trailing white space.
    func trimmed(_ r: Range<Int>) -> Range<Int> {
        var a = r.lowerBound
        var b = r.upperBound
        while a < b && isSpace(self[a]) { a += 1 }
        while b > a && isSpace(self[b - 1]) { b -= 1 }
        return a..<b
    }

    func string(_ r: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: self[r]), as: UTF8.self)
    }

    func hasPrefix(_ prefix: StaticString, in r: Range<Int>) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard r.count >= n else { return false }
        let p = prefix.utf8Start
        for i in 0..<n where self[r.lowerBound + i] != p[i] { return false }
        return true
    }

    func equals(_ literal: StaticString, in r: Range<Int>) -> Bool {
        r.count == literal.utf8CodeUnitCount && hasPrefix(literal, in: r)
    }

    /// Whether `literal` occurs in `r`.
    func contains(_ literal: StaticString, in r: Range<Int>) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard n > 0 else { return true }
        guard r.count >= n, let base = baseAddress else { return false }
        let first = Int32(literal.utf8Start[0])
        var i = r.lowerBound
        let last = r.upperBound - n
        while i <= last {
            guard let hit = memchr(base + i, first, last - i + 1) else { return false }
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at, literal.utf8Start, n) == 0 { return true }
            i = at + 1
        }
        return false
    }

    /// Space-separated tokens of `r`.
    func tokens(_ r: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = r.lowerBound
        while i < r.upperBound {
            while i < r.upperBound && isSpace(self[i]) { i += 1 }
            let s = i
            while i < r.upperBound && !isSpace(self[i]) { i += 1 }
            if i > s { out.append(s..<i) }
        }
        return out
    }

    /// A non-negative decimal integer filling `r`; nil when `r` is not one, `.overflow` past Int64.
    func decimal(_ r: Range<Int>) -> DecimalParse {
        guard !r.isEmpty else { return .invalid }
        var v: Int64 = 0
        for i in r {
            let b = self[i]
            guard isDigit(b) else { return .invalid }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(b - 0x30))
            if o1 || o2 { return .overflow }
            v = s
        }
        return .value(v)
    }

    /// A decimal integer with an optional leading `-`.
    func signedDecimal(_ r: Range<Int>) -> DecimalParse {
        guard !r.isEmpty else { return .invalid }
        if self[r.lowerBound] == UInt8(ascii: "-") {
            switch decimal(r.lowerBound + 1..<r.upperBound) {
            case .value(let v): return .value(-v)
            case let other: return other
            }
        }
        return decimal(r)
    }

    /// A hexadecimal number filling `r`, with or without `0x`; nil when it is not one or exceeds 64 bits.
    func hex(_ r: Range<Int>) -> UInt64? {
        var a = r.lowerBound
        if r.count >= 2 && self[a] == 0x30 && (self[a + 1] == UInt8(ascii: "x") || self[a + 1] == UInt8(ascii: "X")) { a += 2 }
        guard a < r.upperBound else { return nil }
        var v: UInt64 = 0
        var significant = 0
        for i in a..<r.upperBound {
            guard let d = hexValue(self[i]) else { return nil }
            if significant > 0 || d != 0 { significant += 1 }
            if significant > 16 { return nil }
            v = v << 4 | UInt64(d)
        }
        return v
    }

    /// The first index of `byte` in `r`, or nil.
    func firstIndex(of byte: UInt8, in r: Range<Int>) -> Int? {
        var i = r.lowerBound
        while i < r.upperBound {
            if self[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// The last index of `byte` in `r`, or nil.
    func lastIndex(of byte: UInt8, in r: Range<Int>) -> Int? {
        var i = r.upperBound
        while i > r.lowerBound {
            i -= 1
            if self[i] == byte { return i }
        }
        return nil
    }

    /// Whether `r` looks like text: no NUL and no control bytes other than tab and carriage return.
    func isTextLine(_ r: Range<Int>) -> Bool {
        for i in r {
            let b = self[i]
            if b < 0x20 && b != 0x09 && b != 0x0D { return false }
            if b == 0x7F { return false }
        }
        return true
    }
}

enum DecimalParse: Equatable {
    case value(Int64)
    case overflow
    case invalid
}

/// A byte range of the input used as a dictionary key: hashed and compared by content. Valid only while the
/// input buffer it points into is.
struct ByteKey: Hashable {
    let base: UnsafePointer<UInt8>?
    let count: Int

    init(_ bytes: Bytes, _ r: Range<Int>) {
        base = bytes.baseAddress.map { $0 + r.lowerBound }
        count = r.count
    }

    static func == (a: ByteKey, b: ByteKey) -> Bool {
        guard a.count == b.count else { return false }
        if a.count == 0 { return true }
        return memcmp(a.base!, b.base!, a.count) == 0
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(bytes: UnsafeRawBufferPointer(start: base, count: count))
    }
}
