import SeqbridgeCore
import SeqbridgeStore

/// Mailgun webhooks: `{"signature": {...}, "event-data": {...}}`, one event per request.
enum Mailgun {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> [ProviderEvent] {
        guard let body = object(try parseJSON(request.body)), let event = object(body["event-data"]) else {
            throw .unparseable("expected an object with 'event-data'")
        }
        guard let name = string(event["event"]), let timestamp = unixTime(event["timestamp"]) else {
            return [Providers.malformed("mailgun", event, "event-data without event or timestamp", request)]
        }
        let raw = canonical(event)
        let status = object(event["delivery-status"])
        let severity = string(event["severity"])
        let reason = string(event["reason"]) ?? ""
        var type = EventType.unknown
        var bounceClass: BounceClass?
        switch name {
        case "accepted": type = .queued
        case "delivered": type = .delivered
        case "failed":
            if reason.hasPrefix("suppress-") {
                type = .rejected
            } else if severity == "temporary" {
                if reason == "old" {
                    type = .bounced
                    bounceClass = .soft
                } else {
                    type = .deferred
                }
            } else {
                type = .bounced
                bounceClass = .hard
            }
        case "rejected": type = .failed
        case "opened": type = .opened
        case "clicked": type = .clicked
        case "unsubscribed": type = .unsubscribed
        case "complained": type = .complained
        default: type = .unknown
        }
        let headers = object(object(event["message"])?["headers"])
        let messageID = bareMessageID(headers?["message-id"])
        var detail: String?
        if let status {
            detail = [
                string(status["code"]), string(status["enhanced-code"]),
                string(status["message"]) ?? string(status["description"]),
            ]
            .compactMap { $0 }.joined(separator: " ")
            if detail?.isEmpty == true { detail = nil }
        }
        // Mailgun's id is unique within a day, so the time joins it.
        let eventID = string(event["id"]).map { "\($0)@\(timestamp.millisecondsSinceEpoch)" } ?? hashID(raw)
        return [
            ProviderEvent(
                source: "mailgun", type: type, recipient: address(event["recipient"]) ?? address(headers?["to"]),
                messageIDs: messageID.map { [$0] } ?? [], providerMessageID: messageID,
                token: token(in: event["user-variables"]), eventID: eventID, timestamp: timestamp,
                bounceClass: bounceClass, detail: detail ?? (reason.isEmpty ? nil : reason), raw: raw)
        ]
    }
}
