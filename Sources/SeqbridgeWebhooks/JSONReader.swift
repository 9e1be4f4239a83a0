import Foundation

/// An RFC 8259 reader for webhook bodies (a trailing comma is let through, as
/// `JSONSerialization` lets it through). It gives the same shapes as
/// `JSONSerialization` (`[String: Any]`, `[Any]`, `String`, `NSNumber`,
/// `NSNull`) in one pass over the bytes, several times faster on Linux, and it
/// notes where each element of a top-level array starts and ends, so each
/// event keeps its exact text without a second scan.
struct JSONReader {
    /// Why a text is not JSON, with the byte offset where reading stopped.
    struct Failure: Error, Equatable {
        var offset: Int
        var expected: String

        var description: String { "invalid JSON at byte \(offset + 1) (\(expected))" }
    }

    /// Nesting deeper than this is refused rather than read by recursion.
    static let maxDepth = 256

    /// The value, and for a top-level array the byte range of each element.
    static func read(_ bytes: [UInt8]) throws(Failure) -> (value: Any, elements: [Range<Int>]?) {
        let result: Result<(Any, [Range<Int>]?), Failure> = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(bytes: buffer)
            do throws(Failure) {
                reader.skipSpace()
                var ranges: [Range<Int>]?
                let value: Any
                if reader.peek == UInt8(ascii: "[") {
                    var found: [Range<Int>] = []
                    value = try reader.array(ranges: &found)
                    ranges = found
                } else {
                    value = try reader.value()
                }
                reader.skipSpace()
                guard reader.index == buffer.count else { throw reader.failure("the end of the text") }
                return .success((value, ranges))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func failure(_ expected: String) -> Failure { Failure(offset: index, expected: "expected \(expected)") }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 32, 9, 10, 13: index += 1
            default: return
            }
        }
    }

    private mutating func value() throws(Failure) -> Any {
        guard let byte = peek else { throw failure("a value") }
        switch byte {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["):
            var ignored: [Range<Int>] = []
            return try array(ranges: &ignored)
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "t"):
            try literal("true")
            return NSNumber(value: true)
        case UInt8(ascii: "f"):
            try literal("false")
            return NSNumber(value: false)
        case UInt8(ascii: "n"):
            try literal("null")
            return NSNull()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0
        else { throw failure("'\(word)'") }
        index += count
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("at most \(Self.maxDepth) levels of nesting") }
    }

    private mutating func object() throws(Failure) -> [String: Any] {
        try enter()
        defer { depth -= 1 }
        index += 1
        var result: [String: Any] = [:]
        skipSpace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return result
        }
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}"), !result.isEmpty {
                index += 1
                return result
            }
            guard peek == UInt8(ascii: "\"") else { throw failure("a member name in quotes") }
            let key = try string()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw failure("':' after a member name") }
            index += 1
            skipSpace()
            result[key] = try value()
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return result
            default: throw failure("',' or '}' in an object")
            }
        }
    }

    private mutating func array(ranges: inout [Range<Int>]) throws(Failure) -> [Any] {
        try enter()
        defer { depth -= 1 }
        index += 1
        var result: [Any] = []
        skipSpace()
        if peek == UInt8(ascii: "]") {
            index += 1
            return result
        }
        while true {
            skipSpace()
            if peek == UInt8(ascii: "]"), !result.isEmpty {
                index += 1
                return result
            }
            let start = index
            result.append(try value())
            ranges.append(start..<index)
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return result
            default: throw failure("',' or ']' in an array")
            }
        }
    }

    private mutating func string() throws(Failure) -> String {
        index += 1
        let start = index
        // The common case: no escapes, the text is the bytes as they are.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw failure("no control character inside a string") }
            index += 1
        }
        var text = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard let escaped = peek else { throw failure("an escape after '\\'") }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                case UInt8(ascii: "b"): text.append(8)
                case UInt8(ascii: "f"): text.append(12)
                case UInt8(ascii: "n"): text.append(10)
                case UInt8(ascii: "r"): text.append(13)
                case UInt8(ascii: "t"): text.append(9)
                case UInt8(ascii: "u"): appendUTF8(try unicodeEscape(), to: &text)
                default:
                    index -= 1
                    throw failure("one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u after '\\'")
                }
            default:
                guard byte >= 0x20 else { throw failure("no control character inside a string") }
                text.append(byte)
                index += 1
            }
        }
        throw failure("'\"' to close the string")
    }

    /// The scalar of `\uXXXX` (already past `\u`), joining a surrogate pair; a lone surrogate is U+FFFD.
    private mutating func unicodeEscape() throws(Failure) -> UInt32 {
        let first = try hex4()
        switch first {
        case 0xD800...0xDBFF:
            if index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                let mark = index
                index += 2
                let second = try hex4()
                if (0xDC00...0xDFFF).contains(second) {
                    return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                }
                index = mark
            }
            return 0xFFFD
        case 0xDC00...0xDFFF: return 0xFFFD
        default: return first
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("four hex digits after '\\u'") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("four hex digits after '\\u'")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: UInt32, to text: inout [UInt8]) {
        let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
        text.append(contentsOf: UTF8.encode(value)!)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`: an integer when
    /// it is one and fits 64 bits, else a double.
    private mutating func number() throws(Failure) -> NSNumber {
        let start = index
        var negative = false
        if peek == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        func digits(_ reader: inout JSONReader) -> Int {
            let first = reader.index
            while let byte = reader.peek, byte &- UInt8(ascii: "0") < 10 { reader.index += 1 }
            return reader.index - first
        }
        let integerStart = index
        let integerDigits = digits(&self)
        guard integerDigits > 0 else { throw failure("a digit") }
        guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
            index = integerStart + 1
            throw failure("no leading zero in a number")
        }
        var integral = true
        if peek == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard digits(&self) > 0 else { throw failure("a digit after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            integral = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw failure("a digit in the exponent") }
        }
        if integral && integerDigits <= 18 {
            var value: Int64 = 0
            for position in integerStart..<index { value = value * 10 + Int64(bytes[position] - UInt8(ascii: "0")) }
            return NSNumber(value: negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if integral {
            if let value = Int64(text) { return NSNumber(value: value) }
            if let value = UInt64(text) { return NSNumber(value: value) }
        }
        return NSNumber(value: Double(text) ?? .nan)
    }
}
