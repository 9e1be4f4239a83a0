#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Text in any charset mail declares, converted with the C library's iconv.
/// Bytes that do not fit the charset become U+FFFD; an unknown charset is read
/// as UTF-8 when it is valid UTF-8 and as Windows-1252 otherwise, since that
/// is what mislabelled mail almost always is.
public enum Charset {
    public static func decode<C: Collection>(_ bytes: C, charset: String?) -> String where C.Element == UInt8 {
        let name = canonicalName(charset)
        if name == "UTF-8" || name == "US-ASCII" {
            if let valid = String(validating: bytes, as: UTF8.self) { return valid }
            return convert(Array(bytes), from: "WINDOWS-1252") ?? Bytes.text(bytes)
        }
        if name == "ISO-8859-1" {
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
        let array = Array(bytes)
        if let converted = convert(array, from: name) { return converted }
        if let valid = String(validating: array, as: UTF8.self) { return valid }
        return convert(array, from: "WINDOWS-1252") ?? Bytes.text(array)
    }

    /// The iconv name for a charset label as seen in mail.
    static func canonicalName(_ label: String?) -> String {
        guard var label = label?.lowercased(), !label.isEmpty else { return "US-ASCII" }
        label = String(label.filter { !$0.isWhitespace && $0 != "\"" && $0 != "'" })
        switch label {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8": return "UTF-8"
        case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "default", "unknown", "unknown-8bit", "x-unknown",
            "8bit", "7bit", "x-user-defined":
            return "US-ASCII"
        case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "iso_8859-1", "l1": return "ISO-8859-1"
        case "ks_c_5601-1987", "ks_c_5601", "euc-kr", "korean", "ksc5601": return "CP949"
        case "x-sjis", "sjis", "shift-jis", "ms_kanji", "windows-31j", "cp932": return "CP932"
        case "gb2312", "gbk", "x-gbk", "cp936", "euc-cn": return "GB18030"
        case "iso-8859-8-i", "iso-8859-8-e": return "ISO-8859-8"
        case "ansi", "cp1252", "x-ansi": return "WINDOWS-1252"
        case "iso-2022-jp-2", "iso-2022-jp-3", "iso-2022-jp-ms", "csiso2022jp", "iso-2022-jp": return "ISO-2022-JP-2"
        case "big5-hkscs", "big5", "x-x-big5": return "BIG5-HKSCS"
        default:
            if label.hasPrefix("iso8859-") { return "ISO-8859-" + label.dropFirst(8) }
            if label.hasPrefix("iso_8859-") { return "ISO-8859-" + label.dropFirst(9) }
            if label.hasPrefix("cp125") || label.hasPrefix("windows-125") {
                return "WINDOWS-125" + String(label.last ?? "2")
            }
            return label.uppercased()
        }
    }

    /// Converts with iconv, skipping undecodable bytes (each becomes U+FFFD).
    /// Nil when iconv does not know the charset.
    static func convert(_ input: [UInt8], from charset: String) -> String? {
        let descriptor = iconv_open("UTF-8", charset)
        guard let descriptor, descriptor != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(descriptor) }
        var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
        var produced = 0
        var input = input
        input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                guard let sourceBase = source.baseAddress, let targetBase = target.baseAddress else { return }
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(sourceBase)
                    .assumingMemoryBound(to: CChar.self)
                var inLeft = source.count
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(targetBase)
                    .assumingMemoryBound(to: CChar.self)
                var outLeft = target.count
                while inLeft > 0 {
                    let result = iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
                    if result != -1 { break }
                    let error = errno
                    if error == E2BIG || outLeft < 8 { break }
                    // EILSEQ or EINVAL: skip one byte, mark it, and carry on.
                    inPointer = inPointer.map { $0 + 1 }
                    inLeft -= 1
                    for byte: UInt8 in [0xEF, 0xBF, 0xBD] {
                        outPointer?.pointee = CChar(bitPattern: byte)
                        outPointer = outPointer.map { $0 + 1 }
                        outLeft -= 1
                    }
                    // Reset any shift state (ISO-2022) after a bad byte.
                    _ = iconv(descriptor, nil, nil, nil, nil)
                }
                // Flush a trailing shift sequence.
                _ = iconv(descriptor, nil, nil, &outPointer, &outLeft)
                produced = target.count - outLeft
            }
        }
        return String(decoding: output[0..<produced], as: UTF8.self)
    }
}
