import Foundation
import SeqbridgeCore
import SeqbridgeStore

/// Mandrill: a form body whose `mandrill_events` field holds a JSON array.
enum Mandrill {
    static func decode(_ request: WebhookRequest) throws(WebhookError) -> [ProviderEvent] {
        guard let field = formFields(request.body)["mandrill_events"] else {
            throw .unparseable("no mandrill_events form field")
        }
        let elements: [(value: Any, raw: String)]
        do {
            elements = try Providers.elements(of: Array(field.utf8), arrayOnly: true)
        } catch {
            throw .unparseable("mandrill_events is not a JSON array")
        }
        return elements.map { element, raw in
            guard let event = object(element) else {
                return Providers.malformed("mandrill", element, "not a JSON object", request, raw: raw)
            }
            let message = object(event["msg"]) ?? [:]
            guard let name = string(event["event"]) else {
                // Sync events (allow/deny list changes) are about an address, not a message.
                return ProviderEvent(
                    source: "mandrill", type: .unknown, recipient: address(object(event["reject"])?["email"]),
                    eventID: hashID(raw), timestamp: unixTime(event["ts"]) ?? request.receivedAt,
                    detail: string(event["type"]).map { "sync event: \($0) \(string(event["action"]) ?? "")" }, raw: raw
                )
            }
            var type = EventType.unknown
            var bounceClass: BounceClass?
            switch name {
            case "send": type = .sent
            case "delivered": type = .delivered
            case "deferral": type = .deferred
            case "hard_bounce":
                type = .bounced
                bounceClass = .hard
            case "soft_bounce":
                type = .bounced
                bounceClass = .soft
            case "reject": type = .rejected
            case "spam": type = .complained
            case "unsub": type = .unsubscribed
            case "open": type = .opened
            case "click": type = .clicked
            default: type = .unknown
            }
            return ProviderEvent(
                source: "mandrill", type: type, recipient: address(message["email"]),
                providerMessageID: string(event["_id"]) ?? string(message["_id"]),
                token: token(in: message["metadata"]),
                eventID: hashID(raw), timestamp: unixTime(event["ts"]) ?? request.receivedAt, bounceClass: bounceClass,
                detail: string(message["diag"]) ?? string(message["bounce_description"]), raw: raw)
        }
    }

    /// `application/x-www-form-urlencoded` fields, decoded.
    static func formFields(_ body: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}
