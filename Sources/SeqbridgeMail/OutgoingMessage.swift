import SeqbridgeCore

/// The header that carries an enrollment's token, so that providers echo it
/// back and replies and bounces can be matched to the enrollment.
public let enrollmentTokenHeader = "X-Seqbridge-Token"

/// A name and address as written in a From or To header.
public struct Mailbox: Sendable, Hashable {
    public var name: String?
    public var address: String

    public init(name: String?, address: String) {
        self.name = name
        self.address = address
    }
}

/// A message ready for a transport: the envelope and the exact bytes to send.
public struct OutgoingMessage: Sendable, Hashable {
    public var messageID: String
    public var envelopeFrom: String
    public var recipient: String
    /// The whole RFC 5322 message with CRLF line ends.
    public var data: [UInt8]

    public init(messageID: String, envelopeFrom: String, recipient: String, data: [UInt8]) {
        self.messageID = messageID
        self.envelopeFrom = envelopeFrom
        self.recipient = recipient
        self.data = data
    }
}

/// Builds RFC 5322 messages: UTF-8 text, encoded words for non-ASCII headers,
/// quoted-printable bodies where the text is not plain 7-bit ASCII.
public enum MessageComposer {
    public struct Parts: Sendable {
        public var from: Mailbox
        public var to: Mailbox
        public var subject: String
        public var textBody: String
        public var date: Timestamp
        /// Without angle brackets, e.g. `abc123@example.com`.
        public var messageID: String
        public var enrollmentToken: String
        /// An HTML alternative to the text (multipart/alternative).
        public var htmlBody: String?
        /// `List-Unsubscribe` targets (RFC 2369): an HTTPS URL, a mail address, or both.
        public var unsubscribeURL: String?
        public var unsubscribeMailto: String?

        public init(
            from: Mailbox, to: Mailbox, subject: String, textBody: String, date: Timestamp, messageID: String,
            enrollmentToken: String, htmlBody: String? = nil, unsubscribeURL: String? = nil,
            unsubscribeMailto: String? = nil
        ) {
            self.from = from
            self.to = to
            self.subject = subject
            self.textBody = textBody
            self.date = date
            self.messageID = messageID
            self.enrollmentToken = enrollmentToken
            self.htmlBody = htmlBody
            self.unsubscribeURL = unsubscribeURL
            self.unsubscribeMailto = unsubscribeMailto
        }
    }

    public static func compose(_ parts: Parts) -> OutgoingMessage {
        var text = ""
        text.reserveCapacity(512 + parts.textBody.utf8.count)
        func header(_ name: String, _ value: String) {
            text += name + ": " + value + "\r\n"
        }
        header("From", address(parts.from))
        header("To", address(parts.to))
        header("Subject", encodedWords(parts.subject, headerLength: "Subject: ".count))
        header("Date", rfc5322Date(parts.date))
        header("Message-ID", "<\(parts.messageID)>")
        header(enrollmentTokenHeader, parts.enrollmentToken)
        var targets: [String] = []
        if let url = parts.unsubscribeURL { targets.append("<\(withToken(url, parts.enrollmentToken))>") }
        if let mailbox = parts.unsubscribeMailto {
            targets.append("<mailto:\(plusAddress(mailbox, parts.enrollmentToken))?subject=unsubscribe>")
        }
        if !targets.isEmpty {
            header("List-Unsubscribe", targets.joined(separator: ", "))
            // RFC 8058 one-click: only for an HTTPS URL.
            if parts.unsubscribeURL?.lowercased().hasPrefix("https://") == true {
                header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
            }
        }
        header("MIME-Version", "1.0")
        if let html = parts.htmlBody {
            let boundary = "=_sb_" + String(parts.messageID.filter { $0.isLetter || $0.isNumber }.prefix(24))
            header("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"")
            text += "\r\n--\(boundary)\r\n"
            text += bodyPart(parts.textBody, type: "text/plain")
            text += "--\(boundary)\r\n"
            text += bodyPart(html, type: "text/html")
            text += "--\(boundary)--\r\n"
        } else {
            text += bodyPart(parts.textBody, type: "text/plain")
        }
        if !text.hasSuffix("\r\n") { text += "\r\n" }
        return OutgoingMessage(
            messageID: parts.messageID, envelopeFrom: parts.from.address, recipient: parts.to.address,
            data: Array(text.utf8))
    }

    /// A body's Content-Type and transfer encoding, a blank line and the body:
    /// 7bit when it can be, quoted-printable otherwise.
    static func bodyPart(_ raw: String, type: String) -> String {
        let body = normalizedLines(raw)
        var part: String
        if body.utf8.allSatisfy({ $0 < 128 }) && body.split(separator: "\r\n").allSatisfy({ $0.utf8.count <= 998 }) {
            part = "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + body
        } else {
            part =
                "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + quotedPrintable(body)
        }
        if !part.hasSuffix("\r\n") { part += "\r\n" }
        return part
    }

    /// The unsubscribe URL naming the enrollment: `{token}` replaced, or a `token` parameter added.
    static func withToken(_ url: String, _ token: String) -> String {
        if url.contains("{token}") { return url.replacingAll("{token}", with: token) }
        return url + (url.contains("?") ? "&" : "?") + "token=" + token
    }

    /// `unsubscribe@brand.example` → `unsubscribe+TOKEN@brand.example`.
    static func plusAddress(_ address: String, _ token: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return address }
        return address[..<at] + "+" + token + address[at...]
    }

    /// RFC 5322 "specials": a display name holding any of them must be quoted.
    private static let specials = Set("()<>[]:;@\\,.\"".utf8)

    static func address(_ mailbox: Mailbox) -> String {
        guard let name = mailbox.name, !name.isEmpty else { return "<\(mailbox.address)>" }
        if name.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) {
            let needsQuotes = name.utf8.contains { specials.contains($0) }
            let shown =
                needsQuotes
                ? "\"" + name.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\"" : name
            return "\(shown) <\(mailbox.address)>"
        }
        return encodedWords(name, headerLength: 6) + " <\(mailbox.address)>"
    }

    /// RFC 2047 `=?UTF-8?B?...?=` words of at most 75 characters, split
    /// between Unicode scalars and folded onto continuation lines; plain
    /// ASCII is folded at spaces so no line passes 78 characters where it can be helped.
    static func encodedWords(_ value: String, headerLength: Int) -> String {
        if value.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) { return foldASCII(value, headerLength: headerLength) }
        var words: [String] = []
        var chunk: [UInt8] = []
        // 45 bytes of UTF-8 encode to 60 base64 characters: a 72-character word.
        // The first word shares its line with the header name.
        var limit = headerLength > 18 ? 33 : 45
        for scalar in value.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > limit, !chunk.isEmpty {
                words.append("=?UTF-8?B?" + base64(chunk) + "?=")
                chunk = []
                limit = 45
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + base64(chunk) + "?=") }
        return words.joined(separator: "\r\n ")
    }

    /// Folds a long ASCII header value at spaces (RFC 5322 §2.2.3).
    static func foldASCII(_ value: String, headerLength: Int) -> String {
        guard headerLength + value.utf8.count > 78 else { return value }
        var lines: [String] = []
        var current = ""
        var room = 78 - headerLength
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty, current.utf8.count + 1 + word.utf8.count > room {
                lines.append(current)
                current = String(word)
                room = 77
            } else {
                current += current.isEmpty && lines.isEmpty ? String(word) : (current.isEmpty ? "" : " ") + word
            }
        }
        lines.append(current)
        return lines.joined(separator: "\r\n ")
    }

    /// Every line end (CRLF, LF or a bare CR) as CRLF.
    static func normalizedLines(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + 64)
        var previous: UInt8 = 0
        for byte in text.utf8 {
            switch byte {
            case 13: output += [13, 10]
            case 10 where previous == 13: break
            case 10: output += [13, 10]
            default: output.append(byte)
            }
            previous = byte
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// RFC 2045 quoted-printable for a CRLF text, soft-breaking at 76 characters.
    static func quotedPrintable(_ text: String) -> String {
        var output = ""
        let hex = Array("0123456789ABCDEF")
        for (index, line) in text.components(separatedByCRLF: ()).enumerated() {
            if index > 0 { output += "\r\n" }
            var length = 0
            let bytes = Array(line.utf8)
            for (position, byte) in bytes.enumerated() {
                let isLast = position == bytes.count - 1
                var piece: String
                if (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !isLast) {
                    piece = String(UnicodeScalar(byte))
                } else {
                    piece = "=" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
                }
                if length + piece.count > 75 {
                    output += "=\r\n"
                    length = 0
                }
                output += piece
                length += piece.count
            }
        }
        return output
    }

    /// `Mon, 02 Nov 2026 10:00:00 +0000`.
    public static func rfc5322Date(_ timestamp: Timestamp) -> String {
        let parts = timestamp.utcComponents
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.weekday)]), \(two(parts.day)) \(months[Int(parts.month - 1)]) \(parts.year) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }
}

private let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

func base64(_ bytes: [UInt8]) -> String {
    var output: [UInt8] = []
    output.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index < bytes.count {
        let b0 = bytes[index]
        let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
        let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
        output.append(base64Alphabet[Int(b0 >> 2)])
        output.append(base64Alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
        output.append(index + 1 < bytes.count ? base64Alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : 61)
        output.append(index + 2 < bytes.count ? base64Alphabet[Int(b2 & 63)] : 61)
        index += 3
    }
    return String(decoding: output, as: UTF8.self)
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }

    func components(separatedByCRLF _: Void) -> [Substring] {
        split(separator: "\r\n", omittingEmptySubsequences: false)
    }
}
