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
            while start < at, bytes[start] == UInt8(ascii: ".") || bytes[start] == UInt8(ascii: "'")
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
        // Prefer the part in angle brackets: display names may contain '@'.
        if let open = text.lastIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
            if let inside = addresses(in: String(text[text.index(after: open)..<close])).first { return inside }
        }
        return addresses(in: text).first
    }

    /// Message-IDs in a header such as References: the text inside each `<...>`
    /// (a bare id without brackets when there are none).
    public static func messageIDs(in text: String) -> [String] {
        var ids: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            let id = rest[rest.index(after: open)..<close].trimmingSpaces
            if id.contains("@"), !ids.contains(id) { ids.append(id) }
            rest = rest[rest.index(after: close)...]
        }
        if ids.isEmpty {
            let bare = text.trimmingSpaces
            if bare.contains("@"), !bare.contains(" ") { ids.append(bare) }
        }
        return ids
    }
}
