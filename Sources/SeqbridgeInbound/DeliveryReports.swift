import SeqbridgeCore
import SeqbridgeMIME
import SeqbridgeStore

/// The fields of a `message/delivery-status` body: one group for the message,
/// then one per recipient (RFC 3464 §2.1).
public struct DeliveryStatusFields: Sendable {
    public var message: [String: String]
    public var recipients: [[String: String]]

    /// Parses the field groups; lines that are not fields are skipped.
    public init(_ text: String) {
        var groups: [[String: String]] = []
        var current: [String: String] = [:]
        var lastKey: String? = nil
        let bytes = Array(text.utf8)
        var lineStart = 0
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 10 { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            let line = bytes[lineStart..<lineEnd]
            let trimmed = Bytes.trimmed(line)
            if trimmed.isEmpty {
                if !current.isEmpty { groups.append(current) }
                current = [:]
                lastKey = nil
                continue
            }
            if Bytes.isSpace(line[line.startIndex]), let key = lastKey {
                current[key, default: ""] += " " + Bytes.text(trimmed)
                continue
            }
            guard let colon = line.firstIndex(of: 58) else { continue }
            let keyBytes = Bytes.trimmed(line[line.startIndex..<colon])
            guard !keyBytes.isEmpty, !keyBytes.contains(32) else { continue }
            let key = String(decoding: Bytes.lowercased(keyBytes), as: UTF8.self)
            let value = Bytes.text(Bytes.trimmed(line[(colon + 1)...]))
            // Recipient fields after recipient fields without a blank line: a new group.
            if key == "final-recipient", current["final-recipient"] != nil {
                groups.append(current)
                current = [:]
            }
            if current[key] == nil { current[key] = value }
            lastKey = key
        }
        if !current.isEmpty { groups.append(current) }
        // The per-message group is the first one without a recipient field.
        if let first = groups.first, first["final-recipient"] == nil, first["original-recipient"] == nil {
            message = first
            recipients = Array(groups.dropFirst())
        } else {
            message = [:]
            recipients = groups
        }
        recipients = recipients.filter { $0["final-recipient"] != nil || $0["original-recipient"] != nil }
    }

    /// The address in a typed field such as `rfc822; someone@example.org`.
    public static func address(_ value: String?) -> String? {
        guard var value else { return nil }
        if let semicolon = value.firstIndex(of: ";") { value = String(value[value.index(after: semicolon)...]) }
        if let found = AddressScan.first(in: value) { return found }
        // A host without a dot (`user@mailhub0`) is still the address the report names.
        let bare = value.trimmingSpaces.filter { $0 != "<" && $0 != ">" && $0 != "\"" }
        guard bare.contains("@"), !bare.contains(" "), !bare.hasPrefix("@"), !bare.hasSuffix("@") else { return nil }
        return bare.lowercased()
    }

    /// The text of a typed field without its type: `smtp; 550 ...` → `550 ...`.
    public static func untyped(_ value: String?) -> String? {
        guard let value else { return nil }
        if let semicolon = value.firstIndex(of: ";"), value[..<semicolon].allSatisfy({ $0.isLetter || $0 == "-" }) {
            return value[value.index(after: semicolon)...].trimmingSpaces
        }
        return value
    }
}

/// One recipient's outcome, however the report expressed it.
struct RecipientOutcome {
    var address: String?
    var action: String
    var status: String?
    var diagnostic: String?
    var remoteMTA: String?
    var lastAttempt: String?
}

enum DeliveryReports {
    /// RFC 3464 reports (and the RFC 6533 internationalized form).
    static func standard(_ context: Context) -> [ProviderEvent]? {
        let mail = context.mail
        let fields: DeliveryStatusFields
        if let part = mail.leaves.first(where: {
            let type = $0.contentType.mimeType
            return type == "message/delivery-status" || type == "message/global-delivery-status"
        }) {
            fields = DeliveryStatusFields(part.text)
        } else if let text = unlabelledStatusFields(mail) {
            fields = DeliveryStatusFields(text)
        } else {
            return nil
        }
        var outcomes: [RecipientOutcome] = []
        for recipient in fields.recipients {
            let status = recipient["status"].flatMap { Diagnosis.enhancedCode(in: Array($0.utf8)) }
            var action = recipient["action"]?.lowercased().trimmingSpaces ?? ""
            if action.isEmpty || !["failed", "delayed", "delivered", "relayed", "expanded"].contains(action) {
                action =
                    status?.hasPrefix("4") == true
                    ? "delayed" : (status?.hasPrefix("2") == true ? "delivered" : "failed")
            }
            outcomes.append(
                RecipientOutcome(
                    // The address that failed (RFC 3464's Final-Recipient); the message id still
                    // finds our message when an alias or forward changed it.
                    address: DeliveryStatusFields.address(recipient["final-recipient"])
                        ?? DeliveryStatusFields.address(recipient["original-recipient"]),
                    action: action, status: status,
                    diagnostic: DeliveryStatusFields.untyped(recipient["diagnostic-code"]),
                    remoteMTA: recipient["remote-mta"], lastAttempt: recipient["last-attempt-date"]))
        }
        if outcomes.isEmpty { return nil }
        // Reports from some MTAs put the real explanation only in the human-readable part.
        let explanation = mail.explanation
        return events(
            outcomes, context: context,
            extraIDs: fields.message["original-message-id"].map(AddressScan.messageIDs) ?? [],
            explanation: explanation)
    }

    /// A report whose parts lost their boundaries or labels: its status fields
    /// are in the text, after a `Reporting-MTA:` or `Final-Recipient:` line.
    static func unlabelledStatusFields(_ mail: InboundMail) -> String? {
        guard
            mail.root.contentType.mimeType == "multipart/report" || mail.root.hasHeader("x-failed-recipients")
                || DeliveryReports.contains(mail.lowerFrom, any: daemonSenders)
        else { return nil }
        let candidates =
            mail.leaves.filter { $0.contentType.type == "text" || $0.contentType.type == "multipart" }
            + mail.originals
        for part in candidates {
            let body = part.decodedBody
            let lowered = Bytes.lowercased(body)
            guard let hit = Bytes.find(Array("\nfinal-recipient:".utf8), in: lowered),
                Bytes.find(Array("\naction:".utf8), in: lowered, from: hit) != nil
                    || Bytes.find(Array("\nstatus:".utf8), in: lowered, from: hit) != nil
            else { continue }
            let start = Bytes.find(Array("\nreporting-mta:".utf8), in: lowered).map { min($0, hit) } ?? hit
            return Charset.decode(body[(start + 1)...], charset: part.contentType.parameters["charset"])
        }
        return nil
    }

    /// The events for a list of recipient outcomes, with the message references found in the report.
    static func events(
        _ outcomes: [RecipientOutcome], context: Context, extraIDs: [String], explanation: String
    ) -> [ProviderEvent] {
        let mail = context.mail
        let returned = mail.returnedReferences()
        var ids = extraIDs
        for id in returned.messageIDs where !ids.contains(id) { ids.append(id) }
        let fallbackRecipient = mail.returnedRecipient()
        let several = Set(outcomes.compactMap(\.address)).count > 1
        var lowerExplanation: [UInt8]? = nil
        let when = mail.date(receivedAt: context.receivedAt)
        let raw = context.rawText
        return outcomes.enumerated().map { index, outcome in
            let type: EventType =
                switch outcome.action {
                case "delayed": .deferred
                case "delivered", "relayed", "expanded": .delivered
                default: .bounced
                }
            var diagnostic = outcome.diagnostic
            var status = outcome.status
            var reason: BounceReason? = nil
            var bounceClass: BounceClass? = nil
            if type == .bounced || type == .deferred {
                let lowered = Bytes.lowercased((diagnostic ?? "").utf8)
                if let code = Diagnosis.enhancedCode(in: lowered), status == nil || status!.hasSuffix(".0.0") {
                    status = code
                }
                // A vague or missing diagnostic: the human-readable part says more.
                let address = outcome.address.map { Array($0.utf8) }
                let others = several ? outcomes.compactMap(\.address).filter { $0 != outcome.address } : []
                reason = Diagnosis.reason(status: status, text: lowered) {
                    if lowerExplanation == nil { lowerExplanation = Bytes.lowercased(explanation.utf8) }
                    // With several recipients, only the lines about this one.
                    guard let address, !others.isEmpty, Bytes.find(address, in: lowerExplanation!) != nil else {
                        return lowerExplanation!
                    }
                    let range = Self.paragraph(
                        around: outcome.address!, in: lowerExplanation!, others: others.map { Array($0.utf8) })
                    return Array(lowerExplanation![range])
                }
                if type == .bounced {
                    // A temporary status (4.x.x) on a failure means it gave up waiting: never the address.
                    bounceClass = status?.hasPrefix("4") == true ? .soft : reason!.bounceClass
                    // A permanent code on an address problem is hard even when the words are vague.
                    if reason == .other, let status, status.hasPrefix("5.1.") { bounceClass = .hard }
                }
                if diagnostic == nil || diagnostic!.isEmpty {
                    diagnostic = status.map { "\($0) \(reason!.rawValue.replacing("_", with: " "))" }
                }
            }
            var timestamp = when
            if let last = outcome.lastAttempt, let millis = MailDate.parse(last),
                millis <= context.receivedAt.millisecondsSinceEpoch + 86_400_000
            {
                timestamp = Timestamp(millisecondsSinceEpoch: millis)
            }
            let recipient = outcome.address ?? fallbackRecipient
            // Each of our messages has one recipient: in a report naming several, only the
            // entry for the returned message's recipient is about that message. The others
            // keep their address, for the weak match.
            let aboutOurMessage = !several || (recipient != nil && recipient == fallbackRecipient)
            return ProviderEvent(
                source: context.source, type: type, recipient: recipient, messageIDs: aboutOurMessage ? ids : [],
                token: aboutOurMessage ? returned.token : nil,
                eventID: "\(mail.identity)#\(index):\(recipient ?? "-"):\(outcome.action)", timestamp: timestamp,
                bounceClass: bounceClass, detail: diagnostic.map(Self.clip), raw: raw,
                delivery: DeliveryFacts(
                    action: outcome.action, status: status, reason: reason?.rawValue, remoteMTA: outcome.remoteMTA))
        }
    }

    /// On one line, at most 500 characters.
    static func clip(_ text: String) -> String {
        var bytes = Array(text.utf8)
        for index in bytes.indices where bytes[index] == 10 || bytes[index] == 13 || bytes[index] == 9 {
            bytes[index] = 32
        }
        let single = String(decoding: bytes, as: UTF8.self)
        return bytes.count > 500 ? String(single.prefix(500)) : single
    }
}
