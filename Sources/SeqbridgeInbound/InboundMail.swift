import SeqbridgeCore
import SeqbridgeMIME

/// A parsed inbound message with the facts every classification step needs,
/// each worked out once, when first asked for.
final class InboundMail {
    let raw: [UInt8]
    let root: MIMEPart
    /// Leaf parts outside any attached message, in order.
    let leaves: [MIMEPart]
    /// Parts holding a returned or reported original message (or its headers).
    let originals: [MIMEPart]
    let subject: String
    let lowerSubject: [UInt8]
    let fromAddress: String?
    let lowerFrom: [UInt8]

    init(_ raw: [UInt8]) {
        self.raw = raw
        root = MIMEReader.parse(raw)
        var leaves: [MIMEPart] = []
        var originals: [MIMEPart] = []
        func walk(_ part: MIMEPart) {
            if !part.parts.isEmpty {
                for child in part.parts { walk(child) }
                return
            }
            switch part.contentType.mimeType {
            case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers",
                "message/global-headers", "message/partial":
                originals.append(part)
            default: leaves.append(part)
            }
        }
        walk(root)
        self.leaves = leaves
        self.originals = originals
        subject = root.header("subject") ?? ""
        lowerSubject = Bytes.lowercased(subject.utf8)
        let from = root.header("from") ?? ""
        fromAddress = AddressScan.first(in: from)
        lowerFrom = Bytes.lowercased(from.utf8)
    }

    /// The first leaf of that MIME type.
    func leaf(_ mimeType: String) -> MIMEPart? { leaves.first { $0.contentType.mimeType == mimeType } }

    /// The attached originals, parsed.
    lazy var embeddedOriginals: [MIMEPart] = originals.map { $0.embedded() }

    /// The human-readable explanation: the first text/plain leaf, or the first
    /// text/html leaf without its tags.
    lazy var explanation: String = computeExplanation()

    private func computeExplanation() -> String {
        if let plain = leaves.first(where: { $0.contentType.mimeType == "text/plain" }) { return plain.text }
        if let html = leaves.first(where: { $0.contentType.mimeType == "text/html" }) {
            return Self.strippingTags(html.text)
        }
        // A multipart whose boundaries are lost: its whole body is the text.
        if let broken = leaves.first(where: { $0.contentType.type == "multipart" || $0.contentType.type == "text" }) {
            return broken.text
        }
        return ""
    }

    static func strippingTags(_ html: String) -> String {
        var out = ""
        out.reserveCapacity(html.utf8.count)
        var inTag = false
        var tagName = ""
        for character in html {
            if inTag {
                if character == ">" {
                    inTag = false
                    let name = tagName.lowercased()
                    if name.hasPrefix("br") || name.hasPrefix("/p") || name.hasPrefix("p") || name.hasPrefix("/div")
                        || name.hasPrefix("/tr") || name.hasPrefix("/li") || name.hasPrefix("/h")
                    {
                        out.append("\n")
                    }
                } else if tagName.count < 8 {
                    tagName.append(character)
                }
            } else if character == "<" {
                inTag = true
                tagName = ""
            } else {
                out.append(character)
            }
        }
        return out.replacingEntities()
    }

    /// Our Message-IDs and token mentioned anywhere in the returned material:
    /// attached originals, their headers, and text quoted in the body.
    func returnedReferences() -> (messageIDs: [String], token: String?) { references }

    private lazy var references: (messageIDs: [String], token: String?) = computeReferences()

    private func computeReferences() -> (messageIDs: [String], token: String?) {
        var ids: [String] = []
        var token: String? = nil
        func scan(_ bytes: [UInt8]) {
            let lowered = Bytes.lowercased(bytes)
            for key in ["message-id:", "original-message-id:", "x-original-message-id:"] {
                var from = 0
                let needle = Array(key.utf8)
                while let hit = Bytes.find(needle, in: lowered, from: from) {
                    from = hit + needle.count
                    // Only at a line start (possibly indented or quoted with "> ").
                    var back = hit - 1
                    while back >= 0, lowered[back] == 32 || lowered[back] == 9 || lowered[back] == 62 { back -= 1 }
                    if back >= 0, lowered[back] != 10 {
                        // "original-message-id:" contains "message-id:": let the longer key handle it.
                        continue
                    }
                    var end = from
                    while end < bytes.count, bytes[end] != 10 { end += 1 }
                    // A folded value continues on the next line.
                    if end + 1 < bytes.count, Bytes.isSpace(bytes[end + 1]) {
                        end += 1
                        while end < bytes.count, bytes[end] != 10 { end += 1 }
                    }
                    for id in AddressScan.messageIDs(in: Bytes.text(bytes[from..<end])) where !ids.contains(id) {
                        ids.append(id)
                    }
                }
            }
            if token == nil, let hit = Bytes.find(Array("x-seqbridge-token:".utf8), in: lowered) {
                var start = hit + 18
                while start < bytes.count, Bytes.isSpace(bytes[start]) { start += 1 }
                var end = start
                while end < bytes.count, bytes[end] > 32, bytes[end] < 127 { end += 1 }
                if end > start { token = Bytes.text(bytes[start..<end]) }
            }
        }
        // Attached originals: their own headers say it.
        for embedded in embeddedOriginals {
            for name in ["message-id", "x-original-message-id"] {
                for id in embedded.header(name).map(AddressScan.messageIDs) ?? [] where !ids.contains(id) {
                    ids.append(id)
                }
            }
            if token == nil, let value = embedded.header("x-seqbridge-token")?.trimmingSpaces, !value.isEmpty {
                token = value
            }
        }
        // Originals quoted in the text, when the attachments said nothing.
        if ids.isEmpty || token == nil {
            for part in originals where ids.isEmpty { scan(part.decodedBody) }
            for part in leaves where part.contentType.type == "text" || part.contentType.type == "message" {
                scan(part.decodedBody)
            }
        }
        return (ids, token)
    }

    /// The original message's recipient, from the returned headers, or from a
    /// `To:` line of an original quoted inline in the text.
    func returnedRecipient() -> String? { recipient }

    private lazy var recipient: String? = computeRecipient()

    private func computeRecipient() -> String? {
        for embedded in embeddedOriginals {
            if let to = embedded.header("to"), let address = AddressScan.first(in: to) { return address }
        }
        for part in leaves where part.contentType.type == "text" {
            let text = part.decodedBody
            var lineStart = 0
            while lineStart < text.count {
                var lineEnd = lineStart
                while lineEnd < text.count, text[lineEnd] != 10 { lineEnd += 1 }
                var start = lineStart
                while start < lineEnd, text[start] == 32 || text[start] == 9 || text[start] == 62 { start += 1 }
                if lineEnd - start > 3, Bytes.lower(text[start]) == UInt8(ascii: "t"),
                    Bytes.lower(text[start + 1]) == UInt8(ascii: "o"), text[start + 2] == UInt8(ascii: ":"),
                    let address = AddressScan.first(in: Bytes.text(text[(start + 3)..<lineEnd]))
                {
                    return address
                }
                lineStart = lineEnd + 1
            }
        }
        return nil
    }

    /// The original message's sender, from the returned headers.
    func returnedSender() -> String? {
        for embedded in embeddedOriginals {
            if let from = embedded.header("from"), let address = AddressScan.first(in: from) {
                return address
            }
        }
        return nil
    }

    /// When the report or message was written, when its Date is believable.
    func date(receivedAt: Timestamp) -> Timestamp {
        guard let millis = dateMillis else { return receivedAt }
        // A date far in the future is a broken clock: use the arrival time instead.
        if millis > receivedAt.millisecondsSinceEpoch + 86_400_000 { return receivedAt }
        return Timestamp(millisecondsSinceEpoch: millis)
    }

    private lazy var dateMillis: Int64? = root.header("date").flatMap(MailDate.parse)

    /// A stable id for this message: its Message-ID, or a digest of its bytes.
    lazy var identity: String = computeIdentity()

    private func computeIdentity() -> String {
        if let id = root.header("message-id").flatMap({ AddressScan.messageIDs(in: $0).first }) { return "mid:" + id }
        return "sha:" + Digest.hex(raw)
    }
}

extension String {
    /// The handful of HTML entities bounce pages use.
    func replacingEntities() -> String {
        guard contains("&") else { return self }
        return
            self
            .replacing("&lt;", with: "<")
            .replacing("&gt;", with: ">")
            .replacing("&quot;", with: "\"")
            .replacing("&#39;", with: "'")
            .replacing("&nbsp;", with: " ")
            .replacing("&amp;", with: "&")
    }
}

/// A 128-bit digest for naming messages without a Message-ID (two FNV-1a lanes:
/// not for secrets, only for telling deliveries apart).
enum Digest {
    static func hex(_ bytes: [UInt8]) -> String {
        var first: UInt64 = 0xcbf2_9ce4_8422_2325
        var second: UInt64 = 0x84_222_325_cbf2_9ce4
        for byte in bytes {
            first = (first ^ UInt64(byte)) &* 0x100_0000_01b3
            second = (second ^ UInt64(byte ^ 0x5a)) &* 0x100_0000_01b3
        }
        return String(first, radix: 16) + String(second, radix: 16) + String(bytes.count, radix: 16)
    }
}
