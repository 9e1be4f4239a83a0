import Foundation
import GRDBSQLite
import SeqbridgeStore

/// Copies the write-ahead log back into the database file on a thread of its
/// own, so the writer never waits for a checkpoint and its `fsync` of the
/// database file. The writer then only appends to the log and syncs it: a
/// commit's durability is unchanged, its latency is the log's `fsync` alone.
///
/// A passive checkpoint never blocks the writer or readers; what it cannot
/// copy yet waits for the next round. The writer's own automatic checkpoint
/// stays on at a higher mark, in case this thread falls behind.
final class Checkpointer: @unchecked Sendable {
    /// How often the log is looked at.
    static let interval: TimeInterval = 0.1
    /// The writer's automatic checkpoint, in pages, when this thread does the work
    /// (SQLite's default is 1,000): 256 MiB of log at 4 KiB pages.
    ///
    /// While commits keep coming, this thread's passive checkpoints never catch up
    /// with the last few, so the log only starts over from its beginning when the
    /// writer checkpoints at this mark. That checkpoint copies what this thread had
    /// not yet, and syncs the database file, on the writer. A higher mark makes it
    /// rarer: 100-event posts went from 63,000 to 71,000 events/s with 16
    /// connections in A/B runs, from 62,000-67,000 with 16,384 pages (64 MiB).
    static let writerFallbackPages = 65_536

    private let condition = NSCondition()
    private var stopped = false
    private var finished = false

    init(path: String) throws {
        var connection: OpaquePointer?
        let code = sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let connection else {
            sqlite3_close(connection)
            throw StoreError.unavailable(
                "the checkpoint connection to \(path) could not be opened (SQLite code \(code))")
        }
        sqlite3_busy_timeout(connection, 1_000)
        let handle = Handle(connection)
        let thread = Thread { [self] in run(handle.connection) }
        thread.name = "seqbridge-checkpoint"
        thread.start()
    }

    /// Stops the thread and waits until its connection is closed.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// The connection, handed to the thread that alone uses it.
    private struct Handle: @unchecked Sendable {
        let connection: OpaquePointer

        init(_ connection: OpaquePointer) { self.connection = connection }
    }

    private func run(_ connection: OpaquePointer) {
        condition.lock()
        while !stopped {
            _ = condition.wait(until: Date(timeIntervalSinceNow: Self.interval))
            if stopped { break }
            condition.unlock()
            sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            condition.lock()
        }
        sqlite3_close(connection)
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}
