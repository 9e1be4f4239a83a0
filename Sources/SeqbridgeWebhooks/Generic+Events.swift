import SeqbridgeCore
import SeqbridgeStore

/// Our own format: `{"type", "message_id", "recipient", "timestamp", "detail", "event_id"?,
/// "bounce_class"?, "token"?}`, one object or an array of them.
enum Generic {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> [ProviderEvent] {
        try Providers.elements(request).map { element, raw in
            guard let event = object(element) else {
                return Providers.malformed("generic", element, "not a JSON object", request, raw: raw)
            }
            guard let typeName = string(event["type"]) else {
                return Providers.malformed("generic", element, "it has no type", request, raw: raw)
            }
            guard let type = EventType(rawValue: typeName), type.isReported else {
                return Providers.malformed(
                    "generic", element, "type '\(typeName)' is not one of the event types", request)
            }
            guard let timestamp = isoTime(event["timestamp"]) ?? unixTime(event["timestamp"]) else {
                return Providers.malformed(
                    "generic", element, "timestamp is missing or not ISO 8601 or Unix seconds", request)
            }
            var bounceClass: BounceClass?
            if let name = string(event["bounce_class"]) {
                guard let parsed = BounceClass(rawValue: name) else {
                    return Providers.malformed(
                        "generic", element, "bounce_class '\(name)' is not hard, soft or undetermined", request)
                }
                bounceClass = parsed
            }
            return ProviderEvent(
                source: "generic", type: type, recipient: address(event["recipient"]),
                messageIDs: bareMessageID(event["message_id"]).map { [$0] } ?? [],
                token: string(event["token"]), eventID: string(event["event_id"]) ?? hashID(raw),
                timestamp: timestamp, bounceClass: bounceClass, detail: string(event["detail"]), raw: raw)
        }
    }
}

extension EventType {
    /// The types a provider can report (not our own actions).
    public var isReported: Bool {
        switch self {
        case .enrolled, .stepSent, .unenrolled, .mailboxDisconnected, .emailChanged, .renderFailed, .sendDeferred:
            false
        default: true
        }
    }
}
