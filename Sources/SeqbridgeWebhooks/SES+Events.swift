import SeqbridgeCore
import SeqbridgeStore

/// An Amazon SNS message as posted to us: a message about the subscription
/// itself, or a notification envelope whose `Message` carries the payload.
enum SNSMessage {
    case control(ControlMessage)
    case notification(JSONObject)

    static func open(_ request: WebhookRequest) throws(WebhookError) -> SNSMessage {
        guard let envelope = object(try parseJSON(request.body)), let kind = string(envelope["Type"]) else {
            throw .unparseable("expected an SNS message with a Type")
        }
        let topic = string(envelope["TopicArn"]) ?? ""
        switch kind {
        case "SubscriptionConfirmation":
            guard let url = string(envelope["SubscribeURL"]) else {
                throw .unparseable("SubscriptionConfirmation without SubscribeURL")
            }
            return .control(.subscriptionConfirmation(subscribeURL: url, topicARN: topic))
        case "UnsubscribeConfirmation":
            return .control(.unsubscribeConfirmation(topicARN: topic))
        case "Notification":
            return .notification(envelope)
        default:
            throw .unparseable(
                "SNS message type '\(kind)' is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation")
        }
    }
}

/// Amazon SES through an SNS subscription: the SNS envelope carries the SES
/// notification (or event-publishing record) as a JSON string in `Message`.
enum SES {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> DecodedWebhook {
        let envelope: JSONObject
        switch try SNSMessage.open(request) {
        case .control(let control): return DecodedWebhook(events: [], control: control)
        case .notification(let notification): envelope = notification
        }
        let snsID = string(envelope["MessageId"]) ?? hashID(canonical(envelope))
        guard let text = string(envelope["Message"]), let message = object(try parseJSON(Array(text.utf8))) else {
            return DecodedWebhook(events: [Providers.malformed("ses", envelope, "Message is not SES JSON", request)])
        }
        return DecodedWebhook(events: events(message, raw: text, snsID: snsID, request: request))
    }

    static func events(_ message: JSONObject, raw: String, snsID: String, request: WebhookRequest) -> [ProviderEvent] {
        guard let kind = string(message["eventType"]) ?? string(message["notificationType"]) else {
            return [Providers.malformed("ses", message, "neither eventType nor notificationType", request)]
        }
        let mail = object(message["mail"]) ?? [:]
        var messageIDs: [String] = []
        if let common = object(mail["commonHeaders"]), let id = bareMessageID(common["messageId"]) {
            messageIDs.append(id)
        }
        for header in array(mail["headers"]) ?? [] {
            if let header = object(header), string(header["name"])?.lowercased() == "message-id",
                let id = bareMessageID(header["value"]), !messageIDs.contains(id)
            {
                messageIDs.append(id)
            }
        }
        var headerToken: String?
        for header in array(mail["headers"]) ?? [] {
            if let header = object(header), string(header["name"])?.lowercased() == "x-seqbridge-token" {
                headerToken = string(header["value"])
            }
        }
        let token = token(in: mail["tags"]) ?? headerToken
        let providerID = string(mail["messageId"])
        let destination = (array(mail["destination"]) ?? []).compactMap { address($0) }

        func event(
            _ type: EventType, recipient: String?, at time: Any?, bounceClass: BounceClass? = nil, detail: String? = nil
        ) -> ProviderEvent {
            ProviderEvent(
                source: "ses", type: type, recipient: recipient, messageIDs: messageIDs, providerMessageID: providerID,
                token: token, eventID: recipient.map { "\(snsID):\($0)" } ?? snsID,
                timestamp: isoTime(time) ?? isoTime(mail["timestamp"]) ?? request.receivedAt, bounceClass: bounceClass,
                detail: detail, raw: raw)
        }

        switch kind {
        case "Bounce":
            let bounce = object(message["bounce"]) ?? [:]
            let bounceType = string(bounce["bounceType"]) ?? "Undetermined"
            let subType = string(bounce["bounceSubType"]) ?? ""
            let recipients = (array(bounce["bouncedRecipients"]) ?? []).compactMap(object)
            let list = recipients.isEmpty ? destination.map { ["emailAddress": $0] as JSONObject } : recipients
            return list.map { recipient in
                let detail = string(recipient["diagnosticCode"]) ?? "\(bounceType) bounce (\(subType))"
                if bounceType == "Permanent", subType == "Suppressed" || subType == "OnAccountSuppressionList" {
                    return event(
                        .rejected, recipient: address(recipient["emailAddress"]), at: bounce["timestamp"],
                        detail: detail)
                }
                let bounceClass: BounceClass =
                    bounceType == "Permanent" ? .hard : bounceType == "Transient" ? .soft : .undetermined
                return event(
                    .bounced, recipient: address(recipient["emailAddress"]), at: bounce["timestamp"],
                    bounceClass: bounceClass, detail: detail)
            }
        case "Complaint":
            let complaint = object(message["complaint"]) ?? [:]
            let type: EventType =
                string(complaint["complaintSubType"]) == "OnAccountSuppressionList" ? .rejected : .complained
            let recipients = (array(complaint["complainedRecipients"]) ?? []).compactMap {
                address(object($0)?["emailAddress"])
            }
            return (recipients.isEmpty ? destination : recipients).map {
                event(
                    type, recipient: $0, at: complaint["timestamp"], detail: string(complaint["complaintFeedbackType"]))
            }
        case "Delivery":
            let delivery = object(message["delivery"]) ?? [:]
            let recipients = (array(delivery["recipients"]) ?? []).compactMap { address($0) }
            return (recipients.isEmpty ? destination : recipients).map {
                event(.delivered, recipient: $0, at: delivery["timestamp"], detail: string(delivery["smtpResponse"]))
            }
        case "DeliveryDelay":
            let delay = object(message["deliveryDelay"]) ?? [:]
            let recipients = (array(delay["delayedRecipients"]) ?? []).compactMap(object)
            return recipients.map {
                event(
                    .deferred, recipient: address($0["emailAddress"]), at: delay["timestamp"],
                    detail: string($0["diagnosticCode"]) ?? string(delay["delayType"]))
            }
        case "Send": return destination.map { event(.sent, recipient: $0, at: mail["timestamp"]) }
        case "Reject":
            return destination.map {
                event(
                    .failed, recipient: $0, at: mail["timestamp"], detail: string(object(message["reject"])?["reason"]))
            }
        case "Rendering Failure", "RenderingFailure":
            return destination.map { event(.failed, recipient: $0, at: mail["timestamp"], detail: "rendering failure") }
        case "Open":
            // Opens and clicks are about the message, not one recipient.
            return [
                event(
                    .opened, recipient: destination.count == 1 ? destination[0] : nil,
                    at: object(message["open"])?["timestamp"])
            ]
        case "Click":
            return [
                event(
                    .clicked, recipient: destination.count == 1 ? destination[0] : nil,
                    at: object(message["click"])?["timestamp"])
            ]
        case "Subscription":
            let subscription = object(message["subscription"]) ?? [:]
            let preferences = object(subscription["newTopicPreferences"]) ?? [:]
            let optedOut =
                bool(preferences["unsubscribeAll"]) == true
                || (array(preferences["topicSubscriptionStatus"]) ?? []).contains {
                    string(object($0)?["subscriptionStatus"]) == "OptOut"
                }
            return destination.map {
                event(optedOut ? .unsubscribed : .subscribed, recipient: $0, at: subscription["timestamp"])
            }
        default:
            return [event(.unknown, recipient: destination.first, at: mail["timestamp"], detail: "SES \(kind)")]
        }
    }
}
