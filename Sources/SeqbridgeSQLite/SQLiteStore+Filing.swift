import GRDB

/// Files events that cannot change a status (opens, deliveries, deferrals, ...)
/// under their enrollments, many at a time.
///
/// Indexing each such event by enrollment as it is written would put one index
/// entry on a page chosen at random by its enrollment: with a few hundred
/// events a commit, nearly one page written to the log per event. Filed in
/// sorted batches, one page takes all of a batch's entries that belong on it.
/// Until its batch is filed, an event is found by its place in the table: it
/// is above `event_filing.filed_through`, and `show` reads those rows too.
///
/// Events that can change a status are indexed at once (`event_status`): a
/// status refresh needs them in the same transaction.
public final class EventFiler {
    /// How many events may be written between two filings. A filing of this many
    /// takes tens of milliseconds, in the transaction that reaches the mark; it
    /// also bounds what `show` reads from the table.
    public static let batch: Int64 = 50_000

    private let filedThrough: RawStatement
    private let lastEvent: RawStatement
    private let filing: RawStatement
    private let mark: RawStatement

    init(_ db: Database) throws {
        filedThrough = try RawStatement(db, "SELECT filed_through FROM event_filing")
        lastEvent = try RawStatement(db, "SELECT max(id) FROM event")
        filing = try RawStatement(
            db,
            """
            INSERT OR IGNORE INTO event_filed (enrollment_id, event_id)
            SELECT enrollment_id, id FROM event
            WHERE id > ? AND id <= ? AND enrollment_id IS NOT NULL AND NOT \(statusEventCondition)
            ORDER BY enrollment_id, id
            """)
        mark = try RawStatement(db, "UPDATE event_filing SET filed_through = ?")
    }

    /// Files the events written since the last filing, once there are `minimum` of
    /// them; answers how many event rows that covered (0 when not yet due).
    @discardableResult
    func fileIfDue(minimum: Int64) throws -> Int64 {
        let through = try markedThrough()
        let last = try lastEventID()
        guard last - through >= max(minimum, 1) else { return 0 }
        try file(after: through, through: last)
        mark.bind(1, last)
        try mark.run()
        return last - through
    }

    /// Files one event that was written unmatched and has just been given its
    /// enrollment: a filing that passed it while it had none left it out.
    func fileAttached(eventID: Int64) throws {
        try file(after: eventID - 1, through: eventID)
    }

    /// The last event's id (0 when there is none).
    func lastEventID() throws -> Int64 { try lastEvent.integer() ?? 0 }

    /// After writing only events that change a status (they are never filed):
    /// when everything before them was filed, moves the mark past them, so that
    /// `show` does not read them from the table. `previousLast` is the last
    /// event's id before they were written.
    func passOver(since previousLast: Int64) throws {
        guard try markedThrough() >= previousLast else { return }
        mark.bind(1, try lastEventID())
        try mark.run()
    }

    private func markedThrough() throws -> Int64 { try filedThrough.integer() ?? 0 }

    /// Files the events with ids in `after + 1 ... through` that have an enrollment
    /// and cannot change a status (the others are left as they are).
    private func file(after: Int64, through: Int64) throws {
        filing.bind(1, after)
        filing.bind(2, through)
        try filing.run()
    }
}

extension SQLiteStore {
    /// Every event of an enrollment, in the order they happened: those that can
    /// change a status through their index, the others filed by enrollment, and
    /// those written since the last filing from the end of the table.
    static func eventRows(enrollmentID: Int64, in db: Database) throws -> [Row] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT * FROM event INDEXED BY event_status
                    WHERE enrollment_id = ?1 AND \(statusEventCondition)
                    UNION
                    SELECT event.* FROM event_filed JOIN event ON event.id = event_filed.event_id
                    WHERE event_filed.enrollment_id = ?1
                    UNION
                    SELECT * FROM event WHERE id > (SELECT filed_through FROM event_filing) AND enrollment_id = ?1
                    ORDER BY occurred_at, id
                    """), arguments: [enrollmentID])
    }
}
