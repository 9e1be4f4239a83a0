import SeqbridgeCore
import SeqbridgeMIME
import SeqbridgeStore

/// Bounces written as prose by MTAs and mailbox providers that do not send
/// RFC 3464 reports (qmail, Exim, older Exchange, Yahoo, many appliances).
extension DeliveryReports {
    static let daemonSenders: [[UInt8]] = [
        "mailer-daemon", "mailer_daemon", "maildaemon", "mail-daemon", "postmaster", "post_master", "post-master",
        "mail delivery",
        "microsoftexchange", "mdaemon", "mail administrator", "mailadmin", "mail system", "double-bounce",
        "bounce@", "bounces@", "delivery subsystem", "returns@", "nobody@",
    ].map { Array($0.utf8) }

    static let subjectMarkers: [[UInt8]] = [
        "undeliver", "undelivered", "not delivered", "delivery status notification", "delivery failure",
        "delivery failed", "failure notice", "returned mail", "mail delivery failed", "non-delivery", "nondeliver",
        "non deliver", "could not be delivered", "delivery has failed", "mail system error", "returned to sender",
        "delivery problem", "delivery notification", "delayed mail", "delivery delayed", "warning: could not send",
        "message not delivered", "delivery report", "unzustellbar", "nicht zustellbar", "non remis",
        "no se puede entregar", "niet bezorgd", "onbestelbaar", "mail could not be delivered", "delivery error",
        "undelivered mail", "returned message", "bounce", "rejected", "delivery incomplete", "mail failure",
        "permanent failure", "temporary failure", "message delayed", "delivery notice", "notification de non",
        "error sending", "mail error", "message status", "auto-reply: undeliverable",
    ].map { Array($0.utf8) }

    static let bodyMarkers: [[UInt8]] = [
        "this is the mail system at host", "could not be delivered to one or more", "this is the qmail-send program",
        "the following addresses had permanent fatal errors", "delivery has failed to these recipients",
        "your message did not reach some or all", "the email account that you tried to reach does not exist",
        "message wasn't delivered", "message was not delivered", "unable to deliver your message",
        "we were unable to deliver", "delivery to the following recipient", "i'm afraid i wasn't able to deliver",
        "this message was created automatically by mail delivery software", "could not be delivered",
        "failed to deliver", "transcript of session follows", "permanent error",
        "delivery to the following recipients failed",
        "message could not be delivered", "the following message to", "was undeliverable", "is undeliverable",
        "delivery failed", "your message couldn't be delivered", "has been delayed", "delivery has been delayed",
        "delivery is delayed", "has not yet been delivered", "will continue to try", "will keep trying",
        "will be retried", "still trying", "non-delivery", "undeliverable mail", "returned mail",
    ].map { Array($0.utf8) }

    static let delayMarkers: [[UInt8]] = [
        "delivery status notification (delay)", "delivery delayed", "delayed mail", "has been delayed",
        "delivery has been delayed", "delivery is delayed", "message delayed", "has not yet been delivered",
        "will continue to try", "will keep trying", "will be retried", "will retry", "still trying",
        "warning: could not send message for past", "this is a warning message only", "do not need to resend",
        "delivery incomplete", "temporarily deferred", "not been delivered yet", "will try again",
        "delay notification", "still being retried", "no action is required on your part", "(delay)",
        "warning: message", "attempts will continue", "retry timeout not reached", "delayed:",
    ].map { Array($0.utf8) }

    /// Words that say the mail is given up for good, overriding delay wording.
    static let permanentMarkers: [[UInt8]] = [
        "permanent", "giving up", "retry timeout exceeded", "could not be delivered", "has been returned",
        "failed permanently", "undeliverable", "will not be delivered", "delivery has failed", "fatal error",
        "retry time not reached for any host after a long failure period", "has been rejected", "was not delivered",
        "wasn't delivered", "couldn't be delivered", "failed to deliver", "could not deliver", "unable to deliver",
        "delivery failed", "message expired", "expired",
    ].map { Array($0.utf8) }

    static let cutMarkers: [[UInt8]] = [
        "this is a copy of the message", "below this line is a copy of the message", "original message",
        "returned message", "original message headers", "unsent message below", "message header follows",
        "headers of the original message", "headers of your message", "content-type: message/rfc822",
        "the original message was received", "original message follows", "the message you sent",
        "received: from", "return-path:", "message-id:", "the header of the original message",
    ].map { Array($0.utf8) }

    static let cutMarkerFirstBytes = Set(cutMarkers.map { $0[0] })

    static let ignoredLocalParts: Set<String> = [
        "mailer-daemon", "mailer_daemon", "maildaemon", "noreply", "no-reply", "nobody", "double-bounce",
        "mail-daemon", "bounce", "bounces",
    ]
    /// Addresses bounces name for help; failed recipients only when nothing else is.
    static let helpLocalParts: Set<String> = ["postmaster", "root", "abuse", "hostmaster", "webmaster"]

    /// Whether any marker is in the text. Long texts first rule markers out by
    /// their first and last bigrams, as `Diagnosis.reasonFromText` does.
    static func contains(_ lowered: [UInt8], any markers: [[UInt8]]) -> Bool {
        guard lowered.count >= 256, markers.count >= 8 else {
            return markers.contains { Bytes.find($0, in: lowered) != nil }
        }
        return BigramFilter.with(lowered) { filter in
            markers.contains { filter.mayContain($0) && Bytes.find($0, in: lowered) != nil }
        }
    }

    /// A prose bounce: recipients and reasons read from the explanation text.
    static func fromText(_ context: Context) -> [ProviderEvent]? {
        let mail = context.mail
        let fromDaemon = contains(mail.lowerFrom, any: daemonSenders)
        let subjectSaysSo = contains(mail.lowerSubject, any: subjectMarkers)
        let failedHeader = mail.root.header("x-failed-recipients")
        // Cheap signs first: a person's mail has none of them and no attachment.
        guard fromDaemon || subjectSaysSo || failedHeader != nil || !mail.originals.isEmpty else { return nil }
        let explanation = mail.explanation
        let lowered = Bytes.lowercased(explanation.utf8)
        let bodySaysSo = contains(lowered, any: bodyMarkers)
        guard
            fromDaemon || (subjectSaysSo && (bodySaysSo || !mail.originals.isEmpty)) || failedHeader != nil
                || (bodySaysSo && !mail.originals.isEmpty)
        else { return nil }
        // Replies that quote a bounce are still replies.
        if !fromDaemon, failedHeader == nil, mail.root.hasHeader("in-reply-to"), !subjectSaysSo { return nil }

        let failureText = cut(lowered)
        let delayed =
            (contains(mail.lowerSubject, any: delayMarkers) || contains(failureText, any: delayMarkers))
            && !contains(mail.lowerSubject, any: permanentMarkers)
            && !contains(failureText, any: permanentMarkers)
        var excluded = Set<String>()
        for name in ["from", "to", "sender", "reply-to", "return-path", "cc"] {
            for header in mail.root.headers(named: name) {
                excluded.formUnion(AddressScan.addresses(in: header.value))
            }
        }
        if let sender = mail.returnedSender() { excluded.insert(sender) }
        let references = mail.returnedReferences()
        excluded.formUnion(references.messageIDs.map { $0.lowercased() })

        var candidates: [String] = []
        if let failedHeader {
            candidates = AddressScan.addresses(in: failedHeader)
        }
        if candidates.isEmpty {
            candidates = AddressScan.addresses(in: failureText).filter { address in
                guard !excluded.contains(address), !isSenderLine(address, in: failureText) else { return false }
                let local = address.split(separator: "@").first.map(String.init) ?? ""
                return !ignoredLocalParts.contains(local)
            }
        }
        let helpers = candidates.filter {
            helpLocalParts.contains($0.split(separator: "@").first.map(String.init) ?? "")
        }
        if helpers.count < candidates.count { candidates.removeAll { helpers.contains($0) } }
        if candidates.isEmpty, let original = mail.returnedRecipient() { candidates = [original] }
        if candidates.count > 50 { candidates = Array(candidates.prefix(50)) }
        if candidates.isEmpty { candidates = [""] }

        let originalBytes = Array(explanation.utf8)
        let outcomes = candidates.map { address -> RecipientOutcome in
            let others = candidates.filter { $0 != address }.map { Array($0.utf8) }
            let range =
                address.isEmpty
                ? 0..<failureText.count : Self.paragraph(around: address, in: failureText, others: others)
            let paragraph = Array(failureText[range])
            let status =
                Diagnosis.enhancedCode(in: paragraph) ?? Diagnosis.enhancedCode(in: failureText)
            let reply = Diagnosis.replyCode(in: paragraph) ?? Diagnosis.replyCode(in: failureText)
            var action = delayed ? "delayed" : "failed"
            if !delayed, status == nil, reply == nil, contains(failureText, any: delayMarkers) { action = "delayed" }
            return RecipientOutcome(
                address: address.isEmpty ? nil : address, action: action, status: status,
                diagnostic: diagnosticLine(range, original: originalBytes).map(clip), remoteMTA: nil, lastAttempt: nil)
        }
        return events(
            outcomes, context: context, extraIDs: [], explanation: String(decoding: failureText, as: UTF8.self))
    }

    static let quotedHeaderPrefixes: [[UInt8]] = ["to:", "cc:", "from:", "subject:", "sent:", "date:"].map {
        Array($0.utf8)
    }

    static let senderLinePrefixes: [[UInt8]] = [
        "from:", "mail from", "sender:", "reply-to:", "return-path:", "envelope-from", "x-sender", "sent by",
    ].map { Array($0.utf8) }

    /// Whether the address first appears on a line naming the sender (`From: ...`, `MAIL FROM:<...>`).
    static func isSenderLine(_ address: String, in text: [UInt8]) -> Bool {
        guard let hit = Bytes.find(Array(address.utf8), in: text) else { return false }
        var start = hit
        while start > 0, text[start - 1] != 10 { start -= 1 }
        while start < hit, text[start] == 32 || text[start] == 9 || text[start] == 62 { start += 1 }
        let line = text[start..<hit]
        return senderLinePrefixes.contains { line.starts(with: $0) }
    }

    /// The explanation up to where the returned message begins.
    static func cut(_ lowered: [UInt8]) -> [UInt8] {
        var end = lowered.count
        var lineStart = 0
        var seenContent = false
        while lineStart < lowered.count {
            var lineEnd = lineStart
            while lineEnd < lowered.count, lowered[lineEnd] != 10 { lineEnd += 1 }
            var start = lineStart
            while start < lineEnd,
                lowered[start] == 32 || lowered[start] == 45 || lowered[start] == 9
                    || lowered[start] == 62 || lowered[start] == 61 || lowered[start] == 95 || lowered[start] == 42
            {
                start += 1
            }
            if seenContent, start < lineEnd {
                let line = lowered[start..<lineEnd]
                if cutMarkerFirstBytes.contains(line[start]), cutMarkers.contains(where: { line.starts(with: $0) }) {
                    end = lineStart
                    break
                }
            }
            if start < lineEnd { seenContent = true }
            lineStart = lineEnd + 1
        }
        return Array(lowered[0..<end])
    }

    /// The lines about one address: from its first mention to the first blank
    /// line after something more than the address and labels ("because:") was
    /// said, at most 12 lines, and never into another failed address's lines.
    static func paragraph(around address: String, in text: [UInt8], others: [[UInt8]] = []) -> Range<Int> {
        let needle = Array(address.utf8)
        // The first mention outside a quoted header line (`To: ...` of the original).
        var start = -1
        var from = 0
        while let hit = Bytes.find(needle, in: text, from: from) {
            var lineStart = hit
            while lineStart > 0, text[lineStart - 1] != 10 { lineStart -= 1 }
            if start < 0 { start = lineStart }
            let line = Bytes.trimmed(text[lineStart..<hit])
            if !quotedHeaderPrefixes.contains(where: { line.starts(with: $0) }) {
                start = lineStart
                break
            }
            from = hit + needle.count
        }
        guard start >= 0 else { return 0..<0 }
        var end = start
        var lineStart = start
        var substantive = false
        var lines = 0
        while lineStart < text.count, lines < 12 {
            var lineEnd = lineStart
            while lineEnd < text.count, text[lineEnd] != 10 { lineEnd += 1 }
            let line = text[lineStart..<lineEnd]
            let trimmed = Bytes.trimmed(line)
            if lines > 0, !others.isEmpty, others.contains(where: { Bytes.find($0, in: line) != nil }) { break }
            if trimmed.isEmpty {
                if substantive { break }
            } else {
                end = lineEnd
                if lines == 0 {
                    // The address line says something when more than the address is on it.
                    substantive = trimmed.count > needle.count + 12
                } else if !(trimmed.last == UInt8(ascii: ":") && trimmed.count < 30),
                    trimmed.contains(where: { Bytes.lower($0) &- 97 < 26 })
                {
                    // Labels ("because:") and rules ("=====") are not the explanation yet.
                    substantive = true
                }
            }
            lines += 1
            lineStart = lineEnd + 1
        }
        return start..<end
    }

    /// The diagnostic as the server wrote it: the same bytes of the original-case
    /// text (lower-casing keeps byte offsets), on one line.
    static func diagnosticLine(_ range: Range<Int>, original: [UInt8]) -> String? {
        guard !range.isEmpty, range.upperBound <= original.count else { return nil }
        let text = Bytes.text(original[range])
        let words = text.split(whereSeparator: { $0 == "\n" || $0 == " " || $0 == "\t" || $0 == "\r" })
        return words.isEmpty ? nil : words.joined(separator: " ")
    }
}
