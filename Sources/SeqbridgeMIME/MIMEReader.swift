/// Bounds that keep hostile input from costing unbounded time or memory.
public struct MIMELimits: Sendable {
    /// Multiparts nested deeper than this are kept as opaque bodies.
    public var maxDepth: Int
    /// Parts beyond this many in one multipart are ignored.
    public var maxPartsPerMultipart: Int
    /// Header fields beyond this many are ignored.
    public var maxHeaders: Int

    public static let standard = MIMELimits(maxDepth: 12, maxPartsPerMultipart: 200, maxHeaders: 500)

    public init(maxDepth: Int, maxPartsPerMultipart: Int, maxHeaders: Int) {
        self.maxDepth = maxDepth
        self.maxPartsPerMultipart = maxPartsPerMultipart
        self.maxHeaders = maxHeaders
    }
}

private let contentTypeName = Array("content-type".utf8)

/// Reads RFC 5322 / MIME messages from bytes. It never fails: broken
/// structure degrades to fewer parts, never to a crash or a hang.
public enum MIMEReader {
    /// Parses a whole message (CRLF, LF or bare CR line ends).
    public static func parse(_ bytes: [UInt8], limits: MIMELimits = .standard) -> MIMEPart {
        let normalized = Bytes.normalizingLineEnds(bytes)
        return parse(normalized: normalized[...], depth: 0, limits: limits)
    }

    /// Parses bytes whose line ends are already LF.
    public static func parse(normalized bytes: ArraySlice<UInt8>, depth: Int, limits: MIMELimits) -> MIMEPart {
        let (headers, bodyStart) = readHeaders(bytes, limits: limits)
        let body = bytes[bodyStart...]
        let contentType =
            headers.first { $0.isNamed(contentTypeName) }.map { ContentType(parsing: $0.value) } ?? .textPlain
        var part = MIMEPart(headers: headers, body: body, parts: [], contentType: contentType, depth: depth)
        if contentType.type == "multipart", depth < limits.maxDepth,
            let boundary = contentType.parameters["boundary"], !boundary.isEmpty
        {
            var pieces = split(body, boundary: Array(boundary.utf8))
            // A declared boundary that never appears: use the one the body actually has.
            if pieces.isEmpty, let guessed = guessBoundary(body) { pieces = split(body, boundary: guessed) }
            part.parts = pieces.prefix(limits.maxPartsPerMultipart).map {
                var child = parse(normalized: $0, depth: depth + 1, limits: limits)
                // In multipart/digest the default part type is message/rfc822.
                if contentType.subtype == "digest", !child.hasHeader("content-type") {
                    child.contentType = ContentType(type: "message", subtype: "rfc822", parameters: [:])
                }
                return child
            }
        }
        return part
    }

    /// The header fields and the index where the body starts.
    static func readHeaders(_ bytes: ArraySlice<UInt8>, limits: MIMELimits) -> ([MIMEHeader], Int) {
        var headers: [MIMEHeader] = []
        var index = bytes.startIndex
        let end = bytes.endIndex
        // An mbox "From " separator line before the headers.
        if bytes.count > 5, bytes[index..<index + 5].elementsEqual("From ".utf8) {
            while index < end, bytes[index] != 10 { index += 1 }
            if index < end { index += 1 }
        }
        var name: ArraySlice<UInt8>? = nil
        var valueStart = index
        var valueEnd = index
        func flush() {
            if let current = name, headers.count < limits.maxHeaders {
                headers.append(MIMEHeader(name: current, raw: bytes[valueStart..<valueEnd]))
            }
            name = nil
        }
        while index < end {
            var lineEnd = index
            while lineEnd < end, bytes[lineEnd] != 10 { lineEnd += 1 }
            let line = bytes[index..<lineEnd]
            let next = lineEnd < end ? lineEnd + 1 : end
            if line.isEmpty {
                flush()
                return (headers, next)
            }
            if Bytes.isSpace(line[line.startIndex]) {
                if name != nil {
                    valueEnd = lineEnd
                } else if headers.isEmpty {
                    // Leading whitespace before any header: not a header block.
                    return (headers, index)
                }
                index = next
                continue
            }
            // A parameter continued on a line that lost its indentation (`...;` then `boundary=...`).
            if name != nil, let last = bytes[valueStart..<valueEnd].last(where: { !Bytes.isSpace($0) }),
                last == UInt8(ascii: ";"), line.contains(UInt8(ascii: "="))
            {
                valueEnd = lineEnd
                index = next
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                !line[line.startIndex..<colon].contains(where: { $0 <= 32 || $0 >= 127 })
                    || isSloppyName(line[line.startIndex..<colon])
            else {
                // Not a header line: the body starts here.
                flush()
                return (headers, index)
            }
            flush()
            var nameEnd = colon
            while nameEnd > line.startIndex, Bytes.isSpace(line[nameEnd - 1]) { nameEnd -= 1 }
            name = line[line.startIndex..<nameEnd]
            valueStart = colon + 1
            valueEnd = lineEnd
            index = next
        }
        flush()
        return (headers, end)
    }

    /// The boundary a multipart body really uses when its header names another:
    /// the first `--token` line that appears again later.
    static func guessBoundary(_ body: ArraySlice<UInt8>) -> [UInt8]? {
        var seen: [[UInt8]: Int] = [:]
        var index = body.startIndex
        var checked = 0
        while index < body.endIndex, checked < 2000 {
            var lineEnd = index
            while lineEnd < body.endIndex, body[lineEnd] != 10 { lineEnd += 1 }
            let line = body[index..<lineEnd]
            if line.count > 3, line.count < 200, line.first == 45, line[line.startIndex + 1] == 45,
                !line.contains(where: { $0 <= 32 })
            {
                var token = Array(line.dropFirst(2))
                if token.count > 2, token.suffix(2) == [45, 45] { token.removeLast(2) }
                if !token.isEmpty, !token.allSatisfy({ $0 == 45 }) {
                    seen[token, default: 0] += 1
                    if seen[token]! >= 2 { return token }
                }
            }
            checked += 1
            index = lineEnd + 1
        }
        return nil
    }

    /// "Name :" with a space before the colon, which some old software writes.
    static func isSloppyName(_ name: ArraySlice<UInt8>) -> Bool {
        let trimmed = Bytes.trimmed(name)
        return !trimmed.isEmpty && !trimmed.contains(where: { $0 <= 32 || $0 >= 127 })
    }

    /// The parts of a multipart body. A missing closing boundary ends the last
    /// part at the end of the body; a boundary that never appears gives no parts.
    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let marker: [UInt8] = [45, 45] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int? = nil
        var index = body.startIndex
        let end = body.endIndex
        while index < end {
            // `index` is at the start of a line.
            var lineEnd = index
            if body[index] == 45, end - index >= marker.count, body[index..<index + marker.count].elementsEqual(marker)
            {
                while lineEnd < end, body[lineEnd] != 10 { lineEnd += 1 }
                let after = index + marker.count
                let closing = after + 1 < end && body[after] == 45 && body[after + 1] == 45
                let rest = body[(closing ? after + 2 : after)..<lineEnd]
                if rest.allSatisfy(Bytes.isSpace) {
                    if let start = partStart {
                        // The line end before the boundary belongs to the boundary.
                        var stop = index
                        if stop > start, body[stop - 1] == 10 { stop -= 1 }
                        parts.append(body[start..<max(start, stop)])
                    }
                    if closing { return parts }
                    partStart = lineEnd < end ? lineEnd + 1 : end
                    index = partStart!
                    continue
                }
            }
            if let next = Bytes.find([10], in: body, from: index) {
                index = next + 1
            } else {
                index = end
            }
        }
        if let start = partStart, start < end { parts.append(body[start..<end]) }
        return parts
    }
}
