import Foundation
import GRDB
import SeqbridgeCore
import SeqbridgeStore

extension SQLiteStore {
    public func dueSteps(now: Timestamp, after cursor: DueCursor?, limit: Int) async throws -> [DueStep] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT e.id, e.token, e.steps_sent, e.next_send_at, e.sequence_id, s.name AS sequence,
                          i.email, i.name, i.first_name, i.last_name, i.handle, i.platform, i.followers, i.attributes,
                          m.id AS m_id, m.name AS m_name, m.from_name AS m_from_name,
                          m.from_address AS m_from_address, m.transport AS m_transport, m.state AS m_state,
                          m.state_detail AS m_state_detail, m.state_changed_at AS m_state_changed_at,
                          m.failing_since AS m_failing_since, m.failing_detail AS m_failing_detail,
                          m.failure_grace_seconds AS m_failure_grace_seconds,
                          m.unsubscribe_url AS m_unsubscribe_url, m.unsubscribe_mailto AS m_unsubscribe_mailto,
                          m.daily_cap AS m_daily_cap, m.min_spacing_seconds AS m_min_spacing_seconds,
                          m.send_window AS m_send_window, m.time_zone AS m_time_zone
                        FROM enrollment e
                        JOIN sequence s ON s.id = e.sequence_id
                        JOIN mailbox m ON m.id = s.mailbox_id
                        JOIN influencer i ON i.id = e.influencer_id
                        WHERE e.next_send_at IS NOT NULL AND e.next_send_at <= ?
                          AND (e.next_send_at, e.id) > (?, ?)
                          AND m.state = 'connected'
                          AND NOT EXISTS (SELECT 1 FROM suppression x WHERE x.email = i.email)
                        ORDER BY e.next_send_at, e.id
                        LIMIT ?
                        """),
                arguments: [
                    now.millisecondsSinceEpoch, cursor?.dueAt.millisecondsSinceEpoch ?? Int64.min,
                    cursor?.enrollmentID ?? Int64.min, limit,
                ])
            var stepsBySequence: [Int64: [StepDefinition]] = [:]
            var mailboxes: [Int64: MailboxRecord] = [:]
            let decoder = JSONDecoder()
            return try rows.compactMap { row -> DueStep? in
                let sequenceID: Int64 = row["sequence_id"]
                let steps: [StepDefinition]
                if let cached = stepsBySequence[sequenceID] {
                    steps = cached
                } else {
                    steps = try Self.steps(sequenceID: sequenceID, in: db)
                    stepsBySequence[sequenceID] = steps
                }
                let stepsSent: Int = row["steps_sent"]
                guard stepsSent < steps.count else { return nil }
                return DueStep(
                    enrollmentID: row["id"], token: row["token"], sequence: row["sequence"], step: stepsSent + 1,
                    stepsTotal: steps.count, dueAt: Timestamp(millisecondsSinceEpoch: row["next_send_at"]),
                    influencer: try Self.influencer(from: row, decoder: decoder), template: steps[stepsSent],
                    mailbox: try mailboxes[row["m_id"]]
                        ?? {
                            let mailbox = try Self.mailbox(from: row, prefix: "m_")
                            mailboxes[mailbox.id] = mailbox
                            return mailbox
                        }())
            }
        }
    }

    static func influencer(from row: Row, decoder: JSONDecoder) throws -> InfluencerFields {
        let attributesJSON: String = row["attributes"]
        return InfluencerFields(
            email: row["email"], name: row["name"], firstName: row["first_name"], lastName: row["last_name"],
            handle: row["handle"], platform: row["platform"], followers: row["followers"],
            attributes: (try? decoder.decode([String: String].self, from: Data(attributesJSON.utf8))) ?? [:])
    }

    public func claim(_ requests: [ClaimRequest], now: Timestamp) async throws -> [ClaimRequest] {
        guard !requests.isEmpty else { return [] }
        return try await writer.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO message (enrollment_id, step, message_id, recipient, mailbox_id, state, claimed_at)
                    SELECT e.id, ?, ?, ?, s.mailbox_id, 'claimed', ?
                    FROM enrollment e JOIN sequence s ON s.id = e.sequence_id
                    WHERE e.id = ? AND e.status IN ('scheduled', 'in_progress') AND e.steps_sent = ?
                      AND e.next_send_at IS NOT NULL AND e.next_send_at <= ?
                    ON CONFLICT DO NOTHING
                    """)
            let hold = try db.cachedStatement(sql: "UPDATE enrollment SET next_send_at = NULL WHERE id = ?")
            var claimed: [ClaimRequest] = []
            claimed.reserveCapacity(requests.count)
            for request in requests {
                try insert.execute(arguments: [
                    request.step, request.messageID, request.recipient, now.millisecondsSinceEpoch,
                    request.enrollmentID, request.step - 1, now.millisecondsSinceEpoch,
                ])
                guard db.changesCount > 0 else { continue }
                try hold.execute(arguments: [request.enrollmentID])
                claimed.append(request)
            }
            return claimed
        }
    }

    public func recordSends(_ reports: [SendReport], now: Timestamp) async throws {
        guard !reports.isEmpty else { return }
        try await writer.write { db in
            let lookup = try db.cachedStatement(
                sql: """
                    SELECT m.id, m.enrollment_id, m.step, e.retry_after,
                      (SELECT COUNT(*) FROM step WHERE sequence_id = e.sequence_id) AS steps_total
                    FROM message m JOIN enrollment e ON e.id = m.enrollment_id
                    WHERE m.message_id = ? AND m.state = 'claimed'
                    """)
            let refresher = try Refresher(db)
            // Reports that arrived before we recorded the send (a fast provider) are applied after it.
            var waiting: [(messageID: String, providerMessageID: String?, enrollmentID: Int64)] = []
            for report in reports {
                guard let message = try Row.fetchOne(lookup, arguments: [report.messageID]) else { continue }
                let rowID: Int64 = message["id"]
                let enrollmentID: Int64 = message["enrollment_id"]
                let step: Int = message["step"]
                let sent = NewEvent(
                    key: "sent:\(report.messageID)", type: .stepSent, at: now, source: "seqbridge",
                    messageID: report.messageID, step: step, stepsTotal: message["steps_total"])
                switch report.result {
                case .sent(let providerMessageID):
                    try db.cachedStatement(
                        sql: "UPDATE message SET state = 'sent', sent_at = ?, provider_message_id = ? WHERE id = ?"
                    ).execute(arguments: [now.millisecondsSinceEpoch, providerMessageID, rowID])

                    if message["retry_after"] as Int64? != nil {
                        try db.cachedStatement(
                            sql: "UPDATE enrollment SET retry_after = NULL, wait_reason = NULL WHERE id = ?"
                        )
                        .execute(arguments: [enrollmentID])
                    }
                    try Self.append(sent, to: enrollmentID, recordedAt: now, in: db, refresher: refresher)
                    waiting.append((report.messageID, providerMessageID, enrollmentID))
                case .deferred(let detail, let retryAt):
                    // Not sent: release the claim so the step goes out later.
                    try db.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [rowID])
                    messages.forget(report.messageID)
                    try db.execute(
                        sql: "UPDATE enrollment SET retry_after = ?, wait_reason = NULL WHERE id = ?",
                        arguments: [retryAt.millisecondsSinceEpoch, enrollmentID])
                    try Self.append(
                        NewEvent(
                            key: "deferred:\(report.messageID)", type: .sendDeferred, at: now, source: "seqbridge",
                            step: step, detail: detail),
                        to: enrollmentID, recordedAt: now, in: db, refresher: refresher)
                case .bounced(let detail, let bounceClass):
                    try db.execute(
                        sql: "UPDATE message SET state = 'bounced', sent_at = ? WHERE id = ?",
                        arguments: [now.millisecondsSinceEpoch, rowID])
                    try Self.append(sent, to: enrollmentID, recordedAt: now, in: db, refresher: refresher)
                    try Self.append(
                        NewEvent(
                            key: "bounced:\(report.messageID)", type: .bounced, at: now, source: "seqbridge",
                            messageID: report.messageID, bounceClass: bounceClass, detail: detail),
                        to: enrollmentID, recordedAt: now, in: db, refresher: refresher)
                }
            }
            guard !waiting.isEmpty, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM unmatched_hint)") == true
            else { return }
            for entry in waiting {
                let token = try String.fetchOne(
                    db, sql: "SELECT token FROM enrollment WHERE id = ?", arguments: [entry.enrollmentID])
                try Self.applyWaitingEvents(
                    messageID: entry.messageID, token: token, providerMessageID: entry.providerMessageID, now: now,
                    in: db)
            }
        }
    }

    public func recordRenderFailures(_ failures: [RenderFailure], now: Timestamp) async throws {
        guard !failures.isEmpty else { return }
        try await writer.write { db in
            for failure in failures {
                // One history entry per step and problem, however many ticks meet it.
                try Self.append(
                    NewEvent(
                        key: "render_failed:\(failure.enrollmentID):\(failure.step):\(failure.detail)",
                        type: .renderFailed, at: now, source: "seqbridge", step: failure.step,
                        detail: failure.detail),
                    to: failure.enrollmentID, recordedAt: now, in: db)
            }
        }
    }
}
