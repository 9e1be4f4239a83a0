import SeqbridgeCore
import SeqbridgeStore

/// Postmark webhooks: one JSON object per request, kind in `RecordType`.
enum Postmark {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> [ProviderEvent] {
        guard let event = object(try parseJSON(request.body)) else { throw .unparseable("expected a JSON object") }
        guard let record = string(event["RecordType"]) else {
            return [Providers.malformed("postmark", event, "no RecordType", request)]
        }
        let raw = String(decoding: request.body, as: UTF8.self)
        var type = EventType.unknown
        var bounceClass: BounceClass?
        var timeField = "ReceivedAt"
        switch record {
        case "Delivery":
            type = .delivered
            timeField = "DeliveredAt"
        case "Bounce":
            timeField = "BouncedAt"
            (type, bounceClass) = bounce(string(event["Type"]) ?? "")
        case "SpamComplaint":
            type = .complained
            timeField = "BouncedAt"
        case "Open": type = .opened
        case "Click": type = .clicked
        case "SubscriptionChange":
            timeField = "ChangedAt"
            let suppress = bool(event["SuppressSending"]) ?? false
            let reason = string(event["SuppressionReason"]) ?? ""
            // Only the recipient's own request is an unsubscribe; an operator's suppression is not.
            let byRecipient = (string(event["Origin"]) ?? "Recipient") == "Recipient"
            type = suppress ? (reason == "ManualSuppression" && byRecipient ? .unsubscribed : .unknown) : .subscribed
        default: type = .unknown
        }
        // A record type we do not know may carry no time of its own: it is recorded as received.
        guard
            let timestamp = isoTime(event[timeField]) ?? isoTime(event["ReceivedAt"]) ?? isoTime(event["BouncedAt"])
                ?? (type == .unknown ? request.receivedAt : nil)
        else { return [Providers.malformed("postmark", event, "no \(timeField) time", request)] }
        return [
            ProviderEvent(
                source: "postmark", type: type, recipient: address(event["Email"]) ?? address(event["Recipient"]),
                providerMessageID: string(event["MessageID"]), token: token(in: event["Metadata"]),
                eventID: string(event["ID"]).map { "\(record):\($0)" } ?? hashID(raw), timestamp: timestamp,
                bounceClass: bounceClass, detail: string(event["Details"]) ?? string(event["Description"]), raw: raw)
        ]
    }

    /// Postmark's bounce `Type` names.
    static func bounce(_ name: String) -> (EventType, BounceClass?) {
        switch name {
        case "HardBounce", "BadEmailAddress": (.bounced, .hard)
        case "SoftBounce", "Blocked", "DMARCPolicy", "SpamNotification": (.bounced, .soft)
        case "Transient", "DnsError": (.deferred, nil)
        case "Unknown": (.bounced, .undetermined)
        case "AutoResponder", "AddressChange", "ChallengeVerification": (.autoReplied, nil)
        case "Unsubscribe": (.unsubscribed, nil)
        case "Subscribe": (.subscribed, nil)
        case "ManuallyDeactivated", "Unconfirmed": (.rejected, nil)
        case "SMTPApiError", "TemplateRenderingFailed", "VirusNotification": (.failed, nil)
        case "SpamComplaint": (.complained, nil)
        default: (.unknown, nil)
        }
    }
}
