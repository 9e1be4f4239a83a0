/// One header field: its name and its value, still as bytes.
public struct MIMEHeader: Sendable {
    /// The name as written.
    let name: ArraySlice<UInt8>
    /// The value as received, folded; unfolded only when read.
    let raw: ArraySlice<UInt8>

    init(name: ArraySlice<UInt8>, raw: ArraySlice<UInt8>) {
        self.name = name
        self.raw = raw
    }

    /// The name in lower case.
    public var key: String { String(decoding: Bytes.lowercased(name), as: UTF8.self) }

    /// Whether the header has this name; `lowercasedName` must be lower case ASCII.
    @inline(__always)
    public func isNamed(_ lowercasedName: [UInt8]) -> Bool {
        guard name.count == lowercasedName.count else { return false }
        var index = name.startIndex
        for byte in lowercasedName {
            if Bytes.lower(name[index]) != byte { return false }
            index += 1
        }
        return true
    }

    /// The value unfolded (line ends removed) and trimmed.
    public var value: [UInt8] {
        let trimmed = Bytes.trimmed(raw)
        guard trimmed.contains(10) else { return Array(trimmed) }
        return trimmed.filter { $0 != 10 }
    }

    /// The value with encoded words decoded.
    public var text: String { EncodedWords.decode(value) }
}

/// A `Content-Type` value: `type/subtype` in lower case and its parameters
/// (names in lower case, quotes removed, RFC 2231 continuations joined).
public struct ContentType: Sendable, Equatable {
    public var type: String
    public var subtype: String
    public var parameters: [String: String]

    public var mimeType: String { type + "/" + subtype }

    public static let textPlain = ContentType(type: "text", subtype: "plain", parameters: [:])

    public init(type: String, subtype: String, parameters: [String: String]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public init(parsing value: String) { self.init(parsing: Array(value.utf8)) }

    public init(parsing value: [UInt8]) {
        let (head, parameters) = HeaderParameters.parse(value)
        let bytes = Bytes.lowercased(head.utf8)
        if let slash = bytes.firstIndex(of: 47) {
            type = String(decoding: Bytes.trimmed(bytes[..<slash]), as: UTF8.self)
            subtype = String(decoding: Bytes.trimmed(bytes[(slash + 1)...]), as: UTF8.self)
        } else {
            type = "text"
            subtype = "plain"
        }
        self.parameters = parameters
    }
}

/// `value; name=value; name="quoted; value"` as used by Content-Type and Content-Disposition.
public enum HeaderParameters {
    public static func parse(_ value: String) -> (head: String, parameters: [String: String]) {
        parse(Array(value.utf8))
    }

    public static func parse(_ value: [UInt8]) -> (head: String, parameters: [String: String]) {
        // The common case, a bare value: no quoting, no parameters.
        if !value.contains(59) { return (String(decoding: Bytes.trimmed(value[...]), as: UTF8.self), [:]) }
        var pieces: [[UInt8]] = []
        var current: [UInt8] = []
        var quoted = false
        var escaped = false
        for byte in value {
            if escaped {
                current.append(byte)
                escaped = false
            } else if byte == 92 && quoted {
                escaped = true
            } else if byte == 34 {
                quoted.toggle()
            } else if byte == 59 && !quoted {
                pieces.append(current)
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
        }
        pieces.append(current)
        let head = pieces.first.map { String(decoding: Bytes.trimmed($0[...]), as: UTF8.self) } ?? ""
        var parameters: [String: String] = [:]
        var continued: [String: [(Int, String)]] = [:]
        for bytes in pieces.dropFirst() {
            guard let equals = bytes.firstIndex(of: 61) else { continue }
            let name = String(decoding: Bytes.lowercased(Bytes.trimmed(bytes[..<equals])), as: UTF8.self)
            let value = Bytes.text(Bytes.trimmed(bytes[(equals + 1)...]))
            // RFC 2231: name*0=..., name*1*=...; the charset prefix of extended values is dropped.
            if let star = name.firstIndex(of: "*") {
                let base = String(name[..<star])
                let rest = String(name[name.index(after: star)...].filter { $0 != "*" })
                var text = value
                if name.hasSuffix("*") {
                    let parts = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if parts.count == 3, rest.isEmpty || rest == "0" { text = String(parts[2]) }
                    text = percentDecoded(text)
                }
                continued[base, default: []].append((Int(rest) ?? 0, text))
            } else if parameters[name] == nil {
                parameters[name] = value
            }
        }
        for (name, parts) in continued where parameters[name] == nil {
            parameters[name] = parts.sorted { $0.0 < $1.0 }.map(\.1).joined()
        }
        return (head, parameters)
    }

    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let h = TransferEncoding.hexValue(high), let l = TransferEncoding.hexValue(low)
            {
                bytes.append(h << 4 | l)
            } else {
                bytes.append(byte)
            }
        }
        return Bytes.text(bytes)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line ends.
    public var trimmingSpaces: String {
        let text = Substring(self)
        let view = text.utf8
        var start = view.startIndex
        var end = view.endIndex
        func isBlank(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 13 || byte == 10 }
        while start < end, isBlank(view[start]) { start = view.index(after: start) }
        while end > start, isBlank(view[view.index(before: end)]) { end = view.index(before: end) }
        return String(text[start..<end])
    }
}

/// A message or body part: headers, the body as received, and for multiparts
/// the parts. `message/rfc822` bodies are read on demand with `embedded`.
public struct MIMEPart: Sendable {
    public var headers: [MIMEHeader]
    /// The body still in its transfer encoding, line ends normalised to LF.
    public var body: ArraySlice<UInt8>
    public var parts: [MIMEPart]
    public var contentType: ContentType
    /// Nesting depth, 0 for the message itself.
    public var depth: Int

    /// The first header of that name (case-insensitive), as bytes.
    public func headerBytes(_ name: String) -> [UInt8]? {
        let key = Bytes.lowercased(name.utf8)
        return headers.first { $0.isNamed(key) }?.value
    }

    /// Every header of that name, in order.
    public func headers(named name: String) -> [MIMEHeader] {
        let key = Bytes.lowercased(name.utf8)
        return headers.filter { $0.isNamed(key) }
    }

    /// The first header of that name with encoded words decoded.
    public func header(_ name: String) -> String? {
        headerBytes(name).map(EncodedWords.decode)
    }

    public func hasHeader(_ name: String) -> Bool {
        let key = Bytes.lowercased(name.utf8)
        return headers.contains { $0.isNamed(key) }
    }

    public var transferEncoding: String {
        headerBytes("content-transfer-encoding").map { Bytes.text(Bytes.trimmed($0[...])).lowercased() } ?? "7bit"
    }

    /// The body with its transfer encoding undone.
    public var decodedBody: [UInt8] {
        switch transferEncoding {
        case "base64": TransferEncoding.base64(body)
        case "quoted-printable": TransferEncoding.quotedPrintable(Array(body))
        default: Array(body)
        }
    }

    /// The body as text in its declared charset.
    public var text: String {
        Charset.decode(decodedBody, charset: contentType.parameters["charset"])
    }

    /// The message carried in a `message/rfc822` (or `text/rfc822-headers`) body.
    public func embedded(limits: MIMELimits = .standard) -> MIMEPart {
        MIMEReader.parse(normalized: decodedBody[...], depth: depth + 1, limits: limits)
    }

    /// Every part in document order, this one first.
    public var allParts: [MIMEPart] {
        var result: [MIMEPart] = [self]
        for part in parts { result += part.allParts }
        return result
    }
}
