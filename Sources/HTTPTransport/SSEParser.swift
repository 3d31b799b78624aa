/// One Server-Sent Event.
public struct SSEEvent: Sendable, Equatable {
    public var event: String?
    public var data: String
    public var id: String?

    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// Why a stream is not valid Server-Sent Events.
public enum SSEError: Error, Sendable, Equatable {
    case lineTooLong(limit: Int)
}

/// A stateful Server-Sent Events parser (the WHATWG rules): feed it bytes as they arrive, split anywhere,
/// and it returns the events completed so far. LF, CRLF and CR end lines; `:` lines are comments
/// (keep-alives); several `data:` lines join with a newline; a blank line dispatches the event.
public struct SSEParser: Sendable {
    public let maxLineBytes: Int
    private var line: [UInt8] = []
    private var afterCR = false
    private var dataLines: [String] = []
    private var hasData = false
    private var eventName: String?
    private var lastID: String?
    private var atStart = true

    public init(maxLineBytes: Int = 1 << 20) { self.maxLineBytes = maxLineBytes }

    public mutating func feed<S: Sequence>(_ bytes: S) throws(SSEError) -> [SSEEvent] where S.Element == UInt8 {
        var events: [SSEEvent] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }  // the LF of a CRLF
            }
            switch byte {
            case 0x0A:
                if let event = endLine() { events.append(event) }
            case 0x0D:
                afterCR = true
                if let event = endLine() { events.append(event) }
            default:
                line.append(byte)
                if line.count > maxLineBytes { throw .lineTooLong(limit: maxLineBytes) }
            }
        }
        return events
    }

    private mutating func endLine() -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if atStart {
            atStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }  // a byte-order mark
        }
        if line.isEmpty {
            guard hasData else {
                eventName = nil
                return nil
            }
            let event = SSEEvent(event: eventName, data: dataLines.joined(separator: "\n"), id: lastID)
            dataLines = []
            hasData = false
            eventName = nil
            return event
        }
        if line.first == UInt8(ascii: ":") { return nil }  // a comment
        let field: String
        var value: String
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: line[..<colon], as: UTF8.self)
            var rest = line[line.index(after: colon)...]
            if rest.first == UInt8(ascii: " ") { rest = rest.dropFirst() }
            value = String(decoding: rest, as: UTF8.self)
        } else {
            field = String(decoding: line, as: UTF8.self)
            value = ""
        }
        switch field {
        case "data":
            dataLines.append(value)
            hasData = true
        case "event":
            eventName = value
        case "id":
            if !value.contains("\0") { lastID = value }
        default:
            break  // retry and unknown fields
        }
        value = ""
        return nil
    }
}
