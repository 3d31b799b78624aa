/// The compiled NFA: Thompson's construction over Unicode scalars, one instruction per state.
struct Program: Sendable {
    enum Op: UInt8, Sendable {
        case scalar  // consume `arg`
        case charClass  // consume a scalar in classes[arg]
        case anyChar  // consume any scalar
        case anyCharNotNewline  // consume any scalar but \n
        case split  // continue at `out` and at `arg`
        case assertion  // continue at `out` if the Assertion bits in `arg` hold here
        case nop  // continue at `out`
        case match
        case fail  // an empty class: never matches
    }

    struct Inst: Sendable {
        var op: Op
        var out: Int32 = 0
        var arg: Int32 = 0
    }

    var insts: [Inst]
    var classes: [CharClass]
    var start: Int32
    /// Whether every match must start at the beginning of the text (`^…`, `\A…`).
    var anchoredStart = false
    /// The bytes a match can start with, when a match must start by consuming a scalar none of whose
    /// possible first bytes is a UTF-8 continuation byte or stands for U+FFFD; used to skip ahead while no
    /// thread is alive. `nil` when no such set is known.
    var firstBytes: FirstBytes? = nil
    /// UTF-8 bytes every match contains (the longest run of plain literals in the top-level sequence);
    /// a text without them is rejected before the simulation. Empty when there is no such run.
    var requiredBytes: [UInt8] = []
    /// Whether any instruction is an assertion (else the matcher need not work out what holds where).
    var hasAssertions = false
}

/// 256 bits.
struct FirstBytes: Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    mutating func insert(_ b: UInt8) {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    @inline(__always)
    func contains(_ b: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }
}

/// `Node` to `Program`. Counted repetitions are expanded (`x{2,4}` is `xx(x(x)?)?`), so the instruction
/// count is what limits the program; compilation stops as soon as it passes `limit`.
struct Compiler {
    /// A piece of program: where it starts and the `out` fields still to be pointed at what follows.
    private struct Fragment {
        var start: Int32
        var holes: [Hole]
    }

    private struct Hole {
        var pc: Int32
        var isArg: Bool  // the `arg` of a split rather than its `out`
    }

    private var insts: [Program.Inst] = []
    private let limit: Int

    private init(limit: Int) { self.limit = limit }

    static func compile(_ root: Node, classes: [CharClass], limit: Int) throws(LinearRegexError) -> Program {
        var c = Compiler(limit: limit)
        let body = try c.compile(root)
        let match = try c.emit(.init(op: .match))
        c.patch(body.holes, to: match)
        var program = Program(insts: c.insts, classes: classes, start: body.start)
        program.anchoredStart = Self.isAnchoredStart(program)
        program.firstBytes = Self.firstBytes(program)
        program.requiredBytes = Self.requiredBytes(root)
        program.hasAssertions = program.insts.contains { $0.op == .assertion }
        return program
    }

    private mutating func emit(_ inst: Program.Inst) throws(LinearRegexError) -> Int32 {
        if insts.count >= limit { throw .programTooLarge(limit: limit) }
        insts.append(inst)
        return Int32(insts.count - 1)
    }

    private mutating func patch(_ holes: [Hole], to target: Int32) {
        for h in holes {
            if h.isArg { insts[Int(h.pc)].arg = target } else { insts[Int(h.pc)].out = target }
        }
    }

    /// One instruction whose `out` is open.
    private mutating func single(_ inst: Program.Inst) throws(LinearRegexError) -> Fragment {
        let pc = try emit(inst)
        return Fragment(start: pc, holes: [Hole(pc: pc, isArg: false)])
    }

    private mutating func compile(_ node: Node) throws(LinearRegexError) -> Fragment {
        switch node {
        case .empty:
            return try single(.init(op: .nop))
        case .literal(let c):
            return try single(.init(op: .scalar, arg: Int32(bitPattern: c)))
        case .charClass(let index):
            return try single(.init(op: .charClass, arg: Int32(index)))
        case .anyChar:
            return try single(.init(op: .anyChar))
        case .anyCharNotNewline:
            return try single(.init(op: .anyCharNotNewline))
        case .assertion(let a):
            return try single(.init(op: .assertion, arg: Int32(a.rawValue)))
        case .concat(let subs):
            var first = try compile(subs[0])
            for sub in subs.dropFirst() {
                let next = try compile(sub)
                patch(first.holes, to: next.start)
                first.holes = next.holes
            }
            return first
        case .alternate(let subs):
            // split(a, split(b, c)) for a|b|c
            var last = try compile(subs[subs.count - 1])
            for sub in subs.dropLast().reversed() {
                let f = try compile(sub)
                let split = try emit(.init(op: .split, out: f.start, arg: last.start))
                last = Fragment(start: split, holes: f.holes + last.holes)
            }
            return last
        case .star(let sub):
            return try star(sub)
        case .plus(let sub):
            let f = try compile(sub)
            let split = try emit(.init(op: .split, out: f.start))
            patch(f.holes, to: split)
            return Fragment(start: f.start, holes: [Hole(pc: split, isArg: true)])
        case .quest(let sub):
            return try quest(sub)
        case .repeat(let sub, let min, let max):
            return try counted(sub, min: min, max: max)
        }
    }

    private mutating func star(_ sub: Node) throws(LinearRegexError) -> Fragment {
        let split = try emit(.init(op: .split))
        let f = try compile(sub)
        insts[Int(split)].out = f.start
        patch(f.holes, to: split)
        return Fragment(start: split, holes: [Hole(pc: split, isArg: true)])
    }

    private mutating func quest(_ sub: Node) throws(LinearRegexError) -> Fragment {
        let split = try emit(.init(op: .split))
        let f = try compile(sub)
        insts[Int(split)].out = f.start
        return Fragment(start: split, holes: f.holes + [Hole(pc: split, isArg: true)])
    }

    /// `x{min,max}`: `min` copies, then `x*` when unbounded or `max - min` nested optional copies.
    private mutating func counted(_ sub: Node, min: Int, max: Int?) throws(LinearRegexError) -> Fragment {
        var result: Fragment? = nil
        func append(_ f: Fragment) {
            if var r = result {
                patch(r.holes, to: f.start)
                r.holes = f.holes
                result = r
            } else {
                result = f
            }
        }
        for _ in 0..<min { append(try compile(sub)) }
        if let max {
            // (x(x(x)?)?)?: each optional copy's skip goes to the end.
            var skips: [Hole] = []
            for _ in min..<max {
                let split = try emit(.init(op: .split))
                let f = try compile(sub)
                insts[Int(split)].out = f.start
                append(Fragment(start: split, holes: f.holes))
                skips.append(Hole(pc: split, isArg: true))
            }
            if var r = result {
                r.holes += skips
                result = r
            }
        } else {
            append(try star(sub))
        }
        if let result { return result }
        return try single(.init(op: .nop))  // x{0}
    }

    // MARK: - Analysis for the matcher's shortcuts

    /// The instructions reachable from `start` without consuming input, stopping where `stop` says.
    private static func closure(_ p: Program, stop: (Program.Inst) -> Bool) -> [Int32] {
        var seen = Set<Int32>()
        var stack = [p.start]
        var reached: [Int32] = []
        while let pc = stack.popLast() {
            guard seen.insert(pc).inserted else { continue }
            let inst = p.insts[Int(pc)]
            if stop(inst) { continue }
            reached.append(pc)
            switch inst.op {
            case .split: stack += [inst.out, inst.arg]
            case .nop, .assertion: stack.append(inst.out)
            default: break
            }
        }
        return reached
    }

    /// True when no path from the start consumes input or matches before passing `\A` (or `^` without (?m)).
    private static func isAnchoredStart(_ p: Program) -> Bool {
        let beginText = Int32(Assertion.beginText.rawValue)
        return closure(p) { $0.op == .assertion && $0.arg == beginText }.allSatisfy { pc in
            switch p.insts[Int(pc)].op {
            case .split, .nop, .assertion, .fail: true
            default: false
            }
        }
    }

    /// The possible first bytes of a match, when the start's closure has no assertion and no match and
    /// every scalar it can consume first is known (not U+FFFD, which also stands for invalid bytes).
    private static func firstBytes(_ p: Program) -> FirstBytes? {
        var set = FirstBytes()
        for pc in closure(p, stop: { _ in false }) {
            let inst = p.insts[Int(pc)]
            switch inst.op {
            case .split, .nop, .fail:
                break
            case .assertion, .match, .anyChar, .anyCharNotNewline:
                return nil
            case .scalar:
                let c = UInt32(bitPattern: inst.arg)
                if c == 0xFFFD { return nil }
                if c <= CharClass.maxScalar && !(0xD800...0xDFFF).contains(c) { set.insert(leadByte(c)) }
            case .charClass:
                for r in p.classes[Int(inst.arg)].ranges {
                    if r.contains(0xFFFD) { return nil }
                    // Lead bytes grow with the scalar; continuation bytes (0x80...0xBF) never lead.
                    for b in leadByte(r.lowerBound)...leadByte(r.upperBound) where !(0x80...0xBF).contains(b) {
                        set.insert(b)
                    }
                }
            }
        }
        return set
    }

    /// The UTF-8 of the longest run of literals in the top-level concatenation. U+FFFD breaks a run (it
    /// also matches invalid bytes), and so does anything that is not a literal.
    private static func requiredBytes(_ root: Node) -> [UInt8] {
        let items: [Node]
        switch root {
        case .concat(let subs): items = subs
        case .literal: items = [root]
        default: return []
        }
        var best: [UInt8] = []
        var run: [UInt8] = []
        for item in items + [.empty] {
            if case .literal(let c) = item, c != 0xFFFD, let scalar = Unicode.Scalar(c) {
                run += Array(String(Character(scalar)).utf8)
            } else {
                if run.count > best.count { best = run }
                run = []
            }
        }
        return best
    }

    private static func leadByte(_ c: UInt32) -> UInt8 {
        switch c {
        case 0..<0x80: UInt8(c)
        case 0x80..<0x800: UInt8(0xC0 | (c >> 6))
        case 0x800..<0x10000: UInt8(0xE0 | (c >> 12))
        default: UInt8(0xF0 | (c >> 18))
        }
    }
}
