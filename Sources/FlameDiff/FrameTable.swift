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

/// Interns frame names for one profile without hashing the names taken verbatim from its string table.
///
/// The profile's strings are unique (equal strings have equal indexes), so as long as every name so far is a
/// table string, a new table string cannot equal any of them and gets the next id without a lookup. The first
/// name built here (`<unknown>`, an address, `function file:line`) could equal one of them: from then on every
/// name goes through a dictionary, as `NameInterner` does. Ids come out the same as `NameInterner`'s.
struct ProfileNameInterner {
    private let strings: [String]
    private(set) var names: [String] = []
    /// Name id per string index, -1 until interned.
    private var idOfString: [Int32]
    /// Every name, once a name that is not a table string has been interned.
    private var byName: [String: Int32]?

    init(strings: [String]) {
        self.strings = strings
        idOfString = [Int32](repeating: -1, count: strings.count)
    }

    /// The id of `strings[index]`.
    mutating func id(ofString index: Int32) -> Int32 {
        let existing = idOfString[Int(index)]
        if existing >= 0 { return existing }
        let id = intern(strings[Int(index)])
        idOfString[Int(index)] = id
        return id
    }

    /// The id of a name built from parts of the profile.
    mutating func id(_ name: String) -> Int32 {
        if byName == nil {
            var all: [String: Int32] = [:]
            all.reserveCapacity(names.count + 16)
            for (id, name) in names.enumerated() { all[name] = Int32(id) }
            byName = all
        }
        return intern(name)
    }

    private mutating func intern(_ name: String) -> Int32 {
        if byName != nil, let id = byName![name] { return id }
        let id = Int32(names.count)
        names.append(name)
        if byName != nil { byName![name] = id }
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
        var interner = ProfileNameInterner(strings: p.strings)
        func functionNameID(_ f: Function) -> Int32 {
            let s = f.name != 0 ? f.name : f.systemName
            return s != 0 ? interner.id(ofString: s) : interner.id("<unknown>")
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
