/// Content-Transfer-Encoding decoders. Both are lenient the way mail readers
/// are: characters that do not belong are skipped, never fatal.
public enum TransferEncoding {
    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        // The URL-safe alphabet shows up in the wild too.
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    public static func base64<C: Collection>(_ input: C) -> [UInt8] where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            if byte == UInt8(ascii: "=") { break }
            let value = base64Values[Int(byte)]
            if value == 0xFF { continue }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }

    /// Quoted-printable (RFC 2045). `header` also reads `_` as a space (RFC 2047 "Q").
    public static func quotedPrintable<C: Collection>(_ input: C, header: Bool = false) -> [UInt8]
    where C.Element == UInt8, C.Index == Int {
        var out = [UInt8]()
        out.reserveCapacity(input.count)
        var index = input.startIndex
        let end = input.endIndex
        while index < end {
            let byte = input[index]
            if byte == UInt8(ascii: "=") {
                // Soft line break: "=" then optional spaces then a line end.
                var look = index + 1
                while look < end, input[look] == 32 || input[look] == 9 { look += 1 }
                if look < end, input[look] == 10 {
                    index = look + 1
                    continue
                }
                if look < end, input[look] == 13 {
                    index = look + 1
                    if index < end, input[index] == 10 { index += 1 }
                    continue
                }
                if look >= end {
                    index = end
                    continue
                }
                if index + 2 < end, let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) {
                    out.append(high << 4 | low)
                    index += 3
                    continue
                }
                out.append(byte)
                index += 1
            } else if header, byte == UInt8(ascii: "_") {
                out.append(32)
                index += 1
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }
}
