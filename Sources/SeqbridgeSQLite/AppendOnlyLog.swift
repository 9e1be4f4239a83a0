import GRDB
import SeqbridgeCore
import SeqbridgeStore

/// The least a durable webhook write can be: each event's raw text appended
/// to one table of a database of its own, one synced commit per group of
/// requests. `serve --bench-floor FILE` answers `/bench/floor` through it, so
/// that the webhook benchmark can show how much of the durable route's cost
/// is the write itself (matching, duplicates, statuses) and how much is the
/// group commit and the sync that every durable answer needs. Nothing else
/// uses it.
public final class AppendOnlyLog: BlockingEventRecorder {
    private let writer: DatabasePool

    /// Opens (creating if needed) the database at `path`, set up as the store's is:
    /// write-ahead log, every commit synced.
    public init(path: String) throws {
        writer = try DatabasePool(path: path)
        try writer.barrierWriteWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS body (id INTEGER PRIMARY KEY, raw TEXT NOT NULL)")
        }
    }

    public func recordEventsBlocking(_ events: [ProviderEvent], now: Timestamp, deferringSync: Bool) throws
        -> RecordedEvents
    {
        try writer.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO body (raw) VALUES (?)")
            for event in events { try insert.execute(arguments: [event.raw]) }
        }
        return RecordedEvents(dispositions: events.map { _ in .applied }, transitions: [:])
    }

    public var canDeferSync: Bool { false }

    public func syncCommits() throws {}

    /// How many events were appended.
    public func count() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM body") ?? 0 }
    }
}
