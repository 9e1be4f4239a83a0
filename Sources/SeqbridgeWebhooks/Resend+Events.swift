import SeqbridgeCore
import SeqbridgeStore

/// Resend (delivered through Svix): `{"type", "created_at", "data"}`; the event id is the `svix-id` header.
enum Resend {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> [ProviderEvent] {
        guard let event = object(try parseJSON(request.body)) else { throw .unparseable("expected a JSON object") }
        guard let name = string(event["type"]) else {
            return [Providers.malformed("resend", event, "an event without a type", request)]
        }
        let raw = String(decoding: request.body, as: UTF8.self)
        let data = object(event["data"]) ?? [:]
        let bounce = object(data["bounce"]) ?? [:]
        var type = EventType.unknown
        var bounceClass: BounceClass?
        switch name {
        case "email.scheduled": type = .queued
        case "email.sent": type = .sent
        case "email.delivered": type = .delivered
        case "email.delivery_delayed": type = .deferred
        case "email.bounced":
            let kind = string(bounce["type"]) ?? "Undetermined"
            let subType = string(bounce["subType"]) ?? ""
            if kind == "Permanent", subType == "Suppressed" || subType == "OnAccountSuppressionList" {
                type = .rejected
            } else {
                type = .bounced
                bounceClass = kind == "Permanent" ? .hard : kind == "Transient" ? .soft : .undetermined
            }
        case "email.suppressed": type = .rejected
        case "email.failed": type = .failed
        case "email.complained": type = .complained
        case "email.opened": type = .opened
        case "email.clicked": type = .clicked
        default: type = .unknown
        }
        var tags: Any? = data["tags"]
        if let list = array(tags) {
            // The send API's [{name, value}] form.
            var map: JSONObject = [:]
            for case let tag as JSONObject in list { if let key = string(tag["name"]) { map[key] = tag["value"] } }
            tags = map
        }
        let headers = object(data["headers"])
        let recipients = (array(data["to"]) ?? []).compactMap { address($0) }
        return [
            ProviderEvent(
                source: "resend", type: type, recipient: recipients.first,
                messageIDs: bareMessageID(headers?["Message-ID"] ?? headers?["message-id"]).map { [$0] } ?? [],
                providerMessageID: string(data["email_id"]), token: token(in: tags),
                eventID: request.headers["svix-id"] ?? hashID(raw),
                timestamp: isoTime(event["created_at"]) ?? request.receivedAt, bounceClass: bounceClass,
                detail: string(bounce["message"]), raw: raw)
        ]
    }
}
