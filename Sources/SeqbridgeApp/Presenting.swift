import Foundation
import SeqbridgeCore
import SeqbridgeStore

/// Text and JSON views of what the store holds, for `status` and `show`.
public enum Presenting {
    // MARK: status

    public static func statusText(_ counts: [StatusCount], unconfirmed: Int) -> String {
        guard !counts.isEmpty else { return "No enrollments yet.\n" }
        var lines = [pad("SEQUENCE", 24) + pad("STATUS", 14) + pad("REASON", 22) + "COUNT"]
        for count in counts {
            lines.append(
                pad(count.sequence, 24) + pad(count.status.label, 14) + pad(count.reason?.rawValue ?? "", 22)
                    + String(count.count))
        }
        if unconfirmed > 0 {
            lines.append(
                "\(unconfirmed) step(s) were claimed but never confirmed by their transport; `seqbridge show` names them. They are not resent."
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    struct StatusJSON: Encodable {
        var counts: [StatusCount]
        var unconfirmed: Int
    }

    public static func statusJSON(_ counts: [StatusCount], unconfirmed: Int) throws -> String {
        try json(StatusJSON(counts: counts, unconfirmed: unconfirmed))
    }

    // MARK: show

    /// Why the enrollment's status is what it is, in one sentence.
    public static func why(_ enrollment: EnrollmentHistory) -> String {
        let state = foldStatus(enrollment.events.map(\.coreEvent))
        guard let last = state.transitions.last,
            let event = enrollment.events.first(where: { $0.key == last.eventKey })
        else {
            return "Scheduled since \(enrollment.row.enrolledAt.iso8601): enrolled, nothing sent yet."
        }
        var sentence = "\(label(last.to, last.reason)) since \(last.at.iso8601): \(describe(event))"
        sentence += " (source \(event.source)"
        if let messageID = event.messageID { sentence += ", message <\(messageID)>" }
        return sentence + ")."
    }

    /// What the scheduler will do next for this enrollment, or why it is waiting.
    public static func next(_ enrollment: EnrollmentHistory) -> String? {
        let row = enrollment.row
        if let claimed = enrollment.messages.first(where: { $0.state == .claimed }) {
            return
                "step \(claimed.step) was claimed at \(claimed.claimedAt.iso8601) but its transport never confirmed it: it may or may not have gone out, and it will not be resent. Unenroll and re-enroll to start over."
        }
        guard row.status.isActive else { return nil }
        if enrollment.mailboxState == .disconnected {
            return "waiting: mailbox \(enrollment.mailbox) is disconnected"
        }
        guard let nextAt = row.nextSendAt else { return nil }
        var text = "step \(row.stepsSent + 1) of \(row.stepsTotal) due at \(nextAt.iso8601)"
        if let retry = enrollment.retryAfter, retry == nextAt {
            text += enrollment.waitReason.map { " (waiting: \($0))" } ?? " (retrying after a temporary failure)"
        }
        if let failure = enrollment.events.last(where: { $0.type == .renderFailed && $0.step == row.stepsSent + 1 }) {
            text += "; last attempt could not be rendered: \(failure.detail ?? "")"
        }
        return text
    }

    static func describe(_ event: EventRecord) -> String {
        switch event.type {
        case .enrolled: return "enrolled"
        case .stepSent: return "step \(event.step ?? 0) of \(event.stepsTotal ?? 0) sent"
        case .unenrolled: return "unenrolled by the operator"
        case .mailboxDisconnected: return event.detail ?? "mailbox disconnected"
        default:
            var text = event.type.rawValue.replacingOccurrences(of: "_", with: " ")
            if let bounceClass = event.bounceClass { text += " (\(bounceClass.rawValue))" }
            if let detail = event.detail { text += ": \(detail)" }
            return text
        }
    }

    static func label(_ status: Status, _ reason: Reason?) -> String {
        reason.map { "\(status.label) (\($0.rawValue))" } ?? status.label
    }

    public static func showText(_ history: InfluencerHistory) -> String {
        let influencer = history.influencer
        var lines: [String] = []
        var title = influencer.email
        if let name = influencer.name { title += "  \(name)" }
        if let handle = influencer.handle { title += "  \(handle)" }
        if let platform = influencer.platform { title += " (\(platform))" }
        lines.append(title)
        if let suppressed = history.suppressed { lines.append("  on the suppression list: \(suppressed.rawValue)") }
        if history.enrollments.isEmpty { lines.append("  not enrolled in any sequence") }
        for enrollment in history.enrollments {
            let row = enrollment.row
            let state = foldStatus(enrollment.events.map(\.coreEvent))
            let deciding = Set(state.transitions.map(\.eventKey))
            lines.append("")
            lines.append(
                "\(row.sequence): \(label(row.status, row.reason)), \(row.stepsSent) of \(row.stepsTotal) step(s) sent")
            lines.append("  why:      \(why(enrollment))")
            if let next = next(enrollment) { lines.append("  next:     \(next)") }
            lines.append("  mailbox:  \(enrollment.mailbox) (\(enrollment.mailboxState.rawValue))")
            lines.append("  token:    \(enrollment.token)")
            lines.append("  history:")
            for event in enrollment.events {
                var line = "    \(event.at.iso8601)  \(pad(event.type.rawValue, 21))\(pad(event.source, 10))"
                line += describe(event)
                if let messageID = event.messageID, event.type == .stepSent { line += " <\(messageID)>" }
                if deciding.contains(event.key),
                    let transition = state.transitions.first(where: { $0.eventKey == event.key })
                {
                    line += "  -> \(label(transition.to, transition.reason))"
                }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    struct ShowJSON: Encodable {
        struct EventJSON: Encodable {
            var key: String
            var type: String
            var at: String
            var recorded_at: String
            var source: String
            var message_id: String?
            var step: Int?
            var steps_total: Int?
            var bounce_class: String?
            var detail: String?
            var changed_status_to: String?
            var changed_reason_to: String?
        }
        struct MessageJSON: Encodable {
            var step: Int
            var message_id: String
            var recipient: String
            var state: String
            var claimed_at: String
            var sent_at: String?
            var provider_message_id: String?
        }
        struct EnrollmentJSON: Encodable {
            var sequence: String
            var token: String
            var status: String
            var reason: String?
            var steps_sent: Int
            var steps_total: Int
            var enrolled_at: String
            var last_sent_at: String?
            var next_send_at: String?
            var finished_at: String?
            var detail: String?
            var why: String
            var next: String?
            var mailbox: String
            var unconfirmed_steps: [Int]
            var events: [EventJSON]
            var messages: [MessageJSON]
        }
        var email: String
        var name: String?
        var first_name: String?
        var last_name: String?
        var handle: String?
        var platform: String?
        var followers: Int64?
        var attributes: [String: String]
        var suppressed: String?
        var enrollments: [EnrollmentJSON]
    }

    public static func showJSON(_ history: InfluencerHistory) throws -> String {
        let influencer = history.influencer
        let enrollments = history.enrollments.map { enrollment in
            let row = enrollment.row
            let state = foldStatus(enrollment.events.map(\.coreEvent))
            return ShowJSON.EnrollmentJSON(
                sequence: row.sequence, token: enrollment.token, status: row.status.rawValue,
                reason: row.reason?.rawValue, steps_sent: row.stepsSent, steps_total: row.stepsTotal,
                enrolled_at: row.enrolledAt.iso8601, last_sent_at: row.lastSentAt?.iso8601,
                next_send_at: row.nextSendAt?.iso8601, finished_at: row.finishedAt?.iso8601, detail: row.detail,
                why: why(enrollment), next: next(enrollment), mailbox: enrollment.mailbox,
                unconfirmed_steps: enrollment.messages.filter { $0.state == .claimed }.map(\.step),
                events: enrollment.events.map { event in
                    let transition = state.transitions.first { $0.eventKey == event.key }
                    return ShowJSON.EventJSON(
                        key: event.key, type: event.type.rawValue, at: event.at.iso8601,
                        recorded_at: event.recordedAt.iso8601, source: event.source, message_id: event.messageID,
                        step: event.step, steps_total: event.stepsTotal, bounce_class: event.bounceClass?.rawValue,
                        detail: event.detail, changed_status_to: transition?.to.rawValue,
                        changed_reason_to: transition?.reason?.rawValue)
                },
                messages: enrollment.messages.map { message in
                    ShowJSON.MessageJSON(
                        step: message.step, message_id: message.messageID, recipient: message.recipient,
                        state: message.state.rawValue, claimed_at: message.claimedAt.iso8601,
                        sent_at: message.sentAt?.iso8601, provider_message_id: message.providerMessageID)
                })
        }
        return try json(
            ShowJSON(
                email: influencer.email, name: influencer.name, first_name: influencer.firstName,
                last_name: influencer.lastName, handle: influencer.handle, platform: influencer.platform,
                followers: influencer.followers, attributes: influencer.attributes,
                suppressed: history.suppressed?.rawValue, enrollments: enrollments))
    }

    // MARK: lists

    public static func sequencesText(_ sequences: [SequenceSummary]) -> String {
        guard !sequences.isEmpty else {
            return "No sequences yet; add one with `seqbridge sequence apply FILE.yaml`.\n"
        }
        var lines = [pad("SEQUENCE", 24) + pad("MAILBOX", 16) + pad("STEPS", 8) + pad("ACTIVE", 8) + "ENROLLMENTS"]
        for sequence in sequences {
            let waits = sequence.steps.map { $0.wait.description }.joined(separator: ", ")
            lines.append(
                pad(sequence.name, 24) + pad(sequence.mailbox, 16) + pad("\(sequence.steps.count)", 8)
                    + pad("\(sequence.active)", 8) + "\(sequence.enrollments)   waits: \(waits)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func mailboxesText(_ mailboxes: [MailboxRecord]) -> String {
        guard !mailboxes.isEmpty else { return "No mailboxes yet; add one with `seqbridge mailbox add`.\n" }
        var lines = [pad("MAILBOX", 16) + pad("STATE", 14) + pad("FROM", 40) + "TRANSPORT"]
        for mailbox in mailboxes {
            let definition = mailbox.definition
            let from = definition.fromName.map { "\($0) <\(definition.fromAddress)>" } ?? definition.fromAddress.value
            var line = pad(definition.name, 16) + pad(mailbox.state.rawValue, 14) + pad(from, 40) + definition.transport
            if let detail = mailbox.stateDetail { line += "  (\(detail))" }
            if mailbox.state == .connected, let since = mailbox.failingSince {
                line += "  (failing since \(since.iso8601): \(mailbox.failingDetail ?? "unknown"))"
            }
            var limits: [String] = []
            if let cap = definition.dailyCap { limits.append("\(cap)/day") }
            if let spacing = definition.minSpacingSeconds { limits.append("one per \(spacing)s") }
            if let window = definition.sendWindow { limits.append(window) }
            if !limits.isEmpty {
                line += "  [limits: \(limits.joined(separator: ", ")) \(definition.timeZone ?? "UTC")]"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
