/// Standard base64 (RFC 4648, padded) straight into bytes: uploads go to the backend as `{data: base64}` inside
/// a base64 request body (Grafana's CallResource shape), tens of megabytes each, so the encoder is a plain loop.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends the encoding of `input` to `out`.
    static func encode(_ input: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let n = input.count
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: (n + 2) / 3 * 4))
        alphabet.withUnsafeBufferPointer { table in
            out.withUnsafeMutableBufferPointer { dst in
                var o = start
                var i = 0
                while i + 3 <= n {
                    let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    dst[o] = table[Int(v >> 18)]
                    dst[o + 1] = table[Int(v >> 12 & 63)]
                    dst[o + 2] = table[Int(v >> 6 & 63)]
                    dst[o + 3] = table[Int(v & 63)]
                    i += 3
                    o += 4
                }
                if i < n {
                    let b1 = i + 1 < n ? UInt32(input[i + 1]) : 0
                    let v = UInt32(input[i]) << 16 | b1 << 8
                    dst[o] = table[Int(v >> 18)]
                    dst[o + 1] = table[Int(v >> 12 & 63)]
                    dst[o + 2] = i + 1 < n ? table[Int(v >> 6 & 63)] : UInt8(ascii: "=")
                    dst[o + 3] = UInt8(ascii: "=")
                }
            }
        }
    }

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        bytes.withUnsafeBytes { encode($0, into: &out) }
        return out
    }
}
