import GRDB
import SeqbridgeCore
import SeqbridgeStore

/// An event about to be appended to an enrollment's history.
struct NewEvent {
    var key: String
    var type: EventType
    var at: Timestamp
    var source: String
    var messageID: String? = nil
    var step: Int? = nil
    var stepsTotal: Int? = nil
    var bounceClass: BounceClass? = nil
    var detail: String? = nil
}

/// The event types that can change a status, as an SQL list.
let significantTypes = EventType.allCases.filter(\.affectsStatus).map { "'\($0.rawValue)'" }.joined(separator: ", ")

extension SQLiteStore {
    /// Appends an event (once: a second event with the same key is ignored)
    /// and brings the enrollment's cached status up to date. Returns whether
    /// the event was new.
    @discardableResult
    static func append(_ event: NewEvent, to enrollmentID: Int64, recordedAt: Timestamp, in db: Database) throws
        -> Bool
    {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO event (enrollment_id, key, type, occurred_at, recorded_at, source, message_id, step,
                                   steps_total, bounce_class, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (key) DO NOTHING
                """)
        try statement.execute(arguments: [
            enrollmentID, event.key, event.type.rawValue, event.at.millisecondsSinceEpoch,
            recordedAt.millisecondsSinceEpoch, event.source, event.messageID, event.step, event.stepsTotal,
            event.bounceClass?.rawValue, event.detail,
        ])
        guard db.changesCount > 0 else { return false }
        try suppressIfNeeded(
            Event(key: event.key, type: event.type, at: event.at, bounceClass: event.bounceClass),
            messageID: event.messageID, enrollmentID: enrollmentID, detail: event.detail, now: recordedAt, in: db)
        try refresh(enrollmentID: enrollmentID, now: recordedAt, in: db)
        return true
    }

    /// Puts the address on the suppression list after a complaint, an
    /// unsubscribe or a hard bounce: the address the message went to, or else
    /// the influencer's current one.
    static func suppressIfNeeded(
        _ event: Event, messageID: String?, enrollmentID: Int64, detail: String?, now: Timestamp, in db: Database
    ) throws {
        guard let reason = suppressionReason(for: event) else { return }
        try db.cachedStatement(
            sql: """
                INSERT INTO suppression (email, reason, detail, created_at)
                SELECT coalesce(
                  (SELECT recipient FROM message WHERE message_id = ?),
                  (SELECT i.email FROM enrollment e JOIN influencer i ON i.id = e.influencer_id WHERE e.id = ?)),
                  ?, ?, ?
                ON CONFLICT (email) DO NOTHING
                """
        ).execute(arguments: [messageID, enrollmentID, reason.rawValue, detail, now.millisecondsSinceEpoch])
    }

    /// Recomputes an enrollment's cached status, counters and next send time
    /// from its whole event history through the pure status fold.
    static func refresh(enrollmentID: Int64, now: Timestamp, in db: Database) throws {
        // Only the events that can change a status are read: the fold gives the
        // same state without the others (delivered, opened, ...), however many there are.
        let statement = try db.cachedStatement(
            sql: """
                SELECT key, type, occurred_at, message_id, step, steps_total, bounce_class, detail
                FROM event WHERE enrollment_id = ? AND type IN (\(significantTypes))
                """)
        var details: [String: String] = [:]
        var coreEvents: [Event] = []
        let rows = try Row.fetchCursor(statement, arguments: [enrollmentID])
        while let row = try rows.next() {
            guard let type = EventType(rawValue: row[1]) else { continue }
            let key: String = row[0]
            if let detail: String = row[7] { details[key] = detail }
            coreEvents.append(
                Event(
                    key: key, type: type, at: Timestamp(millisecondsSinceEpoch: row[2]), messageID: row[3],
                    step: row[4],
                    stepsTotal: row[5], bounceClass: (row[6] as String?).flatMap(BounceClass.init(rawValue:))))
        }
        let state = foldStatus(coreEvents)
        guard
            let enrollment = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT e.sequence_id, e.retry_after,
                          EXISTS (SELECT 1 FROM message m WHERE m.enrollment_id = e.id AND m.state = 'claimed')
                            AS held
                        FROM enrollment e WHERE e.id = ?
                        """), arguments: [enrollmentID])
        else { return }
        let waits = try Int64.fetchAll(
            db.cachedStatement(sql: "SELECT wait_seconds FROM step WHERE sequence_id = ? ORDER BY position"),
            arguments: [enrollment["sequence_id"] as Int64]
        ).map(WaitDuration.init(seconds:))
        let held: Bool = enrollment["held"]
        let next = held ? nil : nextSendAt(state: state, waits: waits, notBefore: enrollment.timestamp("retry_after"))
        let detail = state.transitions.last.flatMap { details[$0.eventKey] }
        try db.cachedStatement(
            sql: """
                UPDATE enrollment SET status = ?, reason = ?, detail = ?, steps_sent = ?, last_sent_at = ?,
                  next_send_at = ?, status_changed_at = ?, updated_at = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            state.status.rawValue, state.reason?.rawValue, detail, state.stepsSent,
            state.lastSentAt?.millisecondsSinceEpoch, next?.millisecondsSinceEpoch,
            state.statusChangedAt?.millisecondsSinceEpoch, now.millisecondsSinceEpoch, enrollmentID,
        ])
    }
}
