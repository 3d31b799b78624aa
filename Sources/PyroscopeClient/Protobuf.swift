/// The protobuf wire format, as much as the query API needs: a writer for requests and a bounds-checked reader
/// for responses. Field numbers are those of grafana/pyroscope `api/querier/v1/querier.proto`,
/// `api/types/v1/types.proto` and `api/google/v1/profile.proto`.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    /// An int64, uint64, bool or enum field; zero is the default and is left out, as proto3 does.
    mutating func int(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func uint(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(value)
    }

    /// An `optional` scalar: written when present, even when zero.
    mutating func optionalInt(_ field: Int, _ value: Int64?) {
        guard let value else { return }
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        bytes(field, Array(value.utf8))
    }

    /// A repeated string: every element is written, empty ones too.
    mutating func strings(_ field: Int, _ values: [String]) {
        for v in values { bytes(field, Array(v.utf8)) }
    }

    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }

    mutating func packed(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        var inner = ProtoWriter()
        for v in values { inner.varint(v) }
        bytes(field, inner.bytes)
    }
}

/// One field of a message as read from the wire.
enum ProtoValue {
    case varint(UInt64)
    case fixed64(UInt64)
    case fixed32(UInt32)
    case bytes(ArraySlice<UInt8>)
}

/// Why bytes are not the message they should be.
struct ProtoDecodeError: Error {
    let reason: String
}

/// Reads fields one at a time from a message's bytes; every length is checked against what is left.
struct ProtoReader {
    private let data: ArraySlice<UInt8>
    private var offset: Int

    init(_ data: ArraySlice<UInt8>) {
        self.data = data
        offset = data.startIndex
    }

    init(_ data: [UInt8]) { self.init(data[...]) }

    var isAtEnd: Bool { offset >= data.endIndex }

    private mutating func varint() throws(ProtoDecodeError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < data.endIndex else { throw ProtoDecodeError(reason: "a varint runs past the end") }
            let byte = data[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw ProtoDecodeError(reason: "a varint is longer than 64 bits") }
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    private mutating func take(_ count: Int) throws(ProtoDecodeError) -> ArraySlice<UInt8> {
        guard count >= 0, data.endIndex - offset >= count else {
            throw ProtoDecodeError(reason: "a field of \(count) bytes runs past the end")
        }
        defer { offset += count }
        return data[offset ..< offset + count]
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws(ProtoDecodeError) -> (field: Int, value: ProtoValue)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        let field = key >> 3
        guard field >= 1, field <= 536_870_911 else { throw ProtoDecodeError(reason: "field number \(field) is out of range") }
        switch key & 7 {
        case 0: return (Int(field), .varint(try varint()))
        case 1:
            let b = try take(8)
            var v: UInt64 = 0
            for (i, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(i)) }
            return (Int(field), .fixed64(v))
        case 2:
            let length = try varint()
            guard length <= UInt64(Int.max) else { throw ProtoDecodeError(reason: "a length is out of range") }
            return (Int(field), .bytes(try take(Int(length))))
        case 5:
            let b = try take(4)
            var v: UInt32 = 0
            for (i, byte) in b.enumerated() { v |= UInt32(byte) << (8 * UInt32(i)) }
            return (Int(field), .fixed32(v))
        default:
            throw ProtoDecodeError(reason: "wire type \(key & 7) of field \(field) is not supported")
        }
    }
}

extension ProtoValue {
    /// A length-delimited field's bytes; another wire type where one is expected is an error.
    func payload(_ what: String) throws(ProtoDecodeError) -> ArraySlice<UInt8> {
        guard case .bytes(let b) = self else { throw ProtoDecodeError(reason: "\(what) is not length-delimited") }
        return b
    }

    func string(_ what: String) throws(ProtoDecodeError) -> String {
        let b = try payload(what)
        guard let s = String(validating: b, as: UTF8.self) else { throw ProtoDecodeError(reason: "\(what) is not UTF-8") }
        return s
    }

    func int64(_ what: String) throws(ProtoDecodeError) -> Int64 {
        switch self {
        case .varint(let v), .fixed64(let v): return Int64(bitPattern: v)
        default: throw ProtoDecodeError(reason: "\(what) is not an integer")
        }
    }
}
