import SeqbridgeCore
import SeqbridgeStore

/// SendGrid Event Webhook: a JSON array of events; custom args merged at the top level.
enum SendGrid {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> [ProviderEvent] {
        try Providers.elements(request).map { element, raw in
            guard let event = object(element), let name = string(event["event"]) else {
                return Providers.malformed("sendgrid", element, "an event without an 'event' field", request)
            }
            guard let timestamp = unixTime(event["timestamp"]) else {
                return Providers.malformed("sendgrid", element, "an event without a timestamp", request)
            }
            var type = EventType.unknown
            var bounceClass: BounceClass?
            var detail = string(event["reason"]) ?? string(event["response"])
            switch name {
            case "processed": type = .queued
            case "deferred": type = .deferred
            case "delivered": type = .delivered
            case "bounce":
                type = .bounced
                bounceClass = string(event["type"]) == "blocked" ? .soft : .hard
                if let status = string(event["status"]), let reason = detail, !reason.contains(status) {
                    detail = status + " " + reason
                }
            case "dropped":
                let reason = string(event["reason"]) ?? ""
                type =
                    ["Bounced Address", "Unsubscribed Address", "Spam Reporting Address", "Invalid"].contains(reason)
                    ? .rejected : .failed
            case "open": type = .opened
            case "click": type = .clicked
            case "spamreport": type = .complained
            case "unsubscribe", "group_unsubscribe": type = .unsubscribed
            case "group_resubscribe": type = .subscribed
            default: type = .unknown
            }
            return ProviderEvent(
                source: "sendgrid", type: type, recipient: address(event["email"]),
                messageIDs: bareMessageID(event["smtp-id"]).map { [$0] } ?? [],
                providerMessageID: string(event["sg_message_id"]).map { String($0.split(separator: ".").first ?? "") },
                token: string(event[tokenKey]), eventID: string(event["sg_event_id"]) ?? hashID(raw),
                timestamp: timestamp, bounceClass: bounceClass, detail: detail, raw: raw)
        }
    }
}
