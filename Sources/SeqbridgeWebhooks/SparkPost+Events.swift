import SeqbridgeCore
import SeqbridgeStore

/// SparkPost: an array of `{"msys": {"<class>": {...}}}`; `{"msys": {}}` is a test ping.
enum SparkPost {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> [ProviderEvent] {
        try Providers.elements(of: request.body, arrayOnly: true).compactMap { element, raw -> ProviderEvent? in
            guard let msys = object(object(element)?["msys"]) else {
                return Providers.malformed("sparkpost", element, "an element without msys", request, raw: raw)
            }
            guard let event = msys.values.compactMap(object).first else { return nil }  // ping
            guard let name = string(event["type"]) else {
                return Providers.malformed("sparkpost", element, "an event without a type", request, raw: raw)
            }
            var type = EventType.unknown
            var bounceClass: BounceClass?
            switch name {
            case "injection": type = .queued
            case "delivery": type = .delivered
            case "delay": type = .deferred
            case "bounce", "out_of_band": (type, bounceClass) = bounce(string(event["bounce_class"]) ?? "1")
            case "policy_rejection", "generation_rejection": type = .rejected
            case "generation_failure": type = .failed
            case "spam_complaint": type = .complained
            case "open", "initial_open", "amp_open", "amp_initial_open": type = .opened
            case "click", "amp_click": type = .clicked
            case "list_unsubscribe", "link_unsubscribe": type = .unsubscribed
            default: type = .unknown
            }
            guard let timestamp = unixTime(event["timestamp"]) ?? isoTime(event["timestamp"]) else {
                return Providers.malformed("sparkpost", element, "an event without a timestamp", request, raw: raw)
            }
            return ProviderEvent(
                source: "sparkpost", type: type, recipient: address(event["rcpt_to"]),
                providerMessageID: string(event["transmission_id"]), token: token(in: event["rcpt_meta"]),
                eventID: string(event["event_id"]) ?? hashID(raw), timestamp: timestamp, bounceClass: bounceClass,
                detail: string(event["raw_reason"]) ?? string(event["reason"]), raw: raw)
        }
    }

    /// SparkPost's bounce classification codes.
    static func bounce(_ code: String) -> (EventType, BounceClass?) {
        switch code {
        case "10", "30": (.bounced, .hard)
        case "90": (.unsubscribed, nil)
        case "20", "21", "22", "23", "24", "40", "70", "50", "51", "52", "53", "54": (.bounced, .soft)
        case "60", "100": (.autoReplied, nil)
        case "25": (.rejected, nil)
        case "80": (.subscribed, nil)
        default: (.bounced, .undetermined)
        }
    }
}
