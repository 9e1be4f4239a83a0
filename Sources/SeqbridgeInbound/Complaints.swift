import SeqbridgeCore
import SeqbridgeMIME
import SeqbridgeStore

/// Spam complaints: RFC 5965 feedback reports and the older feedback-loop
/// formats that forward the original with a note.
enum Complaints {
    static func standard(_ context: Context) -> ProviderEvent? {
        let mail = context.mail
        guard let report = mail.leaf("message/feedback-report") else { return nil }
        let fields = DeliveryStatusFields(report.text)
        let group = fields.message.isEmpty ? (fields.recipients.first ?? [:]) : fields.message
        let type = group["feedback-type"]?.lowercased() ?? "abuse"
        // Only abuse-type reports are complaints; authentication-failure or
        // not-spam reports say nothing about the influencer's wishes.
        guard ["abuse", "fraud", "other", "virus"].contains(type) || type.isEmpty else { return notAComplaint(context) }
        let recipient =
            group["original-rcpt-to"].flatMap(AddressScan.first)
            ?? group["removal-recipient"].flatMap(AddressScan.first)
            ?? mail.returnedRecipient()
        return complaint(context, recipient: recipient, detail: "feedback report: \(type)")
    }

    /// A feedback report that is not about a person's wishes (authentication
    /// failures, "not spam"): recorded as an unclassified message.
    static func notAComplaint(_ context: Context) -> ProviderEvent {
        var event = context.personal(.unknown)
        event.detail = "feedback report that is not a complaint"
        return event
    }

    static let feedbackTypeAbuse = Array("feedback-type: abuse".utf8)
    static let headerMarkers = ["x-hmxmroriginalrecipient", "x-aol-ip"]
    static let subjectMarkers: [[UInt8]] = [
        "complaint", "abuse report", "email feedback report", "feedback loop", "fbl report", "spam report",
        "client tos notification", "scomp", "reported as spam",
    ].map { Array($0.utf8) }
    static let senderMarkers: [[UInt8]] = [
        "feedback", "fbl", "abuse", "scomp", "complaints", "staff@hotmail.com", "spamreport",
    ].map { Array($0.utf8) }

    /// Feedback loops that forward the original message without an RFC 5965 part.
    static func nonStandard(_ context: Context) -> ProviderEvent? {
        let mail = context.mail
        var recipient: String? = nil
        for embedded in mail.embeddedOriginals {
            if let value = embedded.header("x-hmxmroriginalrecipient") { recipient = AddressScan.first(in: value) }
        }
        let subjectSaysSo = DeliveryReports.contains(mail.lowerSubject, any: subjectMarkers)
        let senderSaysSo = DeliveryReports.contains(mail.lowerFrom, any: senderMarkers)
        // Cheap signs first: most mail has no attachment and no complaint words.
        guard subjectSaysSo || senderSaysSo || !mail.originals.isEmpty else { return nil }
        let hasMarkerHeader = mail.embeddedOriginals.contains { embedded in
            headerMarkers.contains { embedded.hasHeader($0) }
        }
        let feedbackTypeInText = mail.leaves.contains { part in
            part.contentType.type == "text"
                && Bytes.find(feedbackTypeAbuse, in: Bytes.lowercased(part.body)) != nil
        }
        guard
            hasMarkerHeader || feedbackTypeInText || (subjectSaysSo && senderSaysSo)
                || (subjectSaysSo && !mail.originals.isEmpty && !mail.root.hasHeader("in-reply-to"))
        else { return nil }
        return complaint(context, recipient: recipient ?? mail.returnedRecipient(), detail: "feedback loop report")
    }

    static func complaint(_ context: Context, recipient: String?, detail: String) -> ProviderEvent {
        let mail = context.mail
        let references = mail.returnedReferences()
        return ProviderEvent(
            source: context.source, type: .complained, recipient: recipient, messageIDs: references.messageIDs,
            token: references.token, eventID: mail.identity, timestamp: mail.date(receivedAt: context.receivedAt),
            detail: detail, raw: context.rawText)
    }
}

/// Mail sent to a `List-Unsubscribe` address: by the mail app's unsubscribe
/// button (Apple Mail marks it) or by hand with the subject "unsubscribe".
enum Unsubscribes {
    static func isRequest(_ mail: InboundMail) -> Bool {
        if mail.root.header("x-apple-unsubscribe")?.lowercased().trimmingSpaces == "true" { return true }
        let subject = mail.subject.lowercased().trimmingSpaces
        return subject == "unsubscribe" || subject == "unsubscribe me" || subject == "remove"
    }

    /// Matched by the token when the unsubscribe address carries it (`...+sbt_...@`), else by the sender.
    static func event(_ context: Context) -> ProviderEvent {
        var event = context.personal(.unsubscribed)
        let to = Array((context.mail.root.header("to") ?? "").utf8)
        if let start = Bytes.find(Array("sbt_".utf8), in: to) {
            var end = start + 4
            while end < to.count, to[end] &- 48 < 10 || to[end] &- 97 < 26 || to[end] == 95 { end += 1 }
            event.token = String(decoding: to[start..<end], as: UTF8.self)
        }
        event.detail = "unsubscribe request by email"
        return event
    }
}

/// Out-of-office and other automatic answers (RFC 3834 and the common
/// non-standard markers): recorded, never a reply and never a bounce.
public enum AutoReplies {
    static let subjectMarkers: [String] = [
        "out of office", "out of the office", "automatic reply", "auto reply", "auto-reply", "autoreply",
        "auto:", "auto response", "auto-response", "autoresponse", "automated response", "automatic response",
        "away from the office", "away from my", "on vacation", "on leave", "on holiday", "vacation reply",
        "abwesenheitsnotiz", "abwesend", "automatische antwort", "réponse automatique", "reponse automatique",
        "absence du bureau", "respuesta automática", "respuesta automatica", "fuera de la oficina",
        "risposta automatica", "fuori sede", "fuori ufficio", "resposta automática", "resposta automatica",
        "ausência", "afwezig", "automatisch antwoord", "automatisk svar", "autosvar", "automaattinen vastaus",
        "poza biurem", "automatyczna odpowiedź", "automatická odpověď", "автоматический ответ", "автоответ",
        "自動応答", "自動返信", "不在", "自动回复", "자동 응답", "otomatik yanıt", "ofis dışında",
    ]

    static let compiledSubjectMarkers = subjectMarkers.map { Array($0.utf8) }

    public static func isAutoReply(_ headers: MIMEPart, subject: String) -> Bool {
        if let value = headers.header("auto-submitted")?.lowercased().trimmingSpaces, !value.isEmpty,
            !value.hasPrefix("no")
        {
            return true
        }
        for name in [
            "x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated", "x-ms-exchange-inbox-rules-loop",
            "x-auto-response-suppress-reply",
        ]
        where headers.hasHeader(name) {
            if name == "x-autoreply", let value = headers.header(name)?.lowercased(), value.hasPrefix("no") { continue }
            return true
        }
        if let precedence = headers.header("precedence")?.lowercased().trimmingSpaces,
            ["auto_reply", "auto-reply", "bulk", "junk", "list"].contains(precedence)
        {
            return true
        }
        if let apple = headers.header("x-apple-action")?.lowercased(), apple.contains("vacation") { return true }
        if let returnPath = headers.header("return-path")?.trimmingSpaces, returnPath == "<>" || returnPath.isEmpty {
            return true
        }
        let lowered = Array(subject.lowercased().utf8)
        return compiledSubjectMarkers.contains { Bytes.find($0, in: lowered) != nil }
    }

    static func isAutoReply(_ mail: InboundMail) -> Bool { isAutoReply(mail.root, subject: mail.subject) }
}

/// A message written by a person: it has a sender that is not a robot.
enum Replies {
    static let robotLocalParts = [
        "mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply", "notifications",
        "notification", "bounce", "bounces",
    ]

    static let bulkLocalParts = [
        "news", "newsletter", "newsletters", "marketing", "promo", "promotions", "offers",
        "deals", "digest", "updates", "alerts", "mailer", "campaigns",
    ]
    static let replyPrefixes = [
        "re:", "re :", "aw:", "sv:", "vs:", "antw:", "r:", "rif:", "res:", "odp:", "ynt:",
        "回复:", "回复：", "答复:", "返信:", "ответ:", "re[", "re(", "réf:", "tr:", "fw:", "fwd:", "wg:",
    ]

    /// A person writing back: a sender that is not a robot, and either a reply's
    /// threading or subject, or nothing that marks the message as bulk mail.
    static func isHumanReply(_ mail: InboundMail) -> Bool {
        guard let sender = mail.fromAddress else { return false }
        let local = sender.split(separator: "@").first.map(String.init) ?? ""
        if robotLocalParts.contains(where: { local == $0 || local.hasPrefix($0 + "+") }) { return false }
        if mail.root.hasHeader("in-reply-to") || mail.root.hasHeader("references") { return true }
        let subject = mail.subject.lowercased().trimmingSpaces
        if replyPrefixes.contains(where: { subject.hasPrefix($0) }) { return true }
        if bulkLocalParts.contains(local) { return false }
        for name in ["list-unsubscribe", "list-id", "list-post", "feedback-id", "x-campaign", "x-mailgun-tag"]
        where mail.root.hasHeader(name) {
            return false
        }
        if let returnPath = mail.root.header("return-path")?.lowercased(), returnPath.contains("bounce") {
            return false
        }
        return true
    }
}
