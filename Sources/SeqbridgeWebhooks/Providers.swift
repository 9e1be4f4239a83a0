import Foundation
import SeqbridgeCore
import SeqbridgeMIME
import SeqbridgeStore

/// A webhook request as received: the exact body bytes and the headers.
public struct WebhookRequest: Sendable {
    public var body: [UInt8]
    /// Header names in lower case.
    public var headers: [String: String]
    /// When it arrived, for events that carry no time of their own.
    public var receivedAt: Timestamp

    public init(body: [UInt8], headers: [String: String], receivedAt: Timestamp) {
        self.body = body
        // Names arrive in lower case from the HTTP server; only others are rebuilt.
        if headers.keys.allSatisfy({ !$0.utf8.contains(where: { $0 &- 65 < 26 }) }) {
            self.headers = headers
        } else {
            self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        }
        self.receivedAt = receivedAt
    }

    /// The media type of the body, lower case, without parameters (`application/json`).
    public var contentType: String {
        let value = Array((headers["content-type"] ?? "").utf8)
        let head = value.firstIndex(of: UInt8(ascii: ";")).map { value[..<$0] } ?? value[...]
        return String(decoding: Bytes.lowercased(Bytes.trimmed(head)), as: UTF8.self)
    }
}

/// Messages about the webhook itself rather than about mail.
public enum ControlMessage: Sendable, Equatable {
    /// Amazon SNS asks us to confirm a subscription by visiting this URL.
    case subscriptionConfirmation(subscribeURL: String, topicARN: String)
    case unsubscribeConfirmation(topicARN: String)
}

public struct DecodedWebhook: Sendable {
    public var events: [ProviderEvent]
    public var control: ControlMessage?

    public init(events: [ProviderEvent], control: ControlMessage? = nil) {
        self.events = events
        self.control = control
    }
}

/// Every provider seqbridge reads, by the name used in `/webhooks/{provider}` and `ingest --source`.
public enum Providers {
    public static let names = [
        "sendgrid", "mailgun", "postmark", "ses", "sparkpost", "mandrill", "brevo", "mailjet", "resend", "generic",
    ]

    /// Decodes a request body into normalized events. A body that cannot be
    /// read at all throws; a single bad event inside a batch comes back as a
    /// malformed event with its reason.
    public static func decode(provider: String, _ request: WebhookRequest) throws(WebhookError) -> DecodedWebhook {
        switch provider {
        case "sendgrid": return DecodedWebhook(events: try SendGrid.decode(request))
        case "mailgun": return DecodedWebhook(events: try Mailgun.decode(request))
        case "postmark": return DecodedWebhook(events: try Postmark.decode(request))
        case "ses": return try SES.decode(request)
        case "sparkpost": return DecodedWebhook(events: try SparkPost.decode(request))
        case "mandrill": return DecodedWebhook(events: try Mandrill.decode(request))
        case "brevo": return DecodedWebhook(events: try Brevo.decode(request))
        case "mailjet": return DecodedWebhook(events: try Mailjet.decode(request))
        case "resend": return DecodedWebhook(events: try Resend.decode(request))
        case "generic": return DecodedWebhook(events: try Generic.decode(request))
        default: throw .unknownProvider(provider)
        }
    }

    /// The JSON body as a list of event objects (an array, or one object),
    /// each with its exact text as received.
    static func elements(_ request: WebhookRequest) throws(WebhookError) -> [(value: Any, raw: String)] {
        try elements(of: request.body)
    }

    /// `arrayOnly` refuses a lone object, for providers that always send a list.
    static func elements(of bytes: [UInt8], arrayOnly: Bool = false) throws(WebhookError) -> [(
        value: Any, raw: String
    )] {
        let parsed = try readJSON(bytes)
        if let list = parsed.value as? [Any], let ranges = parsed.elements {
            return zip(list, ranges).map { ($0, String(decoding: bytes[$1], as: UTF8.self)) }
        }
        if arrayOnly { throw .unparseable("expected a JSON array") }
        if parsed.value is JSONObject { return [(parsed.value, String(decoding: bytes, as: UTF8.self))] }
        throw .unparseable("expected a JSON object or array")
    }

    /// An element that is not an event object, kept with its reason.
    static func malformed(
        _ source: String, _ element: Any, _ why: String, _ request: WebhookRequest, raw given: String? = nil
    ) -> ProviderEvent {
        let raw = given ?? canonical(element)
        return ProviderEvent(
            source: source, type: .unknown, eventID: hashID(raw), timestamp: request.receivedAt, raw: raw,
            malformed: why)
    }
}
