/// RFC 2047 encoded words in header values: `=?charset?B?...?=` and `=?charset?Q?...?=`.
/// Whitespace between two adjacent encoded words is dropped; a malformed word
/// is left as it is.
public enum EncodedWords {
    public static func decode(_ value: [UInt8]) -> String {
        guard Bytes.find(Array("=?".utf8), in: value) != nil else { return Bytes.text(value) }
        var result = ""
        var pendingSpace: [UInt8] = []
        var plain: [UInt8] = []
        var lastWasEncoded = false
        var index = 0
        let count = value.count
        func flushPlain() {
            if !plain.isEmpty {
                result += Bytes.text(plain)
                plain.removeAll(keepingCapacity: true)
            }
        }
        while index < count {
            if value[index] == UInt8(ascii: "="), index + 1 < count, value[index + 1] == UInt8(ascii: "?"),
                let (decoded, next) = word(value, at: index)
            {
                if !lastWasEncoded { plain += pendingSpace }
                pendingSpace.removeAll()
                flushPlain()
                result += decoded
                index = next
                lastWasEncoded = true
                continue
            }
            let byte = value[index]
            if Bytes.isSpace(byte) {
                pendingSpace.append(byte)
            } else {
                plain += pendingSpace
                pendingSpace.removeAll()
                plain.append(byte)
                lastWasEncoded = false
            }
            index += 1
        }
        plain += pendingSpace
        flushPlain()
        return result
    }

    /// One encoded word starting at `start`: its text and the index after it.
    static func word(_ value: [UInt8], at start: Int) -> (String, Int)? {
        var index = start + 2
        let count = value.count
        let charsetStart = index
        while index < count, value[index] != UInt8(ascii: "?"), !Bytes.isSpace(value[index]) { index += 1 }
        guard index + 2 < count, value[index] == UInt8(ascii: "?") else { return nil }
        var charset = Bytes.text(value[charsetStart..<index])
        // RFC 2231 language suffix: charset*lang.
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }
        let encoding = Bytes.lower(value[index + 1])
        guard value[index + 2] == UInt8(ascii: "?"), encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q")
        else { return nil }
        let textStart = index + 3
        var end = textStart
        while end + 1 < count, !(value[end] == UInt8(ascii: "?") && value[end + 1] == UInt8(ascii: "=")) {
            if value[end] == 10 { return nil }
            end += 1
        }
        guard end + 1 < count else { return nil }
        let text = value[textStart..<end]
        let bytes =
            encoding == UInt8(ascii: "b")
            ? TransferEncoding.base64(text) : TransferEncoding.quotedPrintable(Array(text), header: true)
        return (Charset.decode(bytes, charset: charset), end + 2)
    }
}
