/// The exact bytes of each element of a top-level JSON array, as received:
/// stored as the event's raw detail and hashed for its identity, without
/// re-serializing anything. Nil when the text is not an array.
func splitJSONArray(_ bytes: some Collection<UInt8>) -> [String]? {
    let bytes = Array(bytes)
    var index = 0
    func skipSpace() {
        while index < bytes.count, bytes[index] == 32 || bytes[index] == 9 || bytes[index] == 10 || bytes[index] == 13 {
            index += 1
        }
    }
    skipSpace()
    guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return nil }
    index += 1
    var elements: [String] = []
    var depth = 0
    var inString = false
    var start: Int?
    while index < bytes.count {
        let byte = bytes[index]
        if inString {
            if byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if byte == UInt8(ascii: "\"") { inString = false }
            index += 1
            continue
        }
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
            if start == nil { start = index }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            if start == nil { start = index }
            depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            if depth == 0 {
                // The closing bracket of the array itself.
                if let first = start { elements.append(trimmed(bytes[first..<index])) }
                return elements
            }
            depth -= 1
        case UInt8(ascii: ","):
            if depth == 0, let first = start {
                elements.append(trimmed(bytes[first..<index]))
                start = nil
            }
        case 32, 9, 10, 13: break
        default:
            if start == nil { start = index }
        }
        index += 1
    }
    return nil
}

private func trimmed(_ slice: ArraySlice<UInt8>) -> String {
    var slice = slice
    while let last = slice.last, last == 32 || last == 9 || last == 10 || last == 13 { slice = slice.dropLast() }
    return String(decoding: slice, as: UTF8.self)
}
