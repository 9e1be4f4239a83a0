import Foundation
import GRDB
import SeqbridgeCore
import SeqbridgeStore

/// The embedded default store: one SQLite file in WAL mode, written with
/// `synchronous = FULL` so a committed transaction survives a crash.
public final class SQLiteStore: Store {
    let writer: any DatabaseWriter
    /// The checkpointing thread of a file database (tests stop it to drive rounds themselves).
    let checkpointer: Checkpointer?
    /// The service's own sync of the write-ahead log, for webhook commits.
    let logSync: LogSync?
    /// Message-ID → enrollment, for matching reported events (writer only).
    let messages = MessageEnrollments()
    /// How many events reported events' commits let go unfiled (``EventFiler``).
    let eventFilingBatch: Int64

    /// Who holds the store: a one-off command, or the long-running service.
    /// Either way, a file database is checkpointed on a thread of its own
    /// (``Checkpointer``): a big import's writer then only appends to the log.
    public enum Role: Sendable {
        /// A fixed 8 MiB page cache per connection: bounded, whatever the table sizes.
        case command
        /// A 64 MiB page cache per connection, so the indexes that events land
        /// in at random stay in memory; and reported events' commits synced
        /// apart from the transaction (``LogSync``).
        case service
    }

    /// Opens (creating if needed) the database at `path` and brings its schema
    /// up to date. `:memory:` gives a private in-memory database.
    /// `eventFilingBatch` is for tests: ``EventFiler/batch`` otherwise.
    public init(path: String, role: Role = .command, eventFilingBatch: Int64 = EventFiler.batch) throws {
        self.eventFilingBatch = eventFilingBatch
        _ = SQLiteTuning.applied
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        let file = path != ":memory:"
        let cacheKiB = role == .service ? 65_536 : 8_192
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
            if file { try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Checkpointer.writerFallbackPages)") }
        }
        if !file {
            writer = try DatabaseQueue(configuration: configuration)
        } else {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: directory) else {
                throw StoreError.unavailable("the folder \(directory) for \(path) does not exist")
            }
            let pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB turns the writer to `synchronous = NORMAL` when it sets up WAL mode,
            // after `prepareDatabase`: a commit would then not be synced to disk.
            try pool.barrierWriteWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            writer = pool
        }
        let migrator = Self.migrator
        let superseded = try writer.read { db in try migrator.hasBeenSuperseded(db) }
        if superseded {
            let applied = try writer.read { db in try migrator.appliedIdentifiers(db) }
            throw StoreError.newerSchema(found: applied.count, known: migrator.migrations.count)
        }
        try migrator.migrate(writer)
        checkpointer = file ? try Checkpointer(path: path) : nil
        logSync = role == .service && file ? LogSync(databasePath: path) : nil
    }

    deinit { checkpointer?.stop() }

    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}

extension Timestamp {
    init?(_ value: Int64?) {
        guard let value else { return nil }
        self.init(millisecondsSinceEpoch: value)
    }
}

extension Row {
    func timestamp(_ column: String) -> Timestamp? {
        Timestamp(self[column] as Int64?)
    }
}
