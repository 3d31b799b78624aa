import Foundation

/// protojson of a `google.v1.Profile` (pprof's `perftools.profiles.Profile`, same field numbers) encoded back to
/// protobuf, so a JSON answer gives the same bytes `Profile.decode` reads. Both the lowerCamel names protojson
/// writes and the proto names it also accepts are read; 64-bit integers may be strings or numbers.
enum PprofJSON {
    private enum Kind: Sendable {
        case int64, uint64, bool, string
        case message([Field])
        indirect case repeated(Kind)

        var isUnsigned: Bool {
            if case .uint64 = self { return true }
            return false
        }
    }

    private struct Field: Sendable {
        let number: Int
        let names: [String]
        let kind: Kind
        init(_ number: Int, _ names: [String], _ kind: Kind) {
            self.number = number
            self.names = names
            self.kind = kind
        }
    }

    private static let valueType: [Field] = [Field(1, ["type"], .int64), Field(2, ["unit"], .int64)]
    private static let profile: [Field] = [
        Field(1, ["sampleType", "sample_type"], .repeated(.message(valueType))),
        Field(
            2, ["sample"],
            .repeated(
                .message([
                    Field(1, ["locationId", "location_id"], .repeated(.uint64)),
                    Field(2, ["value"], .repeated(.int64)),
                    Field(
                        3, ["label"],
                        .repeated(
                            .message([
                                Field(1, ["key"], .int64), Field(2, ["str"], .int64), Field(3, ["num"], .int64),
                                Field(4, ["numUnit", "num_unit"], .int64),
                            ]))),
                ]))),
        Field(
            3, ["mapping"],
            .repeated(
                .message([
                    Field(1, ["id"], .uint64), Field(2, ["memoryStart", "memory_start"], .uint64),
                    Field(3, ["memoryLimit", "memory_limit"], .uint64), Field(4, ["fileOffset", "file_offset"], .uint64),
                    Field(5, ["filename"], .int64), Field(6, ["buildId", "build_id"], .int64),
                    Field(7, ["hasFunctions", "has_functions"], .bool), Field(8, ["hasFilenames", "has_filenames"], .bool),
                    Field(9, ["hasLineNumbers", "has_line_numbers"], .bool),
                    Field(10, ["hasInlineFrames", "has_inline_frames"], .bool),
                ]))),
        Field(
            4, ["location"],
            .repeated(
                .message([
                    Field(1, ["id"], .uint64), Field(2, ["mappingId", "mapping_id"], .uint64), Field(3, ["address"], .uint64),
                    Field(
                        4, ["line"],
                        .repeated(
                            .message([
                                Field(1, ["functionId", "function_id"], .uint64), Field(2, ["line"], .int64),
                                Field(3, ["column"], .int64),
                            ]))),
                    Field(5, ["isFolded", "is_folded"], .bool),
                ]))),
        Field(
            5, ["function"],
            .repeated(
                .message([
                    Field(1, ["id"], .uint64), Field(2, ["name"], .int64), Field(3, ["systemName", "system_name"], .int64),
                    Field(4, ["filename"], .int64), Field(5, ["startLine", "start_line"], .int64),
                ]))),
        Field(6, ["stringTable", "string_table"], .repeated(.string)),
        Field(7, ["dropFrames", "drop_frames"], .int64),
        Field(8, ["keepFrames", "keep_frames"], .int64),
        Field(9, ["timeNanos", "time_nanos"], .int64),
        Field(10, ["durationNanos", "duration_nanos"], .int64),
        Field(11, ["periodType", "period_type"], .message(valueType)),
        Field(12, ["period"], .int64),
        Field(13, ["comment"], .repeated(.int64)),
        Field(14, ["defaultSampleType", "default_sample_type"], .int64),
    ]

    static func encode(_ object: [String: Any]) throws(ProtoDecodeError) -> [UInt8] {
        var w = ProtoWriter()
        try write(object, fields: profile, path: "profile", into: &w)
        return w.bytes
    }

    private static func write(_ object: [String: Any], fields: [Field], path: String, into w: inout ProtoWriter) throws(ProtoDecodeError) {
        for field in fields {
            guard let value = field.names.lazy.compactMap({ object[$0] }).first, !(value is NSNull) else { continue }
            let name = path + "." + field.names[0]
            switch field.kind {
            case .repeated(let element):
                guard let items = value as? [Any] else { throw ProtoDecodeError(reason: "\(name) is not an array") }
                switch element {
                case .int64, .uint64:
                    // Packed, as proto3 writes repeated scalars.
                    var values: [UInt64] = []
                    values.reserveCapacity(items.count)
                    for item in items { values.append(try integer(item, unsigned: element.isUnsigned, name)) }
                    w.packed(field.number, values)
                default:
                    for item in items { try writeSingle(item, kind: element, number: field.number, name: name, into: &w, always: true) }
                }
            default:
                try writeSingle(value, kind: field.kind, number: field.number, name: name, into: &w, always: false)
            }
        }
    }

    private static func writeSingle(_ value: Any, kind: Kind, number: Int, name: String, into w: inout ProtoWriter, always: Bool) throws(ProtoDecodeError) {
        switch kind {
        case .int64, .uint64:
            w.uint(number, try integer(value, unsigned: kind.isUnsigned, name))
        case .bool:
            guard let b = value as? Bool else { throw ProtoDecodeError(reason: "\(name) is not a boolean") }
            if b { w.uint(number, 1) }
        case .string:
            guard let s = value as? String else { throw ProtoDecodeError(reason: "\(name) is not a string") }
            if always || !s.isEmpty { w.bytes(number, Array(s.utf8)) }
        case .message(let fields):
            guard let o = value as? [String: Any] else { throw ProtoDecodeError(reason: "\(name) is not an object") }
            var inner = ProtoWriter()
            try write(o, fields: fields, path: name, into: &inner)
            w.bytes(number, inner.bytes)
        case .repeated:
            throw ProtoDecodeError(reason: "\(name): nested repetition")
        }
    }

    /// A 64-bit integer as protojson writes it (a decimal string) or as a JSON number that holds it exactly.
    private static func integer(_ value: Any, unsigned: Bool, _ name: String) throws(ProtoDecodeError) -> UInt64 {
        if let s = value as? String {
            if unsigned, let v = UInt64(s) { return v }
            if !unsigned, let v = Int64(s) { return UInt64(bitPattern: v) }
            throw ProtoDecodeError(reason: "\(name) is not a\(unsigned ? "n unsigned" : "") 64-bit integer")
        }
        if let n = value as? NSNumber {
            let d = n.doubleValue
            guard d.rounded() == d, abs(d) < 9.007_199_254_740_992e15 else {
                throw ProtoDecodeError(reason: "\(name) is not an integer")
            }
            if unsigned {
                guard d >= 0 else { throw ProtoDecodeError(reason: "\(name) is negative") }
                return UInt64(d)
            }
            return UInt64(bitPattern: Int64(d))
        }
        throw ProtoDecodeError(reason: "\(name) is not an integer")
    }
}
