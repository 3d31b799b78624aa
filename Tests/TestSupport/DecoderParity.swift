import ProtoPprof

/// The oracle of the decoder parity tests and the `FuzzSampleDecoder` fuzz target: the hand-written sample
/// decoder must give what protobuf-c gives, for any bytes.
public enum DecoderParity {
    /// A sample resolved to what the profile says, not to the decoder's internal ids.
    public struct ResolvedSample: Equatable, CustomStringConvertible {
        public var locationIDs: [UInt64]
        public var values: [Int64]
        public var labels: [ResolvedLabel]
        public var description: String { "locations \(locationIDs) values \(values) labels \(labels)" }
    }

    public struct ResolvedLabel: Equatable, CustomStringConvertible {
        public var key: String
        public var str: String
        public var num: Int64
        public var numUnit: String
        public var description: String { "\(key)=\(str.isEmpty ? "\(num)\(numUnit)" : str)" }
    }

    /// Every sample of `p`, with location ids and label strings.
    public static func resolvedSamples(_ p: Profile) -> [ResolvedSample] {
        (0 ..< p.sampleCount).map { i in
            ResolvedSample(
                locationIDs: p.locations(ofSample: i).map { p.locations[Int($0)].id },
                values: (0 ..< p.sampleTypes.count).map { p.value(ofSample: i, type: $0) },
                labels: p.labels(ofSample: i).map {
                    ResolvedLabel(key: p.strings[Int($0.key)], str: p.strings[Int($0.str)], num: $0.num, numUnit: p.strings[Int($0.numUnit)])
                })
        }
    }

    /// Decodes `bytes` both ways. Nil when both give the same samples and the same profile, or both refuse it
    /// for the same reason (malformed protobuf, whatever the detail); otherwise what differs.
    public static func difference(_ bytes: [UInt8], limits: DecodeLimits = DecodeLimits()) -> String? {
        func decode(_ decoding: SampleDecoding) -> Result<Profile, PprofError> {
            var l = limits
            l.sampleDecoding = decoding
            return Result { () throws(PprofError) -> Profile in try Profile.decode(bytes, limits: l) }
        }
        switch (decode(.handWritten), decode(.protobufC)) {
        case (.success(let fast), .success(let reference)):
            if fast.sampleTypes != reference.sampleTypes { return "sample types: \(fast.sampleTypes) vs \(reference.sampleTypes)" }
            let a = resolvedSamples(fast)
            let b = resolvedSamples(reference)
            if a.count != b.count { return "\(a.count) samples hand-written, \(b.count) via protobuf-c" }
            if let i = a.indices.first(where: { a[$0] != b[$0] }) {
                return "sample[\(i)]: hand-written \(a[i]), protobuf-c \(b[i])"
            }
            return fast == reference ? nil : "same samples, but the profiles differ (interning or metadata)"
        case (.failure(let e1), .failure(let e2)):
            if case .malformedProtobuf = e1, case .malformedProtobuf = e2 { return nil }
            return e1 == e2 ? nil : "errors differ: hand-written \(e1); protobuf-c \(e2)"
        case (.success, .failure(let e)):
            return "hand-written decoded it; protobuf-c refused: \(e)"
        case (.failure(let e), .success):
            return "protobuf-c decoded it; hand-written refused: \(e)"
        }
    }
}
