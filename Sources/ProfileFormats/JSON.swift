/// A parsed JSON value. Arrays made only of numbers (samples, timeDeltas, weights) are kept as `[Double]`, a
/// twentieth of the memory of boxed values.
enum JSON {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case numbers([Double])
    case object([(key: String, value: JSON)])

    /// The member `key` of an object (the last one when repeated, as JavaScript reads it).
    subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    var isNull: Bool { if case .null = self { return true } else { return false } }

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array, .numbers: return "an array"
        case .object: return "an object"
        }
    }

    var double: Double? { if case .number(let d) = self { return d } else { return nil } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }

    /// An integral number that fits in Int64.
    var int: Int64? { double.flatMap(JSON.integer) }

    static func integer(_ d: Double) -> Int64? {
        guard d.isFinite, d == d.rounded(), d >= -9.223372036854775e18, d <= 9.223372036854775e18 else { return nil }
        return Int64(d)
    }

    /// Number of elements of an array (either representation), nil for other values.
    var count: Int? {
        switch self {
        case .array(let a): return a.count
        case .numbers(let n): return n.count
        default: return nil
        }
    }
}

/// An iterative JSON parser (RFC 8259): no recursion, so nesting depth costs heap, not stack, and is capped by
/// `maxDepth`.
struct JSONParser {
    private let bytes: Bytes
    private let format: ProfileFormat
    private let maxDepth: Int
    private var i = 0

    init(_ bytes: Bytes, format: ProfileFormat, maxDepth: Int) {
        self.bytes = bytes
        self.format = format
        self.maxDepth = maxDepth
    }

    private enum Kind { case array, numbers, object }

    private func fail(_ reason: String, at offset: Int? = nil) -> ProfileFormatError {
        .malformed(format: format, location: "byte \(offset ?? i)", reason: "invalid JSON: \(reason)")
    }

    mutating func parse() throws(ProfileFormatError) -> JSON {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
        var kinds: [Kind] = []
        var arrays: [[JSON]] = []
        var numberArrays: [[Double]] = []
        var objects: [[(key: String, value: JSON)]] = []
        var keys: [String] = []

        while true {
            // A value starts here.
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of input") }
            var value: JSON
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                skipSpace()
                if i < bytes.count && bytes[i] == UInt8(ascii: "}") {
                    i += 1
                    value = .object([])
                } else {
                    if kinds.count >= maxDepth {
                        throw .limitExceeded(format: format, what: "JSON nested deeper than \(maxDepth) levels", limit: maxDepth)
                    }
                    kinds.append(.object)
                    objects.append([])
                    keys.append(try key())
                    continue
                }
            case UInt8(ascii: "["):
                i += 1
                skipSpace()
                if i < bytes.count && bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    value = .array([])
                } else {
                    if kinds.count >= maxDepth {
                        throw .limitExceeded(format: format, what: "JSON nested deeper than \(maxDepth) levels", limit: maxDepth)
                    }
                    if i < bytes.count && (bytes[i] == UInt8(ascii: "-") || isDigit(bytes[i])) {
                        kinds.append(.numbers)
                        numberArrays.append([])
                    } else {
                        kinds.append(.array)
                        arrays.append([])
                    }
                    continue
                }
            case UInt8(ascii: "\""):
                value = .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = .number(try number())
            default:
                throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[i])))'")
            }

            // Attach the value to its container; close containers as their brackets come.
            while true {
                guard let kind = kinds.last else {
                    skipSpace()
                    if i != bytes.count { throw fail("unexpected data after the JSON value") }
                    return value
                }
                switch kind {
                case .array:
                    arrays[arrays.count - 1].append(value)
                case .numbers:
                    if case .number(let d) = value {
                        numberArrays[numberArrays.count - 1].append(d)
                    } else {
                        // Not only numbers after all: box what was read.
                        let numbers = numberArrays.removeLast()
                        var boxed = numbers.map { JSON.number($0) }
                        boxed.append(value)
                        arrays.append(boxed)
                        kinds[kinds.count - 1] = .array
                    }
                case .object:
                    objects[objects.count - 1].append((keys.removeLast(), value))
                }
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of input") }
                let c = bytes[i]
                if c == UInt8(ascii: ",") {
                    i += 1
                    if kinds.last == .object { keys.append(try key()) }
                    break
                }
                let closing: UInt8 = kinds.last == .object ? UInt8(ascii: "}") : UInt8(ascii: "]")
                guard c == closing else {
                    throw fail("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
                }
                i += 1
                switch kinds.removeLast() {
                case .array: value = .array(arrays.removeLast())
                case .numbers: value = .numbers(numberArrays.removeLast())
                case .object: value = .object(objects.removeLast())
                }
            }
        }
    }

    private mutating func skipSpace() {
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { i += 1 } else { return }
        }
    }

    /// An object key and the colon after it.
    private mutating func key() throws(ProfileFormatError) -> String {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
        let k = try string()
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
        i += 1
        return k
    }

    private mutating func literal(_ word: StaticString) throws(ProfileFormatError) {
        let n = word.utf8CodeUnitCount
        guard bytes.hasPrefix(word, in: i..<bytes.count) else { throw fail("invalid literal") }
        i += n
    }

    private mutating func number() throws(ProfileFormatError) -> Double {
        let start = i
        var integer = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw fail("invalid number", at: start) }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < bytes.count && isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
            integer = false
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("invalid number", at: start) }
            while i < bytes.count && isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            integer = false
            i += 1
            if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("invalid number", at: start) }
            while i < bytes.count && isDigit(bytes[i]) { i += 1 }
        }
        let digits = i - start
        if integer && digits <= 16 {
            // Exact: at most 15 digits plus a sign fit in 2^53.
            let negative = bytes[start] == UInt8(ascii: "-")
            var v: Int64 = 0
            for k in (negative ? start + 1 : start)..<i { v = v * 10 + Int64(bytes[k] - 0x30) }
            return Double(negative ? -v : v)
        }
        guard let d = Double(bytes.string(start..<i)), d.isFinite else {
            throw fail("number out of range", at: start)
        }
        return d
    }

    private mutating func string() throws(ProfileFormatError) -> String {
        let start = i
        i += 1  // opening quote
        let contentStart = i
        // Fast path: no escapes.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let s = bytes.string(contentStart..<i)
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character in a string") }
            i += 1
        }
        guard i < bytes.count else { throw fail("unterminated string", at: start) }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[contentStart..<i]))
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw fail("control character in a string") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate: a low one must follow to make a character.
                    if i + 1 < bytes.count && bytes[i] == UInt8(ascii: "\\") && bytes[i + 1] == UInt8(ascii: "u") {
                        let save = i
                        i += 2
                        let low = try hex4()
                        if low >= 0xDC00 && low < 0xE000 {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            i = save
                            scalar = 0xFFFD
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    scalar = 0xFFFD
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default:
                throw fail("invalid escape in a string", at: i - 2)
            }
        }
        throw fail("unterminated string", at: start)
    }

    private mutating func hex4() throws(ProfileFormatError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = hexValue(bytes[i + k]) else { throw fail("invalid \\u escape") }
            v = v << 4 | UInt32(d)
        }
        i += 4
        return v
    }
}

/// The keys of the top-level object of a JSON text, found without building values (for detection).
/// nil when the text does not start with `{` or breaks off before the object closes within `limit` bytes.
func topLevelJSONKeys(_ bytes: Bytes, limit: Int = 1 << 26) -> Set<String>? {
    var i = 0
    if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
    while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09) { i += 1 }
    guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return nil }
    var keys: Set<String> = []
    var depth = 0
    var expectKey = false
    let end = min(bytes.count, limit)
    while i < end {
        let b = bytes[i]
        switch b {
        case UInt8(ascii: "\""):
            let s = i + 1
            i += 1
            while i < end && bytes[i] != UInt8(ascii: "\"") {
                if bytes[i] == UInt8(ascii: "\\") { i += 1 }
                i += 1
            }
            if depth == 1 && expectKey && i <= end { keys.insert(bytes.string(s..<min(i, end))) }
            expectKey = false
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            expectKey = b == UInt8(ascii: "{")
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            depth -= 1
            if depth == 0 { return keys }
        case UInt8(ascii: ","):
            expectKey = depth == 1 ? true : expectKey
        default:
            break
        }
        i += 1
    }
    // Cut off: what was seen is still a good guess when the input is long.
    return keys.isEmpty ? nil : keys
}
