/// The parsed form of a pattern. Groups leave no node (captures are not reported); repetitions keep
/// their counts and are expanded by the compiler.
indirect enum Node: Sendable {
    case empty
    /// One Unicode scalar value.
    case literal(UInt32)
    /// An index into the parser's class table (shared by the copies a counted repetition makes).
    case charClass(Int)
    case anyChar
    case anyCharNotNewline
    case assertion(Assertion)
    case concat([Node])
    case alternate([Node])
    case star(Node)
    case plus(Node)
    case quest(Node)
    /// `{min,max}`; `max == nil` is unbounded.
    case `repeat`(Node, min: Int, max: Int?)
}

/// Empty-width assertions, as bits so that one context byte answers all of them at a position.
struct Assertion: OptionSet, Sendable {
    let rawValue: UInt8
    static let beginText = Assertion(rawValue: 1 << 0)  // \A, ^ without (?m)
    static let endText = Assertion(rawValue: 1 << 1)  // \z, $ without (?m)
    static let beginLine = Assertion(rawValue: 1 << 2)  // ^ with (?m)
    static let endLine = Assertion(rawValue: 1 << 3)  // $ with (?m)
    static let wordBoundary = Assertion(rawValue: 1 << 4)  // \b (ASCII word characters)
    static let noWordBoundary = Assertion(rawValue: 1 << 5)  // \B

    /// What holds between `previous` and `next` (scalar values, -1 for the start or end of the text).
    @inline(__always)
    static func at(previous: Int32, next: Int32) -> Assertion {
        var a: UInt8 = 0
        if previous < 0 {
            a |= beginText.rawValue | beginLine.rawValue
        } else if previous == 0x0A {
            a |= beginLine.rawValue
        }
        if next < 0 {
            a |= endText.rawValue | endLine.rawValue
        } else if next == 0x0A {
            a |= endLine.rawValue
        }
        a |= isWord(previous) != isWord(next) ? wordBoundary.rawValue : noWordBoundary.rawValue
        return Assertion(rawValue: a)
    }

    /// RE2's word characters for `\b`: ASCII `[0-9A-Za-z_]` only.
    @inline(__always)
    static func isWord(_ c: Int32) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }
}
