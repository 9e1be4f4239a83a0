import Foundation
import GRDB
import SeqbridgeCore
import SeqbridgeStore

extension SQLiteStore {
    public func statusCounts(sequence: String?) async throws -> [StatusCount] {
        try await writer.read { db in
            if let sequence { _ = try Self.sequenceID(named: sequence, requireConnected: false, in: db) }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT s.name AS sequence, e.status, e.reason, COUNT(*) AS count
                    FROM enrollment e JOIN sequence s ON s.id = e.sequence_id
                    WHERE ?1 IS NULL OR s.name = ?1
                    GROUP BY s.name, e.status, e.reason ORDER BY s.name, e.status, e.reason
                    """, arguments: [sequence]
            ).map { row in
                StatusCount(
                    sequence: row["sequence"], status: Status(rawValue: row["status"]) ?? .error,
                    reason: (row["reason"] as String?).flatMap(Reason.init(rawValue:)), count: row["count"])
            }
        }
    }

    static func exportRow(_ row: Row) -> ExportRow {
        let status = Status(rawValue: row["status"]) ?? .error
        return ExportRow(
            email: row["email"], name: row["name"], sequence: row["sequence"], status: status,
            reason: (row["reason"] as String?).flatMap(Reason.init(rawValue:)), stepsSent: row["steps_sent"],
            stepsTotal: row["steps_total"], enrolledAt: Timestamp(millisecondsSinceEpoch: row["enrolled_at"]),
            lastSentAt: row.timestamp("last_sent_at"), nextSendAt: row.timestamp("next_send_at"),
            finishedAt: status.isActive ? nil : row.timestamp("status_changed_at"), detail: row["detail"])
    }

    public func exportRows(_ filter: ExportFilter, _ emit: @Sendable (ExportRow) throws -> Void) async throws {
        try await writer.read { db in
            if let sequence = filter.sequence {
                _ = try Self.sequenceID(named: sequence, requireConnected: false, in: db)
            }
            // Straight through the C API: this loop runs once per enrollment, a million times a night.
            let query = try RawStatement(
                db,
                """
                SELECT i.email, i.name, s.name, e.status, e.reason, e.steps_sent, st.steps_total,
                  e.enrolled_at, e.last_sent_at, e.next_send_at, e.status_changed_at, e.detail
                FROM enrollment e
                JOIN influencer i ON i.id = e.influencer_id
                JOIN sequence s ON s.id = e.sequence_id
                JOIN (SELECT sequence_id, COUNT(*) AS steps_total FROM step GROUP BY sequence_id) st
                  ON st.sequence_id = e.sequence_id
                WHERE (?1 IS NULL OR s.name = ?1) AND (?2 IS NULL OR e.status = ?2)
                  AND (?3 IS NULL OR e.updated_at >= ?3)
                ORDER BY e.id
                """)
            query.bind(1, filter.sequence)
            query.bind(2, filter.status?.rawValue)
            query.bind(3, filter.since?.millisecondsSinceEpoch)
            while try query.step() {
                let status = Status(rawValue: query.text(3) ?? "") ?? .error
                try emit(
                    ExportRow(
                        email: query.text(0) ?? "", name: query.text(1), sequence: query.text(2) ?? "", status: status,
                        reason: query.text(4).flatMap(Reason.init(rawValue:)), stepsSent: Int(query.int64(5) ?? 0),
                        stepsTotal: Int(query.int64(6) ?? 0),
                        enrolledAt: Timestamp(millisecondsSinceEpoch: query.int64(7) ?? 0),
                        lastSentAt: Timestamp(query.int64(8)), nextSendAt: Timestamp(query.int64(9)),
                        finishedAt: status.isActive ? nil : Timestamp(query.int64(10)), detail: query.text(11)))
            }
        }
    }

    public func unconfirmedCount() async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE state = 'claimed'") ?? 0
        }
    }

    public func history(email: String) async throws -> InfluencerHistory? {
        try await writer.read { db in
            guard
                let influencerRow = try Row.fetchOne(
                    db, sql: "SELECT * FROM influencer WHERE email = ?", arguments: [email])
            else { return nil }
            let influencerID: Int64 = influencerRow["id"]
            let enrollments = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.id AS enrollment_id, e.token, e.retry_after, e.wait_reason, m.name AS mailbox,
                      m.state AS mailbox_state,
                      i.email, i.name, s.name AS sequence, e.status, e.reason, e.steps_sent,
                      (SELECT COUNT(*) FROM step st WHERE st.sequence_id = e.sequence_id) AS steps_total,
                      e.enrolled_at, e.last_sent_at, e.next_send_at, e.status_changed_at, e.detail
                    FROM enrollment e
                    JOIN influencer i ON i.id = e.influencer_id
                    JOIN sequence s ON s.id = e.sequence_id
                    JOIN mailbox m ON m.id = s.mailbox_id
                    WHERE e.influencer_id = ? ORDER BY e.enrolled_at, e.id
                    """,
                arguments: [influencerID]
            ).map { row in
                let enrollmentID: Int64 = row["enrollment_id"]
                let events = try Self.eventRows(enrollmentID: enrollmentID, in: db).compactMap {
                    event -> EventRecord? in
                    guard let type = EventType(rawValue: event["type"]) else { return nil }
                    return EventRecord(
                        key: event["key"], type: type, at: Timestamp(millisecondsSinceEpoch: event["occurred_at"]),
                        recordedAt: Timestamp(millisecondsSinceEpoch: event["recorded_at"]), source: event["source"],
                        messageID: event["message_id"], step: event["step"], stepsTotal: event["steps_total"],
                        bounceClass: (event["bounce_class"] as String?).flatMap(BounceClass.init(rawValue:)),
                        detail: event["detail"])
                }
                let messages = try Row.fetchAll(
                    db, sql: "SELECT * FROM message WHERE enrollment_id = ? ORDER BY step", arguments: [enrollmentID]
                ).map { message in
                    MessageRecord(
                        step: message["step"], messageID: message["message_id"], recipient: message["recipient"],
                        state: MessageRecord.State(rawValue: message["state"]) ?? .claimed,
                        claimedAt: Timestamp(millisecondsSinceEpoch: message["claimed_at"]),
                        sentAt: message.timestamp("sent_at"), providerMessageID: message["provider_message_id"])
                }
                return EnrollmentHistory(
                    token: row["token"], row: Self.exportRow(row), mailbox: row["mailbox"],
                    mailboxState: MailboxState(rawValue: row["mailbox_state"]) ?? .disconnected,
                    retryAfter: row.timestamp("retry_after"), waitReason: row["wait_reason"], events: events,
                    messages: messages)
            }
            let decoder = JSONDecoder()
            return InfluencerHistory(
                influencer: try Self.influencer(from: influencerRow, decoder: decoder),
                suppressed: try Self.suppression(email: email, in: db), enrollments: enrollments)
        }
    }
}
