/// Finding mail addresses in header values and free text.
public enum AddressScan {
    private static let localCharacters: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-".utf8 {
            table[Int(byte)] = true
        }
        return table
    }()
    private static let domainCharacters: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_".utf8 { table[Int(byte)] = true }
        return table
    }()

    /// Every address in the bytes, in order, lower-cased, without duplicates.
    public static func addresses<C: Collection>(in bytes: C) -> [String] where C.Element == UInt8, C.Index == Int {
        var found: [String] = []
        var index = bytes.startIndex
        while let at = bytes[index...].firstIndex(of: UInt8(ascii: "@")) {
            var start = at
            while start > bytes.startIndex, localCharacters[Int(bytes[start - 1])] { start -= 1 }
            var end = at + 1
            while end < bytes.endIndex, domainCharacters[Int(bytes[end])] { end += 1 }
            // Trailing dots and dashes are punctuation, not the domain.
            while end > at + 1, bytes[end - 1] == UInt8(ascii: ".") || bytes[end - 1] == UInt8(ascii: "-") {
                end -= 1
            }
            // Leading dots and quote characters are punctuation too.
            while start < at,
                bytes[start] == UInt8(ascii: ".") || bytes[start] == UInt8(ascii: "'")
                    || bytes[start] == UInt8(ascii: "=")
            {
                start += 1
            }
            if start < at, end > at + 1, bytes[at + 1..<end].contains(UInt8(ascii: ".")) {
                let address = String(decoding: Bytes.lowercased(bytes[start..<end]), as: UTF8.self)
                if !found.contains(address) { found.append(address) }
            }
            index = max(at + 1, end)
            if index >= bytes.endIndex { break }
        }
        return found
    }

    public static func addresses(in text: String) -> [String] { addresses(in: Array(text.utf8)) }

    /// The first address in a header value such as `"Maya" <maya@creator.example>`.
    public static func first(in text: String) -> String? {
        let bytes = Array(text.utf8)
        // Prefer the part in angle brackets: display names may contain '@'.
        if let open = bytes.lastIndex(of: 60), let close = bytes[open...].firstIndex(of: 62),
            let inside = addresses(in: bytes[(open + 1)..<close]).first
        {
            return inside
        }
        return addresses(in: bytes).first
    }

    /// Message-IDs in a header such as References: the text inside each `<...>`
    /// (a bare id without brackets when there are none).
    public static func messageIDs(in text: String) -> [String] {
        let bytes = Array(text.utf8)
        var ids: [String] = []
        var index = 0
        while let open = bytes[index...].firstIndex(of: 60) {
            guard let close = bytes[open...].firstIndex(of: 62) else { break }
            let id = Bytes.trimmed(bytes[(open + 1)..<close])
            if id.contains(64) {
                let text = String(decoding: id, as: UTF8.self)
                if !ids.contains(text) { ids.append(text) }
            }
            index = close + 1
        }
        if ids.isEmpty {
            let bare = Bytes.trimmed(bytes[...])
            if bare.contains(64), !bare.contains(32) { ids.append(String(decoding: bare, as: UTF8.self)) }
        }
        return ids
    }
}
