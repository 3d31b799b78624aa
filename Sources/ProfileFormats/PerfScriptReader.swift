import ProtoPprof

/// The text `perf script` prints for `perf record -g`: per sample a header line
/// `comm pid/tid [cpu] time: period event:` and then one frame per line, leaf first,
/// `<address> <symbol>+<offset> (<dso>)`, with a blank line between samples. Without `-g`, the one frame follows
/// the event on the header line.
///
/// Rules:
/// - Sample types: `samples/count` (every sample), then one per event in order of first appearance, named after
///   the event without its modifiers (`cpu-clock:ppp` → `cpu-clock`), valued by the sample's period:
///   `cpu-clock`/`task-clock` in `nanoseconds` (their period is time), every other event (`cycles`,
///   `instructions`, …) in `count`. A sample without a period counts 1. The default type is the first event.
/// - Symbols lose their `+0x…` offset. A known symbol is a function in its dso's mapping; an `[unknown]` symbol
///   is an unsymbolized location at its address in the dso's mapping, so it is named `0x… [dso]` (or `<unknown>`
///   when the dso is unknown too) exactly as pprof's own unsymbolized frames.
/// - Kernel frames (dso `[kernel.kallsyms]`, `[kernel.*]` or a `[…]` module dso with a kernel address, or an
///   unknown dso at an address in the upper half) get the suffix ` [kernel]` on their function name.
/// - Labels: `thread` = comm, numeric `pid` and `tid` (from `pid/tid`; a lone number, perf script's default, is the
///   tid), so `--include-label thread=…` works as for speedscope.
/// - Detection needs the time stamp (`123.456789:`), which perf script prints by default; output made with
///   `-F` without `time` is read when the format is given explicitly.
/// - Lines starting with `#` outside a stack are comments; lines under a frame that do not start with an address
///   (`--fields +srcline`) are skipped.
enum PerfScriptReader {
    private static func fail(_ line: Int, _ reason: String) -> ProfileFormatError {
        .malformed(format: .perfScript, location: "line \(line)", reason: reason)
    }

    struct Header {
        var comm: Range<Int>
        var pid: Int64?
        var tid: Int64?
        var period: Int64?
        var event: Range<Int>
        /// Whatever follows the event on the line (the frame, without -g).
        var rest: Range<Int>
    }

    struct Frame {
        var address: UInt64
        var symbol: Range<Int>
        var dso: Range<Int>?
    }

    private struct Record {
        var node: Int32
        var labelSet: Int32
        var event: Int32
        var period: Int64
        var line: Int
    }

    static func read(_ bytes: Bytes, limits: FormatLimits) throws(ProfileFormatError) -> Profile {
        var builder = ProfileBuilder(format: .perfScript, limits: limits)
        var scanner = LineScanner(bytes, format: .perfScript, maxLineBytes: limits.maxLineBytes)
        var events: [String] = []
        var eventIDs: [String: Int32] = [:]
        var eventHasPeriod: [Bool] = []
        var records: [Record] = []
        var frameLocations: [FrameKey: Int32] = [:]
        var mappings: [ByteKey: Int32] = [:]
        var labelSets: [LabelKey: Int32] = [:]

        var header: Header?
        var headerLine = 0
        var frames: [Frame] = []

        func location(_ f: Frame) -> Int32 {
            let key = FrameKey(address: f.address, symbol: ByteKey(bytes, f.symbol), dso: f.dso.map { ByteKey(bytes, $0) })
            if let l = frameLocations[key] { return l }
            var mapping: Int32 = -1
            var dsoName = ""
            // `(inlined)` marks a frame perf unwound from DWARF inline info: it has no mapping of its own.
            if let dso = f.dso, !bytes.equals("[unknown]", in: dso), !bytes.equals("inlined", in: dso) {
                dsoName = bytes.string(dso)
                let k = ByteKey(bytes, dso)
                if let m = mappings[k] {
                    mapping = m
                } else {
                    mapping = builder.mapping(file: dsoName, hasFunctions: true)
                    mappings[k] = mapping
                }
            }
            let l: Int32
            if bytes.equals("[unknown]", in: f.symbol) || f.symbol.isEmpty {
                l = builder.addressLocation(address: f.address, mapping: mapping)
            } else {
                var name = bytes.string(f.symbol)
                if isKernel(dso: dsoName, address: f.address) { name += " [kernel]" }
                let fn = builder.function(name: name, systemName: bytes.string(f.symbol), file: "")
                l = builder.location(function: fn, mapping: mapping, address: f.address)
            }
            frameLocations[key] = l
            return l
        }

        func finish() throws(ProfileFormatError) {
            guard let h = header else { return }
            defer {
                header = nil
                frames.removeAll(keepingCapacity: true)
            }
            let where_ = "line \(headerLine)"
            try builder.countRecord(at: where_)
            var node = ProfileBuilder.emptyStack
            for f in frames.reversed() {
                let l = location(f)
                node = try builder.push(node, l, at: where_)
            }
            let eventName = eventBase(bytes, h.event)
            let event: Int32
            if let e = eventIDs[eventName] {
                event = e
            } else {
                event = Int32(events.count)
                events.append(eventName)
                eventIDs[eventName] = event
                eventHasPeriod.append(h.period != nil)
            }
            let labelKey = LabelKey(comm: ByteKey(bytes, h.comm), pid: h.pid, tid: h.tid)
            let set: Int32
            if let s = labelSets[labelKey] {
                set = s
            } else {
                var numbers: [(String, Int64)] = []
                if let pid = h.pid { numbers.append(("pid", pid)) }
                if let tid = h.tid { numbers.append(("tid", tid)) }
                set = builder.labelSet(strings: [("thread", bytes.string(h.comm))], numbers: numbers)
                labelSets[labelKey] = set
            }
            records.append(Record(node: node, labelSet: set, event: event, period: h.period ?? 1, line: headerLine))
        }

        while let line = try scanner.next() {
            let t = bytes.trimmed(line)
            if t.isEmpty {
                try finish()
                continue
            }
            let indented = isSpace(bytes[line.lowerBound])
            if indented && header != nil {
                if let f = parseFrame(bytes, t) { frames.append(f) }
                continue
            }
            if bytes[t.lowerBound] == UInt8(ascii: "#") && header == nil { continue }
            // A new sample.
            try finish()
            guard let h = parseHeader(bytes, t) else {
                throw fail(scanner.number, "expected a sample header 'comm pid/tid time: period event:', found '\(preview(bytes, t))'")
            }
            header = h
            headerLine = scanner.number
            if !h.rest.isEmpty, let f = parseFrame(bytes, h.rest) { frames.append(f) }
        }
        try finish()

        // Sample types now that every event is known.
        builder.sampleTypes = [ValueType(type: "samples", unit: "count")]
        for (e, name) in events.enumerated() {
            let clock = name == "cpu-clock" || name == "task-clock"
            builder.sampleTypes.append(ValueType(type: name, unit: clock && eventHasPeriod[e] ? "nanoseconds" : "count"))
        }
        if let first = events.first {
            builder.defaultSampleType = first
            builder.periodType = builder.sampleTypes[1]
        }
        var values = [Int64](repeating: 0, count: builder.sampleTypes.count)
        for r in records {
            values[0] = 1
            values[Int(r.event) + 1] = r.period
            try builder.addSample(stack: r.node, values: values, labelSet: r.labelSet, at: "line \(r.line)")
            values[Int(r.event) + 1] = 0
        }
        if let first = records.first?.period, records.allSatisfy({ $0.event == 0 && $0.period == first }) { builder.period = first }
        return try builder.build()
    }

    /// `cpu-clock:ppp` → `cpu-clock`; `sched:sched_switch` stays (a tracepoint, not a modifier).
    static func eventBase(_ bytes: Bytes, _ r: Range<Int>) -> String {
        var s = Substring(bytes.string(r))
        while let colon = s.lastIndex(of: ":") {
            let modifiers = s[s.index(after: colon)...]
            guard !modifiers.isEmpty, modifiers.allSatisfy({ "ukhIGHpPSDWeb".contains($0) }) else { break }
            s = s[..<colon]
        }
        return String(s)
    }

    static func isKernel(dso: String, address: UInt64) -> Bool {
        if dso.hasPrefix("[kernel") { return true }
        if dso.isEmpty || dso == "[unknown]" { return address >= 0xffff_8000_0000_0000 }
        // Kernel modules appear as `[module]`; `[vdso]`, `[heap]`, `[stack]` are user space.
        if dso.hasPrefix("[") && dso.hasSuffix("]") && address >= 0xffff_8000_0000_0000 { return true }
        return false
    }

    /// A frame line (trimmed): `<hex address> <symbol>[+0x<offset>] [(<dso>)]`.
    static func parseFrame(_ bytes: Bytes, _ t: Range<Int>) -> Frame? {
        var i = t.lowerBound
        while i < t.upperBound && !isSpace(bytes[i]) { i += 1 }
        guard let address = bytes.hex(t.lowerBound..<i) else { return nil }
        while i < t.upperBound && isSpace(bytes[i]) { i += 1 }
        var end = t.upperBound
        var dso: Range<Int>?
        if end > i && bytes[end - 1] == UInt8(ascii: ")") {
            // The dso: the parenthesized group at the end, matched from the right.
            var depth = 0
            var j = end - 1
            while j >= i {
                if bytes[j] == UInt8(ascii: ")") { depth += 1 }
                if bytes[j] == UInt8(ascii: "(") {
                    depth -= 1
                    if depth == 0 { break }
                }
                j -= 1
            }
            if j >= i && depth == 0 {
                dso = j + 1..<end - 1
                end = j
                while end > i && isSpace(bytes[end - 1]) { end -= 1 }
            }
        }
        var symbol = i..<end
        // Strip +0x<offset>.
        if let plus = bytes.lastIndex(of: UInt8(ascii: "+"), in: symbol), bytes.hasPrefix("+0x", in: plus..<symbol.upperBound),
            bytes.hex(plus + 1..<symbol.upperBound) != nil
        {
            symbol = symbol.lowerBound..<plus
        }
        return Frame(address: address, symbol: symbol, dso: dso)
    }

    /// A header line (trimmed): `comm pid[/tid] [cpu] time: [period] event: [rest]`, or without a time
    /// (`comm pid[/tid] [period] event:`).
    static func parseHeader(_ bytes: Bytes, _ t: Range<Int>) -> Header? {
        let tokens = bytes.tokens(t)
        guard tokens.count >= 2 else { return nil }
        // The time stamp: digits '.' digits ':'.
        var timeIndex: Int?
        for (k, tok) in tokens.enumerated() where k >= 1 && isTimeStamp(bytes, tok) {
            timeIndex = k
            break
        }
        var k: Int
        var pidIndex: Int?
        if let ti = timeIndex {
            k = ti - 1
            if k >= 1 && isCPU(bytes, tokens[k]) { k -= 1 }
            if k >= 1 && isPidTid(bytes, tokens[k]) { pidIndex = k }
            k = ti + 1
        } else {
            // No time: the pid is the first pid-like token after the comm's first word.
            guard let p = tokens.indices.dropFirst().first(where: { isPidTid(bytes, tokens[$0]) }) else { return nil }
            pidIndex = p
            k = p + 1
            if k < tokens.count && isCPU(bytes, tokens[k]) { k += 1 }
        }
        let commEnd = pidIndex.map { tokens[$0].lowerBound } ?? tokens[timeIndex! - 1].lowerBound
        let comm = bytes.trimmed(t.lowerBound..<commEnd)
        var pid: Int64?
        var tid: Int64?
        if let p = pidIndex {
            let tok = tokens[p]
            if let slash = bytes.firstIndex(of: UInt8(ascii: "/"), in: tok) {
                if case .value(let v) = bytes.signedDecimal(tok.lowerBound..<slash) { pid = v }
                if case .value(let v) = bytes.signedDecimal(slash + 1..<tok.upperBound) { tid = v }
            } else if case .value(let v) = bytes.signedDecimal(tok) {
                tid = v
            }
        }
        // Optional period, then the event ending in ':'.
        var period: Int64?
        if k < tokens.count, case .value(let v) = bytes.decimal(tokens[k]) {
            period = v
            k += 1
        }
        guard k < tokens.count else { return nil }
        let ev = tokens[k]
        guard bytes[ev.upperBound - 1] == UInt8(ascii: ":"), ev.count > 1 else { return nil }
        let rest = k + 1 < tokens.count ? tokens[k + 1].lowerBound..<t.upperBound : t.upperBound..<t.upperBound
        return Header(comm: comm, pid: pid, tid: tid, period: period, event: ev.lowerBound..<ev.upperBound - 1, rest: rest)
    }

    private static func isTimeStamp(_ bytes: Bytes, _ tok: Range<Int>) -> Bool {
        guard tok.count >= 4, bytes[tok.upperBound - 1] == UInt8(ascii: ":") else { return false }
        var dot = false
        for i in tok.lowerBound..<tok.upperBound - 1 {
            if bytes[i] == UInt8(ascii: ".") {
                if dot { return false }
                dot = true
            } else if !isDigit(bytes[i]) {
                return false
            }
        }
        return dot
    }

    private static func isCPU(_ bytes: Bytes, _ tok: Range<Int>) -> Bool {
        tok.count >= 3 && bytes[tok.lowerBound] == UInt8(ascii: "[") && bytes[tok.upperBound - 1] == UInt8(ascii: "]")
            && bytes.decimal(tok.lowerBound + 1..<tok.upperBound - 1) != .invalid
    }

    private static func isPidTid(_ bytes: Bytes, _ tok: Range<Int>) -> Bool {
        if let slash = bytes.firstIndex(of: UInt8(ascii: "/"), in: tok) {
            return bytes.signedDecimal(tok.lowerBound..<slash) != .invalid && bytes.signedDecimal(slash + 1..<tok.upperBound) != .invalid
        }
        return bytes.signedDecimal(tok) != .invalid
    }

    /// Whether the first significant lines are perf script: a header with a time stamp, followed (after any
    /// frames) by an indented frame line or another header.
    static func looksLike(_ bytes: Bytes, lines: [Range<Int>]) -> Bool {
        guard let first = lines.first else { return false }
        let t = bytes.trimmed(first)
        guard !isSpace(bytes[first.lowerBound]), let h = parseHeader(bytes, t) else { return false }
        // A time stamp must be there (the header without one is too loose to tell apart from other text).
        guard bytes.tokens(t).contains(where: { isTimeStamp(bytes, $0) }) else { return false }
        if lines.count == 1 { return !h.rest.isEmpty }
        let second = lines[1]
        let t2 = bytes.trimmed(second)
        if t2.isEmpty { return !h.rest.isEmpty }
        if isSpace(bytes[second.lowerBound]) { return parseFrame(bytes, t2) != nil }
        return parseHeader(bytes, t2) != nil
    }

    private struct FrameKey: Hashable {
        var address: UInt64
        var symbol: ByteKey
        var dso: ByteKey?
    }

    private struct LabelKey: Hashable {
        var comm: ByteKey
        var pid: Int64?
        var tid: Int64?
    }
}
