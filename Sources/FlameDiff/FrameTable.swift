import ProtoPprof

/// Interns frame names so that the hot loops see only integers.
struct NameInterner {
    private(set) var names: [String] = []
    private var ids: [String: Int32] = [:]

    mutating func id(_ name: String) -> Int32 {
        if let id = ids[name] { return id }
        let id = Int32(names.count)
        names.append(name)
        ids[name] = id
        return id
    }
}

/// The frames of every location, named once per location rather than once per sample.
///
/// For location `l`, `frames[frameOffsets[l] ..< frameOffsets[l+1]]` are name ids from the outermost
/// caller to the innermost inlined callee (pprof stores them the other way round in `Location.line`).
/// `functionOfFrame` is parallel to `frames`: what a top table groups by, named as `go tool pprof -top` names
/// it (function name, or the frame's name under another key; `[binary]` or `<unknown>` for a location
/// without lines).
public struct FrameTable: Sendable {
    public let names: [String]
    public let frameOffsets: [Int32]
    public let frames: [Int32]
    public let functionOfFrame: [Int32]

    /// Every frame is named as its top-table row (no location without lines): then a top table can be read
    /// off the call tree (`TopTable(tree:)`) and equals the one summed over the stacks.
    public var framesAreFunctions: Bool { frames == functionOfFrame }

    public init(profile p: Profile, key: FrameKey) {
        var interner = NameInterner()
        // Function-name ids by interned string index: equal names have equal string indexes.
        var nameIDByString = [Int32](repeating: -1, count: p.strings.count)
        func functionNameID(_ f: Function) -> Int32 {
            let s = f.name != 0 ? f.name : f.systemName
            if nameIDByString[Int(s)] < 0 {
                nameIDByString[Int(s)] = interner.id(s != 0 ? p.strings[Int(s)] : "<unknown>")
            }
            return nameIDByString[Int(s)]
        }
        var offsets = [Int32](repeating: 0, count: p.locations.count + 1)
        var frames: [Int32] = []
        var functions: [Int32] = []
        frames.reserveCapacity(p.lines.count + p.locations.count)
        functions.reserveCapacity(p.lines.count + p.locations.count)
        for (index, location) in p.locations.enumerated() {
            offsets[index] = Int32(frames.count)
            if location.lineCount == 0 {
                let mappingFile = location.mapping >= 0 ? p.strings[Int(p.mappings[Int(location.mapping)].filename)] : ""
                let binary = mappingFile.isEmpty ? "" : "[\(basename(mappingFile))]"
                let function = interner.id(binary.isEmpty ? "<unknown>" : binary)
                let display: Int32
                if location.address != 0 {
                    let hex = "0x" + String(location.address, radix: 16)
                    display = interner.id(binary.isEmpty ? hex : "\(hex) \(binary)")
                } else {
                    display = function
                }
                frames.append(display)
                functions.append(function)
                continue
            }
            for lineIndex in location.lineRange.reversed() {
                let line = p.lines[lineIndex]
                let f = p.functions[Int(line.function)]
                let function = functionNameID(f)
                let display: Int32
                switch key {
                case .function:
                    display = function
                case .functionAndLine:
                    let file = p.strings[Int(f.filename)]
                    display = interner.id(
                        file.isEmpty
                            ? "\(interner.names[Int(function)]):\(line.line)"
                            : "\(interner.names[Int(function)]) \(file):\(line.line)")
                case .functionAndFile:
                    let file = p.strings[Int(f.filename)]
                    display = file.isEmpty ? function : interner.id("\(interner.names[Int(function)]) \(file)")
                }
                frames.append(display)
                // Top and change tables group by the key too: function+line rows are `function file:line`.
                functions.append(key == .function ? function : display)
            }
        }
        offsets[p.locations.count] = Int32(frames.count)
        self.names = interner.names
        self.frameOffsets = offsets
        self.frames = frames
        self.functionOfFrame = functions
    }
}

func basename(_ path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    if let slash = trimmed.lastIndex(of: "/"), trimmed.count > 1 { return String(trimmed[trimmed.index(after: slash)...]) }
    return String(trimmed)
}
