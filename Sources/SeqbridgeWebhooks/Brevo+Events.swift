import SeqbridgeCore
import SeqbridgeStore

/// Brevo transactional webhooks: one object, or an array when batched.
enum Brevo {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> [ProviderEvent] {
        try Providers.elements(request).map { element, raw in
            guard let event = object(element), let name = string(event["event"]) else {
                return Providers.malformed("brevo", element, "an event without an 'event' field", request)
            }
            var type = EventType.unknown
            var bounceClass: BounceClass?
            switch name {
            case "request": type = .queued
            case "delivered": type = .delivered
            case "deferred": type = .deferred
            case "soft_bounce":
                type = .bounced
                bounceClass = .soft
            case "hard_bounce", "invalid_email":
                type = .bounced
                bounceClass = .hard
            case "blocked": type = .rejected
            case "error": type = .failed
            case "spam", "complaint": type = .complained
            case "unsubscribed": type = .unsubscribed
            case "opened", "unique_opened", "proxy_open", "unique_proxy_open": type = .opened
            case "click": type = .clicked
            default: type = .unknown
            }
            guard let timestamp = unixTime(event["ts_epoch"], millis: true) ?? unixTime(event["ts_event"]) else {
                return Providers.malformed("brevo", element, "an event without ts_epoch or ts_event", request)
            }
            let messageID = bareMessageID(event["message-id"])
            return ProviderEvent(
                source: "brevo", type: type, recipient: address(event["email"]),
                messageIDs: messageID.map { [$0] } ?? [],
                providerMessageID: messageID, token: token(in: event["X-Mailin-custom"]), eventID: hashID(raw),
                timestamp: timestamp, bounceClass: bounceClass, detail: string(event["reason"]), raw: raw)
        }
    }
}
