/// Thompson's simulation of the NFA (a Pike VM without captures): every thread advances in lock step
/// over the text, at most one thread per instruction, so the work is O(text length × program size) and
/// no input can make it backtrack.
///
/// The text is UTF-8 and decoded as Go decodes it: each invalid byte reads as one U+FFFD.
extension Program {
    func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        if !requiredBytes.isEmpty && !Self.contains(text, requiredBytes) { return false }
        let m = insts.count
        // visited[pc] == position + 1 once pc is on the list for that position; then the two lists and
        // the closure's stack. Each holds every pc at most once.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * m) { scratch in
            scratch.initialize(repeating: 0)
            let visited = UnsafeMutableBufferPointer(rebasing: scratch[0..<m])
            var current = UnsafeMutableBufferPointer(rebasing: scratch[m..<2 * m])
            var next = UnsafeMutableBufferPointer(rebasing: scratch[2 * m..<3 * m])
            let stack = UnsafeMutableBufferPointer(rebasing: scratch[3 * m..<4 * m])
            return insts.withUnsafeBufferPointer { insts in
                var runner = Runner(
                    insts: insts, classes: classes, visited: visited, stack: stack, hasAssertions: hasAssertions)
                return runner.run(
                    text, start: Int(start), anchored: anchoredStart, firstBytes: firstBytes,
                    current: &current, next: &next)
            }
        }
    }

    /// Whether `needle` (not empty) occurs in `text`: compare at each occurrence of its first byte.
    private static func contains(_ text: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        let k = needle.count
        guard text.count >= k else { return false }
        return needle.withUnsafeBufferPointer { needle in
            let first = needle[0]
            var i = 0
            let last = text.count - k
            while i <= last {
                if text[i] == first {
                    var j = 1
                    while j < k && text[i + j] == needle[j] { j += 1 }
                    if j == k { return true }
                }
                i += 1
            }
            return false
        }
    }
}

private struct Runner {
    let insts: UnsafeBufferPointer<Program.Inst>
    let classes: [CharClass]
    let visited: UnsafeMutableBufferPointer<Int>
    let stack: UnsafeMutableBufferPointer<Int>
    let hasAssertions: Bool

    mutating func run(
        _ text: UnsafeBufferPointer<UInt8>, start: Int, anchored: Bool, firstBytes: FirstBytes?,
        current: inout UnsafeMutableBufferPointer<Int>, next: inout UnsafeMutableBufferPointer<Int>
    ) -> Bool {
        let n = text.count
        var currentCount = 0
        var pos = 0
        var previous: Int32 = -1
        var (scalar, width) = decode(text, at: 0)
        while true {
            if currentCount == 0 {
                if anchored && pos > 0 { return false }
                if let firstBytes, pos < n, !firstBytes.contains(text[pos]) {
                    // No thread alive and no match can start here: skip to a byte one can start with.
                    // Such bytes are never continuation bytes, so they start a scalar.
                    pos += 1
                    while pos < n && !firstBytes.contains(text[pos]) { pos += 1 }
                    if pos == n { return false }  // a match must consume a scalar
                    previous = 0  // unknown, and unused: the start's closure has no assertion
                    (scalar, width) = decode(text, at: pos)
                }
            }
            if !anchored || pos == 0 {
                let here = hasAssertions ? Assertion.at(previous: previous, next: scalar) : []
                if add(start, to: current, count: &currentCount, generation: pos + 1, context: here) { return true }
            }
            if scalar < 0 { return false }
            let after = pos + width
            let (following, followingWidth) = decode(text, at: after)
            let there = hasAssertions ? Assertion.at(previous: scalar, next: following) : []
            var nextCount = 0
            for k in 0..<currentCount {
                let inst = insts[current[k]]
                let consumed: Bool
                switch inst.op {
                case .scalar: consumed = inst.arg == scalar
                case .charClass: consumed = classes[Int(inst.arg)].contains(UInt32(bitPattern: scalar))
                case .anyChar: consumed = true
                case .anyCharNotNewline: consumed = scalar != 0x0A
                default: consumed = false
                }
                if consumed
                    && add(Int(inst.out), to: next, count: &nextCount, generation: after + 1, context: there)
                {
                    return true
                }
            }
            swap(&current, &next)
            currentCount = nextCount
            previous = scalar
            pos = after
            scalar = following
            width = followingWidth
        }
    }

    /// Adds `pc` and everything reachable from it without consuming input to `list`; true when that
    /// reaches the match instruction.
    @inline(__always)
    private func add(
        _ pc: Int, to list: UnsafeMutableBufferPointer<Int>, count: inout Int, generation: Int, context: Assertion
    ) -> Bool {
        if visited[pc] == generation { return false }
        visited[pc] = generation
        var depth = 1
        stack[0] = pc
        while depth > 0 {
            depth -= 1
            let pc = stack[depth]
            let inst = insts[pc]
            func follow(_ target: Int32) {
                let t = Int(target)
                if visited[t] != generation {
                    visited[t] = generation
                    stack[depth] = t
                    depth += 1
                }
            }
            switch inst.op {
            case .scalar, .charClass, .anyChar, .anyCharNotNewline:
                list[count] = pc
                count += 1
            case .split:
                follow(inst.arg)
                follow(inst.out)
            case .nop:
                follow(inst.out)
            case .assertion:
                if context.rawValue & UInt8(truncatingIfNeeded: inst.arg) != 0 { follow(inst.out) }
            case .match:
                return true
            case .fail:
                break
            }
        }
        return false
    }
}

/// The scalar at `i` and its length in bytes, as Go's `utf8.DecodeRune`: an invalid or truncated sequence
/// is U+FFFD of length 1; (-1, 0) at the end.
@inline(__always)
func decode(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (Int32, Int) {
    let n = p.count
    guard i < n else { return (-1, 0) }
    let b0 = p[i]
    if b0 < 0x80 { return (Int32(b0), 1) }
    let invalid: (Int32, Int) = (0xFFFD, 1)
    @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Int32? {
        guard i + k < n else { return nil }
        let b = p[i + k]
        return b >= lo && b <= hi ? Int32(b & 0x3F) : nil
    }
    switch b0 {
    case 0xC2...0xDF:
        guard let c1 = cont(1) else { return invalid }
        return (Int32(b0 & 0x1F) << 6 | c1, 2)
    case 0xE0...0xEF:
        let lo: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
        let hi: UInt8 = b0 == 0xED ? 0x9F : 0xBF
        guard let c1 = cont(1, lo, hi), let c2 = cont(2) else { return invalid }
        return (Int32(b0 & 0x0F) << 12 | c1 << 6 | c2, 3)
    case 0xF0...0xF4:
        let lo: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
        let hi: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
        guard let c1 = cont(1, lo, hi), let c2 = cont(2), let c3 = cont(3) else { return invalid }
        return (Int32(b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3, 4)
    default:
        return invalid
    }
}
