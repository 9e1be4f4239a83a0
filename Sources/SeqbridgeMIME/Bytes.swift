#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte helpers shared by the MIME reader and the classifier: mail is bytes
/// first, and most of what we look for is ASCII.
public enum Bytes {
    /// The byte lower-cased when it is an ASCII capital letter.
    @inline(__always)
    public static func lower(_ byte: UInt8) -> UInt8 {
        byte &- 65 < 26 ? byte | 0x20 : byte
    }

    /// An ASCII-lower-cased copy (other bytes unchanged).
    public static func lowercased(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBufferPointer { lowercased(buffer: $0) }
    }

    public static func lowercased(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        bytes.withUnsafeBufferPointer { lowercased(buffer: $0) }
    }

    public static func lowercased(_ bytes: String.UTF8View) -> [UInt8] {
        lowercased(Array(bytes))
    }

    public static func lowercased<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        if let fast = bytes.withContiguousStorageIfAvailable({ lowercased(buffer: $0) }) { return fast }
        return lowercased(buffer: Array(bytes).withUnsafeBufferPointer { Array($0) }[...])
    }

    private static func lowercased(buffer source: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: source.count) { target, count in
            for index in 0..<source.count {
                let byte = source[index]
                target[index] = byte &- 65 < 26 ? byte | 0x20 : byte
            }
            count = source.count
        }
    }

    private static func lowercased(buffer slice: ArraySlice<UInt8>) -> [UInt8] {
        slice.withUnsafeBufferPointer { lowercased(buffer: $0) }
    }

    /// Line ends made uniform: CRLF and a bare CR both become LF.
    public static func normalizingLineEnds(_ input: [UInt8]) -> [UInt8] {
        guard !input.isEmpty, input.withUnsafeBufferPointer({ memchr($0.baseAddress!, 13, $0.count) }) != nil else {
            return input
        }
        return input.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: source.count) { target, count in
                var written = 0
                var index = 0
                let total = source.count
                while index < total {
                    let byte = source[index]
                    if byte == 13 {
                        target[written] = 10
                        if index + 1 < total, source[index + 1] == 10 { index += 1 }
                    } else {
                        target[written] = byte
                    }
                    written += 1
                    index += 1
                }
                count = written
            }
        }
    }

    /// The first position of `needle` in `haystack` at or after `from`, comparing exactly.
    public static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int = 0) -> Int? {
        find(needle, in: haystack[...], from: from)
    }

    public static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>, from: Int? = nil) -> Int? {
        let start = from ?? haystack.startIndex
        guard !needle.isEmpty else { return start }
        guard start >= haystack.startIndex, start <= haystack.endIndex, needle.count <= haystack.endIndex - start
        else { return nil }
        return haystack.withUnsafeBufferPointer { buffer -> Int? in
            needle.withUnsafeBufferPointer { pattern -> Int? in
                let base = buffer.baseAddress!
                let first = Int32(pattern[0])
                var offset = start - haystack.startIndex
                let last = buffer.count - pattern.count
                while offset <= last {
                    guard let hit = memchr(base + offset, first, last - offset + 1) else { return nil }
                    let position = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                    if pattern.count == 1
                        || (base[position + 1] == pattern[1]
                            && memcmp(hit, pattern.baseAddress!, pattern.count) == 0)
                    {
                        return haystack.startIndex + position
                    }
                    offset = position + 1
                }
                return nil
            }
        }
    }

    /// Whether the already lower-cased `haystack` contains `needle` (lower-case ASCII).
    @inline(__always)
    public static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        find(Array(needle.utf8), in: haystack) != nil
    }

    public static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 }

    /// The slice without leading and trailing spaces, tabs and line ends.
    public static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) || bytes[start] == 10 || bytes[start] == 13 { start += 1 }
        while end > start, isSpace(bytes[end - 1]) || bytes[end - 1] == 10 || bytes[end - 1] == 13 { end -= 1 }
        return bytes[start..<end]
    }

    /// Text from bytes that should be ASCII or UTF-8; anything else is read as Latin-1.
    public static func text<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let valid = String(validating: bytes, as: UTF8.self) { return valid }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }
}
