import SeqbridgeCore
import SeqbridgeStore

/// Mailjet Event API: one object (version 1) or an array (version 2, grouped).
enum Mailjet {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> [ProviderEvent] {
        try Providers.elements(request).map { element, raw in
            guard let event = object(element), let name = string(event["event"]) else {
                return Providers.malformed("mailjet", element, "an event without an 'event' field", request)
            }
            guard let timestamp = unixTime(event["time"]) else {
                return Providers.malformed("mailjet", element, "an event without a time", request)
            }
            var type = EventType.unknown
            var bounceClass: BounceClass?
            switch name {
            case "sent": type = .delivered
            case "bounce":
                if bool(event["hard_bounce"]) == true {
                    type = .bounced
                    bounceClass = .hard
                } else if string(event["error"]) == "greylisted" {
                    type = .deferred
                } else {
                    type = .bounced
                    bounceClass = .soft
                }
            case "blocked": type = .rejected
            case "spam": type = .complained
            case "unsub": type = .unsubscribed
            case "open": type = .opened
            case "click": type = .clicked
            default: type = .unknown
            }
            let detail = [string(event["error_related_to"]), string(event["error"])].compactMap { $0 }.joined(
                separator: ": ")
            return ProviderEvent(
                source: "mailjet", type: type, recipient: address(event["email"]),
                providerMessageID: string(event["MessageID"]),
                token: token(in: event["Payload"]) ?? token(in: event["CustomID"]), eventID: hashID(raw),
                timestamp: timestamp, bounceClass: bounceClass, detail: detail.isEmpty ? nil : detail, raw: raw)
        }
    }
}
