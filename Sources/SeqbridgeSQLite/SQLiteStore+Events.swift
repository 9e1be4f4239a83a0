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

/// Whether an event can change a status, as an SQL condition on `type`: the
/// condition of the `event_status` index as its last migration built it. A
/// query that is to use that index repeats it as it is. Tests check it against
/// ``EventType/affectsStatus``: a change needs a new migration that rebuilds
/// the index, and this then names that migration's condition.
///
/// A chain of comparisons, not `type IN (...)`: SQLite evaluates a partial
/// index's condition on every insert, and builds a temporary table for an `IN`
/// list each time.
let statusEventCondition = SQLiteStore.statusEventCondition0004

extension SQLiteStore {
    /// Appends an event (once: a second event with the same key is ignored)
    /// and brings the enrollment's cached status up to date. Returns whether
    /// the event was new. A transaction appending many events passes one `refresher`.
    @discardableResult
    static func append(
        _ event: NewEvent, to enrollmentID: Int64, recordedAt: Timestamp, in db: Database, refresher: Refresher? = nil
    ) throws -> Bool {
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
        // Sends, deferrals and operator actions too: `show` reads what is not yet filed from the table.
        try EventFiler(db).fileIfDue(minimum: EventFiler.batch)
        try suppressIfNeeded(
            Event(key: event.key, type: event.type, at: event.at, bounceClass: event.bounceClass),
            messageID: event.messageID, enrollmentID: enrollmentID, detail: event.detail, now: recordedAt, in: db)
        _ = try (refresher ?? Refresher(db)).refresh(enrollmentID: enrollmentID, now: recordedAt)
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
        _ = try Refresher(db).refresh(enrollmentID: enrollmentID, now: now)
    }
}

/// A status refresh on the connection's prepared statements: only the events
/// that can change a status are read (through `event_status`),
/// however many opens and clicks surround them, and each sequence's waits once.
final class Refresher {
    private let events: RawStatement
    private let enrollment: RawStatement
    private let steps: RawStatement
    private let update: RawStatement
    private let keyUpdate: RawStatement
    private var waits: [Int64: [WaitDuration]] = [:]

    init(_ db: Database) throws {
        events = try RawStatement(
            db,
            """
            SELECT key, type, occurred_at, message_id, step, steps_total, bounce_class, detail
            FROM event INDEXED BY event_status WHERE enrollment_id = ? AND \(statusEventCondition)
            """)
        enrollment = try RawStatement(
            db,
            """
            SELECT e.status, e.reason, e.sequence_id, e.retry_after,
              EXISTS (SELECT 1 FROM message m WHERE m.enrollment_id = e.id AND m.state = 'claimed'),
              e.detail, e.steps_sent, e.last_sent_at, e.next_send_at, e.status_changed_at, e.status_event_key
            FROM enrollment e WHERE e.id = ?
            """)
        steps = try RawStatement(db, "SELECT wait_seconds FROM step WHERE sequence_id = ? ORDER BY position")
        update = try RawStatement(
            db,
            """
            UPDATE enrollment SET status = ?, reason = ?, detail = ?, steps_sent = ?, last_sent_at = ?,
              next_send_at = ?, status_changed_at = ?, status_event_key = ?, updated_at = ?
            WHERE id = ?
            """)
        keyUpdate = try RawStatement(db, "UPDATE enrollment SET status_event_key = ? WHERE id = ?")
    }

    /// Brings the enrollment's row up to date; answers its status and reason
    /// before and after (nil when there is no such enrollment). `newEvents`,
    /// when given, are the events added since the row was last brought up to
    /// date: if none of them can change the fold, the others are not read.
    func refresh(enrollmentID: Int64, now: Timestamp, newEvents: [Event]? = nil) throws -> (
        before: (Status, Reason?), after: (Status, Reason?)
    )? {
        enrollment.bind(1, enrollmentID)
        guard try enrollment.step() else { return nil }
        let before = (Status(rawValue: enrollment.text(0) ?? "") ?? .scheduled, enrollment.text(1).flatMap(Reason.init))
        let sequenceID = enrollment.int64(2) ?? 0
        let retryAfter = enrollment.int64(3).map(Timestamp.init(millisecondsSinceEpoch:))
        let held = enrollment.int64(4) == 1
        let stored = Stored(
            status: enrollment.text(0), reason: enrollment.text(1), detail: enrollment.text(5),
            stepsSent: enrollment.int64(6), lastSentAt: enrollment.int64(7), nextSendAt: enrollment.int64(8),
            statusChangedAt: enrollment.int64(9), statusEventKey: enrollment.text(10))
        enrollment.finish()
        // A row changed before the key was kept may have been folded by older rules:
        // it is folded again (and gets its key) rather than trusted.
        if let newEvents, stored.statusChangedAt == nil || stored.statusEventKey != nil {
            let summary = FoldSummary(
                status: before.0, reason: before.1, changedAt: Timestamp(stored.statusChangedAt),
                changeKey: stored.statusEventKey)
            if newEvents.allSatisfy({ leavesFoldAlone($0, summary: summary) }) { return (before, before) }
        }

        var details: [String: String] = [:]
        var coreEvents: [Event] = []
        events.bind(1, enrollmentID)
        while try events.step() {
            guard let type = events.text(1).flatMap(EventType.init(rawValue:)) else { continue }
            let key = events.text(0) ?? ""
            if let detail = events.text(7) { details[key] = detail }
            coreEvents.append(
                Event(
                    key: key, type: type, at: Timestamp(millisecondsSinceEpoch: events.int64(2) ?? 0),
                    messageID: events.text(3), step: events.int64(4).map { Int($0) },
                    stepsTotal: events.int64(5).map { Int($0) },
                    bounceClass: events.text(6).flatMap(BounceClass.init(rawValue:))))
        }
        let state = foldStatus(coreEvents)
        let next =
            held ? nil : nextSendAt(state: state, waits: try waits(sequenceID: sequenceID), notBefore: retryAfter)
        let folded = Stored(
            status: state.status.rawValue, reason: state.reason?.rawValue,
            detail: state.transitions.last.flatMap { details[$0.eventKey] }, stepsSent: Int64(state.stepsSent),
            lastSentAt: state.lastSentAt?.millisecondsSinceEpoch, nextSendAt: next?.millisecondsSinceEpoch,
            statusChangedAt: state.statusChangedAt?.millisecondsSinceEpoch,
            statusEventKey: state.transitions.last?.eventKey)
        // A row the events leave as it was is not written: not its pages, not its
        // indexes' pages, and not its `updated_at` (so `export --since` skips it).
        guard folded != stored else { return (before, before) }
        guard !folded.sameColumns(as: stored) else {
            // Only which event explains the status is new (a row from before the key
            // was kept, or an event tied with the last change): nothing a report shows.
            keyUpdate.bind(1, folded.statusEventKey)
            keyUpdate.bind(2, enrollmentID)
            try keyUpdate.run()
            return (before, before)
        }
        update.bind(1, folded.status)
        update.bind(2, folded.reason)
        update.bind(3, folded.detail)
        update.bind(4, folded.stepsSent)
        update.bind(5, folded.lastSentAt)
        update.bind(6, folded.nextSendAt)
        update.bind(7, folded.statusChangedAt)
        update.bind(8, folded.statusEventKey)
        update.bind(9, now.millisecondsSinceEpoch)
        update.bind(10, enrollmentID)
        try update.run()
        return (before, (state.status, state.reason))
    }

    /// The columns a refresh writes, as stored.
    private struct Stored: Equatable {
        var status: String?
        var reason: String?
        var detail: String?
        var stepsSent: Int64?
        var lastSentAt: Int64?
        var nextSendAt: Int64?
        var statusChangedAt: Int64?
        /// The key of the event that made the last change (nil in rows changed before it was kept).
        var statusEventKey: String?

        /// Equal in everything but the key.
        func sameColumns(as other: Stored) -> Bool {
            var other = other
            other.statusEventKey = statusEventKey
            return self == other
        }
    }

    private func waits(sequenceID: Int64) throws -> [WaitDuration] {
        if let known = waits[sequenceID] { return known }
        var found: [WaitDuration] = []
        steps.bind(1, sequenceID)
        while try steps.step() { found.append(WaitDuration(seconds: steps.int64(0) ?? 0)) }
        waits[sequenceID] = found
        return found
    }
}
