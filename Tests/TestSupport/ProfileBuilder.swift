import CDeflate

/// Writes protobuf wire format by hand, so tests can build valid and deliberately broken profiles.
public struct ProtobufWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func tag(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    /// Appends bytes as they are: hand-made tags, padded varints, broken fields.
    public mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    public mutating func int(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    public mutating func uint(_ field: Int, _ value: UInt64) {
        tag(field, 0)
        varint(value)
    }

    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }

    public mutating func packed(_ field: Int, _ values: [UInt64]) {
        var inner = ProtobufWriter()
        for v in values { inner.varint(v) }
        bytes(field, inner.bytes)
    }
}

/// A small pprof profile described in Swift and encoded to protobuf bytes.
/// Defaults make a valid one-sample CPU profile; tests change one thing to make it invalid.
public struct PprofBuilder {
    public struct Sample {
        public var locationIDs: [UInt64]
        public var values: [Int64]
        public var labels: [(key: Int64, str: Int64, num: Int64)]
        public init(locationIDs: [UInt64], values: [Int64], labels: [(key: Int64, str: Int64, num: Int64)] = []) {
            self.locationIDs = locationIDs
            self.values = values
            self.labels = labels
        }
    }
    public struct Location {
        public var id: UInt64
        public var mappingID: UInt64 = 0
        public var address: UInt64 = 0
        public var lines: [(functionID: UInt64, line: Int64)]
        public init(id: UInt64, mappingID: UInt64 = 0, address: UInt64 = 0, lines: [(functionID: UInt64, line: Int64)]) {
            self.id = id
            self.mappingID = mappingID
            self.address = address
            self.lines = lines
        }
    }

    public var strings: [String]
    public var sampleTypes: [(type: Int64, unit: Int64)]
    public var functions: [(id: UInt64, name: Int64, file: Int64)]
    public var locations: [Location]
    public var mappings: [(id: UInt64, file: Int64)] = []
    public var samples: [Sample]
    public var defaultSampleType: Int64 = 0

    /// Strings are ["", "cpu", "nanoseconds", "main", "work", "main.go"]; function 1 is main, 2 is work.
    public init() {
        strings = ["", "cpu", "nanoseconds", "main", "work", "main.go"]
        sampleTypes = [(1, 2)]
        functions = [(1, 3, 5), (2, 4, 5)]
        locations = [Location(id: 1, lines: [(1, 10)]), Location(id: 2, lines: [(2, 20)])]
        samples = [Sample(locationIDs: [2, 1], values: [5])]
    }

    public func encode() -> [UInt8] {
        var w = ProtobufWriter()
        for t in sampleTypes {
            w.message(1) { m in
                m.int(1, t.type)
                m.int(2, t.unit)
            }
        }
        for s in samples {
            w.message(2) { m in
                m.packed(1, s.locationIDs)
                m.packed(2, s.values.map { UInt64(bitPattern: $0) })
                for l in s.labels {
                    m.message(3) { lm in
                        lm.int(1, l.key)
                        if l.str != 0 { lm.int(2, l.str) }
                        if l.num != 0 { lm.int(3, l.num) }
                    }
                }
            }
        }
        for mp in mappings {
            w.message(3) { m in
                m.uint(1, mp.id)
                m.int(5, mp.file)
            }
        }
        for l in locations {
            w.message(4) { m in
                m.uint(1, l.id)
                if l.mappingID != 0 { m.uint(2, l.mappingID) }
                if l.address != 0 { m.uint(3, l.address) }
                for line in l.lines {
                    m.message(4) { lm in
                        lm.uint(1, line.functionID)
                        lm.int(2, line.line)
                    }
                }
            }
        }
        for f in functions {
            w.message(5) { m in
                m.uint(1, f.id)
                m.int(2, f.name)
                m.int(4, f.file)
            }
        }
        for s in strings { w.bytes(6, Array(s.utf8)) }
        if defaultSampleType != 0 { w.int(14, defaultSampleType) }
        return w.bytes
    }
}

/// gzip-compresses bytes with libdeflate.
public func gzip(_ input: [UInt8]) -> [UInt8] {
    let compressor = libdeflate_alloc_compressor(6)!
    defer { libdeflate_free_compressor(compressor) }
    let bound = libdeflate_gzip_compress_bound(compressor, input.count)
    var out = [UInt8](repeating: 0, count: bound)
    let n = input.withUnsafeBytes { inp in
        out.withUnsafeMutableBytes { o in
            libdeflate_gzip_compress(compressor, inp.baseAddress, input.count, o.baseAddress, bound)
        }
    }
    out.removeSubrange(n...)
    return out
}
