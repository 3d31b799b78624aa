import ProtoPprof

/// Folded (collapsed) stacks: one call path per line, frames root first separated by `;`, then a space and a
/// non-negative integer count: `main;work;strlen 42`.
///
/// Rules:
/// - The count is the last space-separated token; everything before it (spaces included) is the stack, so frame
///   names may contain spaces (`std::vector<int, std::allocator<int> >::push_back`, `<module> (app.py:3)`).
/// - Blank lines and lines starting with `#` are skipped. A line with nothing before the count (py-spy writes
///   ` 180` for samples without Python frames) is a sample with an empty stack: it counts in the total, under no
///   function. Empty frames (`a;;b`) are skipped.
/// - py-spy's frame form `name (file:line)` is split into function `name` in `file` at `line` (a `.py` file's
///   function named with its module: `PythonNames`), so py-spy's raw and
///   speedscope outputs of one run name the same functions; other frames are function names as they are.
/// - Lines with the same stack add up. Sample type `samples/count` (the counts of stackcollapse, py-spy and
///   async-profiler are sample counts); the total must fit in Int64.
enum FoldedReader {
    static func read(_ bytes: Bytes, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        var builder = ProfileBuilder(format: .folded, limits: limits)
        builder.sampleTypes = [ValueType(type: "samples", unit: "count")]
        builder.periodType = ValueType(type: "samples", unit: "count")
        builder.period = 1
        var frameLocations: [ByteKey: Int32] = [:]
        var scanner = LineScanner(bytes, format: .folded, maxLineBytes: limits.maxLineBytes)
        var value: [Int64] = [0]
        while let raw = try scanner.next() {
            let line = bytes.trimmed(raw)
            if line.isEmpty || bytes[line.lowerBound] == UInt8(ascii: "#") { continue }
            let where_ = "line \(scanner.number)"
            // The count: the last token.
            var countStart = line.upperBound
            while countStart > line.lowerBound && !isSpace(bytes[countStart - 1]) { countStart -= 1 }
            let countRange = countStart..<line.upperBound
            switch bytes.decimal(countRange) {
            case .value(let v):
                value[0] = v
            case .overflow:
                throw .overflow(format: .folded, sampleType: "samples/count", location: where_)
            case .invalid:
                throw .malformed(
                    format: .folded, location: where_,
                    reason: "expected 'frame;frame;... count' ending in a non-negative integer count, found '\(preview(bytes, countRange))'"
                )
            }
            try builder.countRecord(at: where_)
            var stackEnd = countStart
            while stackEnd > line.lowerBound && isSpace(bytes[stackEnd - 1]) { stackEnd -= 1 }
            var node = ProfileBuilder.emptyStack
            var frameStart = line.lowerBound
            while frameStart <= stackEnd {
                let frameEnd = bytes.firstIndex(of: UInt8(ascii: ";"), in: frameStart..<stackEnd) ?? stackEnd
                let frame = frameStart..<frameEnd
                if !frame.isEmpty {
                    let key = ByteKey(bytes, frame)
                    let location: Int32
                    if let known = frameLocations[key] {
                        location = known
                    } else {
                        location = Self.location(of: frame, in: bytes, builder: &builder)
                        frameLocations[key] = location
                    }
                    node = try builder.push(node, location, at: where_)
                }
                frameStart = frameEnd + 1
            }
            try builder.addSample(stack: node, values: value, at: where_)
        }
        return try builder.build()
    }

    /// A frame's location: py-spy's `name (file:line)` split up, anything else a function of that name.
    private static func location(of frame: Range<Int>, in bytes: Bytes, builder: inout ProfileBuilder) -> Int32 {
        if let (name, file, line) = splitPySpyFrame(frame, in: bytes) {
            let fileName = bytes.string(file)
            let f = builder.function(name: PythonNames.qualified(bytes.string(name), file: fileName), file: fileName)
            return builder.location(function: f, line: line)
        }
        return builder.location(function: builder.function(name: bytes.string(frame)))
    }

    /// `name (file:line)` → (name, file, line), else nil.
    static func splitPySpyFrame(_ frame: Range<Int>, in bytes: Bytes) -> (Range<Int>, Range<Int>, Int64)? {
        guard frame.count > 5, bytes[frame.upperBound - 1] == UInt8(ascii: ")") else { return nil }
        let inner = frame.lowerBound..<frame.upperBound - 1
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":"), in: inner),
            case .value(let line) = bytes.decimal(colon + 1..<inner.upperBound)
        else { return nil }
        // The " (" that opens the file part: the last one before the colon.
        var open = colon
        while open > frame.lowerBound + 1 {
            open -= 1
            if bytes[open] == UInt8(ascii: "(") && bytes[open - 1] == UInt8(ascii: " ") { break }
        }
        guard open > frame.lowerBound + 1, bytes[open] == UInt8(ascii: "("), bytes[open - 1] == UInt8(ascii: " "),
            open + 1 < colon
        else { return nil }
        return (frame.lowerBound..<open - 1, open + 1..<colon, line)
    }

    /// Whether the first significant lines are folded stacks: each ends in a space and an integer, and at least one
    /// has a stack before it.
    static func looksLike(_ bytes: Bytes, lines: [Range<Int>]) -> Bool {
        var stacks = 0
        for raw in lines {
            let line = bytes.trimmed(raw)
            if line.isEmpty || bytes[line.lowerBound] == UInt8(ascii: "#") { continue }
            var countStart = line.upperBound
            while countStart > line.lowerBound && !isSpace(bytes[countStart - 1]) { countStart -= 1 }
            if bytes.decimal(countStart..<line.upperBound) == .invalid { return false }
            if countStart > line.lowerBound { stacks += 1 }
        }
        return stacks > 0
    }
}

/// A short, printable excerpt of the input for error messages.
func preview(_ bytes: Bytes, _ r: Range<Int>) -> String {
    let cut = r.lowerBound..<min(r.upperBound, r.lowerBound + 40)
    var s = bytes.string(cut).unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined()
    if cut.count < r.count { s += "…" }
    return s
}
