/// Standard base64 (RFC 4648, padded) straight into bytes: uploads go to the backend as `{data: base64}` inside
/// a base64 request body (Grafana's CallResource shape), tens of megabytes each, so the encoder is a plain loop.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends the encoding of `input` to `out`.
    static func encode(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let n = input.count
        let encodedCount = (n + 2) / 3 * 4
        let start = out.count
        let encoded = [UInt8](unsafeUninitializedCapacity: encodedCount) { dst, count in
            alphabet.withUnsafeBufferPointer { table in
                let t = table.baseAddress!
                guard let src = input.baseAddress?.assumingMemoryBound(to: UInt8.self), var o = dst.baseAddress else { return }
                var i = 0
                while i + 3 <= n {
                    let v = UInt32(src[i]) << 16 | UInt32(src[i + 1]) << 8 | UInt32(src[i + 2])
                    o[0] = t[Int(v >> 18)]
                    o[1] = t[Int(v >> 12 & 63)]
                    o[2] = t[Int(v >> 6 & 63)]
                    o[3] = t[Int(v & 63)]
                    i += 3
                    o += 4
                }
                if i < n {
                    let b1 = i + 1 < n ? UInt32(src[i + 1]) : 0
                    let v = UInt32(src[i]) << 16 | b1 << 8
                    o[0] = t[Int(v >> 18)]
                    o[1] = t[Int(v >> 12 & 63)]
                    o[2] = i + 1 < n ? t[Int(v >> 6 & 63)] : UInt8(ascii: "=")
                    o[3] = UInt8(ascii: "=")
                }
            }
            count = encodedCount
        }
        if start == 0 && out.isEmpty {
            out = encoded
        } else {
            out.append(contentsOf: encoded)
        }
    }

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        bytes.withUnsafeBytes { encode($0, into: &out) }
        return out
    }
}
