import Foundation
import SeqbridgeCore
import SeqbridgeInbound
import SeqbridgeMIME
import SeqbridgeStore

/// Inbound mail (`POST /inbound/{source}`) and delivery reports
/// (`POST /reports/dsn`): each source's envelope is opened to reach the
/// message, and every message goes through the same classifier.
public enum InboundSources {
    /// The names used in `/inbound/{source}`.
    public static let names = ["raw", "sendgrid", "mailgun", "postmark", "ses"]
    /// Every `ingest --source` name this type handles.
    public static let ingestNames = names.map { $0 == "raw" ? "raw" : "inbound-\($0)" } + ["dsn", "dsn-xml"]

    /// A decoded inbound request, with what the classifier made of each message.
    public struct Decoded: Sendable {
        public var webhook: DecodedWebhook
        /// Form fields, for sources whose signature is carried in them.
        public var fields: [String: String]
        public var kinds: [InboundKind]
    }

    /// Opens the envelope of an inbound-mail request and classifies the message in it.
    public static func decode(source: String, _ request: WebhookRequest) throws(WebhookError) -> Decoded {
        switch source {
        case "raw":
            try checkType(request, accepted: ["message/rfc822", "text/plain", "application/octet-stream"])
            return classify(try message(request.body), source: "inbound-raw", request: request)
        case "sendgrid":
            let fields = try formParts(request)
            let decoded: Decoded
            if let raw = fields["email"] {
                decoded = classify(try message(raw), source: "inbound-sendgrid", request: request)
            } else {
                let headers = fields["headers"].map { Bytes.text($0) } ?? ""
                let text = fields["text"].map { Bytes.text($0) } ?? ""
                guard !headers.isEmpty else {
                    throw .unparseable("the SendGrid form has neither an 'email' field nor a 'headers' field")
                }
                decoded = classify(
                    rebuilt(headerBlock: headers, text: text), source: "inbound-sendgrid", request: request)
            }
            return Decoded(webhook: decoded.webhook, fields: fields.mapValues { Bytes.text($0) }, kinds: decoded.kinds)
        case "mailgun":
            let fields = try formParts(request)
            let texts = fields.mapValues { Bytes.text($0) }
            var decoded: Decoded
            if let raw = fields["body-mime"] {
                decoded = classify(try message(raw), source: "inbound-mailgun", request: request)
            } else {
                guard let list = texts["message-headers"], let pairs = try? parseJSON(Array(list.utf8)) as? [Any]
                else {
                    throw .unparseable("the Mailgun form has neither 'body-mime' nor a 'message-headers' JSON list")
                }
                var block = ""
                for case let pair as [Any] in pairs where pair.count == 2 {
                    if let name = pair[0] as? String, let value = pair[1] as? String { block += "\(name): \(value)\n" }
                }
                decoded = classify(
                    rebuilt(headerBlock: block, text: texts["body-plain"] ?? ""), source: "inbound-mailgun",
                    request: request)
            }
            decoded.fields = texts
            return decoded
        case "postmark":
            try checkType(request, accepted: ["application/json"])
            guard let body = object(try parseJSON(request.body)) else {
                throw .unparseable("expected a Postmark inbound JSON object")
            }
            var block = ""
            let from = object(body["FromFull"]).flatMap { string($0["Email"]) } ?? string(body["From"]) ?? ""
            block += "From: \(oneLine(from))\n"
            if let to = string(body["To"]) { block += "To: \(oneLine(to))\n" }
            if let subject = string(body["Subject"]) { block += "Subject: \(oneLine(subject))\n" }
            if let date = string(body["Date"]) { block += "Date: \(oneLine(date))\n" }
            for case let header as JSONObject in array(body["Headers"]) ?? [] {
                guard let name = string(header["Name"]), let value = string(header["Value"]) else { continue }
                if ["from", "to", "subject", "date", "content-type", "content-transfer-encoding"].contains(
                    name.lowercased())
                {
                    continue
                }
                block += "\(oneLine(name)): \(oneLine(value))\n"
            }
            let text = string(body["TextBody"]) ?? string(body["StrippedTextReply"]) ?? ""
            return classify(rebuilt(headerBlock: block, text: text), source: "inbound-postmark", request: request)
        case "ses":
            try checkType(request, accepted: ["application/json", "text/plain"])
            let envelope: JSONObject
            switch try SNSMessage.open(request) {
            case .control(let control):
                return Decoded(webhook: DecodedWebhook(events: [], control: control), fields: [:], kinds: [])
            case .notification(let notification): envelope = notification
            }
            guard let text = string(envelope["Message"]), let notification = object(try parseJSON(Array(text.utf8)))
            else { throw .unparseable("the SNS Message is not SES JSON") }
            guard string(notification["notificationType"]) == "Received" else {
                throw .unparseable(
                    "the SES notification is not a Received notification; send tracking events to /webhooks/ses")
            }
            guard let content = string(notification["content"]) else {
                throw .unparseable("the Received notification carries no content: use the receipt rule's SNS action")
            }
            let encoding = object(object(notification["receipt"])?["action"]).flatMap { string($0["encoding"]) }
            let bytes: [UInt8] =
                encoding?.uppercased() == "BASE64" ? TransferEncoding.base64(Array(content.utf8)) : Array(content.utf8)
            return classify(try message(bytes), source: "inbound-ses", request: request)
        default:
            throw .unparseable(
                "there is no inbound source named '\(source)'; use one of \(names.joined(separator: ", "))")
        }
    }

    /// `POST /reports/dsn`: a MIME delivery report, or an XML one (SPEC §5), by content type.
    public static func decodeReport(_ request: WebhookRequest, xml forced: Bool? = nil) throws(WebhookError)
        -> Decoded
    {
        let type = request.contentType
        let isXML = forced ?? (type == "application/xml" || type == "text/xml" || type.hasSuffix("+xml"))
        if isXML {
            do {
                let events = try XMLReports.parse(request.body, source: "dsn", receivedAt: request.receivedAt)
                return Decoded(
                    webhook: DecodedWebhook(events: events), fields: [:],
                    kinds: Array(repeating: .deliveryReport, count: 1))
            } catch {
                throw .unparseable(error.description)
            }
        }
        try checkType(
            request, accepted: ["message/rfc822", "multipart/report", "text/plain", "application/octet-stream"])
        let decoded = classify(try message(request.body), source: "dsn", request: request)
        guard decoded.kinds.first == .deliveryReport else {
            throw .unparseable(
                "the message is not a delivery status report (it reads as \(decoded.kinds.first?.rawValue ?? "nothing")); send other mail to /inbound/raw"
            )
        }
        return decoded
    }

    static func classify(_ raw: [UInt8], source: String, request: WebhookRequest) -> Decoded {
        let result = MailClassifier.classify(raw, source: source, receivedAt: request.receivedAt)
        return Decoded(webhook: DecodedWebhook(events: result.events), fields: [:], kinds: [result.kind])
    }

    static func message(_ bytes: [UInt8]) throws(WebhookError) -> [UInt8] {
        guard !bytes.isEmpty, bytes.contains(where: { !Bytes.isSpace($0) && $0 != 10 && $0 != 13 }) else {
            throw .unparseable("the message is empty")
        }
        return bytes
    }

    static func checkType(_ request: WebhookRequest, accepted: Set<String>) throws(WebhookError) {
        let type = request.contentType
        guard type.isEmpty || accepted.contains(type) else { throw .unsupportedContentType(type) }
    }

    /// A message rebuilt from a provider's parsed fields: its headers and the plain text.
    static func rebuilt(headerBlock: String, text: String) -> [UInt8] {
        var lines: [String] = []
        var skipping = false
        for line in headerBlock.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            if let first = line.first, first == " " || first == "\t" {
                if !skipping { lines.append(String(line)) }
                continue
            }
            let name = line.split(separator: ":", maxSplits: 1).first?.lowercased() ?? ""
            skipping = ["content-type", "content-transfer-encoding", "mime-version"].contains(name)
            if !skipping { lines.append(String(line)) }
        }
        lines.append("MIME-Version: 1.0")
        lines.append("Content-Type: text/plain; charset=utf-8")
        lines.append("Content-Transfer-Encoding: 8bit")
        return Array((lines.joined(separator: "\n") + "\n\n" + text).utf8)
    }

    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }

    /// The fields of a form post: multipart/form-data or urlencoded.
    static func formParts(_ request: WebhookRequest) throws(WebhookError) -> [String: [UInt8]] {
        let type = request.contentType
        if type == "application/x-www-form-urlencoded" {
            return Mandrill.formFields(request.body).mapValues { Array($0.utf8) }
        }
        guard type == "multipart/form-data" else {
            if type.isEmpty { throw .unparseable("a form post needs a Content-Type") }
            throw .unsupportedContentType(type)
        }
        let header = request.headers["content-type"] ?? ""
        guard ContentType(parsing: header).parameters["boundary"] != nil else {
            throw .unparseable("the multipart/form-data Content-Type has no boundary")
        }
        let envelope = Array("Content-Type: \(header)\r\n\r\n".utf8) + request.body
        let root = MIMEReader.parse(
            envelope, limits: MIMELimits(maxDepth: 2, maxPartsPerMultipart: 1000, maxHeaders: 50))
        guard !root.parts.isEmpty else { throw .unparseable("the multipart/form-data body has no parts") }
        var fields: [String: [UInt8]] = [:]
        for part in root.parts {
            guard let disposition = part.header("content-disposition") else { continue }
            let (_, parameters) = HeaderParameters.parse(disposition)
            guard let name = parameters["name"], fields[name] == nil else { continue }
            // Attachments are not needed to classify the message.
            if parameters["filename"] != nil, name != "email" { continue }
            fields[name] = part.decodedBody
        }
        return fields
    }
}
