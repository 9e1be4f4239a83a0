import SeqbridgeCore
import SeqbridgeMIME
import SeqbridgeStore

/// What an inbound message turned out to be.
public enum InboundKind: String, Sendable {
    case deliveryReport = "delivery_report"
    case complaint
    /// A request to stop, sent to a `List-Unsubscribe` mail address (RFC 2369).
    case unsubscribe
    case autoReply = "auto_reply"
    case reply
    case other
}

public struct InboundClassification: Sendable {
    public var kind: InboundKind
    /// One event per recipient for delivery reports; one event otherwise.
    public var events: [ProviderEvent]
}

/// Reads a raw message and decides what it is, in this order: delivery status
/// report (bounce or delay), complaint, auto-reply, human reply, other.
public enum MailClassifier {
    public static func classify(_ raw: [UInt8], source: String, receivedAt: Timestamp) -> InboundClassification {
        let mail = InboundMail(raw)
        let context = Context(mail: mail, source: source, receivedAt: receivedAt)
        if let events = DeliveryReports.standard(context), !events.isEmpty {
            return InboundClassification(kind: .deliveryReport, events: events)
        }
        if let event = Complaints.standard(context) {
            return InboundClassification(kind: event.type == .complained ? .complaint : .other, events: [event])
        }
        if let event = Complaints.nonStandard(context) {
            return InboundClassification(kind: .complaint, events: [event])
        }
        if let events = DeliveryReports.fromText(context), !events.isEmpty {
            return InboundClassification(kind: .deliveryReport, events: events)
        }
        if Unsubscribes.isRequest(mail) {
            return InboundClassification(kind: .unsubscribe, events: [Unsubscribes.event(context)])
        }
        if AutoReplies.isAutoReply(mail) {
            return InboundClassification(kind: .autoReply, events: [context.personal(.autoReplied)])
        }
        if Replies.isHumanReply(mail) {
            return InboundClassification(kind: .reply, events: [context.personal(.replied)])
        }
        return InboundClassification(kind: .other, events: [context.personal(.unknown)])
    }
}

/// The classification inputs shared by every step.
struct Context {
    let mail: InboundMail
    let source: String
    let receivedAt: Timestamp

    var rawText: String { String(decoding: mail.raw, as: UTF8.self) }

    /// A reply, auto-reply or unclassified message: about its sender, matched by
    /// the message ids it answers.
    func personal(_ type: EventType) -> ProviderEvent {
        var ids: [String] = []
        for name in ["in-reply-to", "references"] {
            for header in mail.root.headers(named: name) {
                for id in AddressScan.messageIDs(in: Bytes.text(header.value)) where !ids.contains(id) {
                    ids.append(id)
                }
            }
        }
        let sender =
            mail.fromAddress ?? mail.root.header("sender").flatMap(AddressScan.first)
            ?? mail.root.header("reply-to").flatMap(AddressScan.first)
        return ProviderEvent(
            source: source, type: type, recipient: sender, messageIDs: ids, eventID: mail.identity,
            timestamp: mail.date(receivedAt: receivedAt), detail: mail.subject.isEmpty ? nil : mail.subject,
            raw: rawText)
    }
}
