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
    /// How long a checkpoint waits for a lock, in milliseconds (the cut never waits).
    static let busyTimeout: Int32 = 1_000
    /// The writer's automatic checkpoint, in pages, when this thread does the work
    /// (SQLite's default is 1,000): 256 MiB of log at 4 KiB pages.
    ///
    /// While commits keep coming, this thread's passive checkpoints never catch up
    /// with the last few, so the log only starts over from its beginning when the
    /// writer checkpoints at this mark. That checkpoint copies what this thread had
    /// not yet, and syncs the database file, on the writer. A higher mark makes it
    /// rarer: 100-event posts with 16 connections went from 62,000-67,000 events/s
    /// at 16,384 pages (64 MiB) to 71,000 in A/B runs.
    static let writerFallbackPages = 65_536

    private let condition = NSCondition()
    private var stopped = false
    private var finished = false

    init(path: String) throws {
        let handle = Handle(try Self.connect(path))
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
        var last = Log()
        condition.lock()
        while !stopped {
            _ = condition.wait(until: Date(timeIntervalSinceNow: Self.interval))
            if stopped { break }
            condition.unlock()
            last = Self.pass(connection, after: last)
            condition.lock()
        }
        sqlite3_close(connection)
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// A connection of its own to the database at `path`, with the log open.
    ///
    /// A new connection does not know the database is in WAL mode until it has
    /// read it: until then a checkpoint on it does nothing and answers "OK".
    /// (Before this was found, this thread's checkpoints did nothing and the
    /// writer did all of them, at its mark.)
    static func connect(_ path: String) throws -> OpaquePointer {
        var opened: OpaquePointer?
        var code = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        if code == SQLITE_OK, let opened {
            sqlite3_busy_timeout(opened, busyTimeout)
            code = sqlite3_exec(opened, "SELECT COUNT(*) FROM sqlite_schema", nil, nil, nil)
            if code == SQLITE_OK { return opened }
        }
        sqlite3_close(opened)
        throw StoreError.unavailable("the checkpoint connection to \(path) could not be opened (SQLite code \(code))")
    }

    /// How long the log is, in frames, and how much of it is in the database file.
    struct Log: Equatable {
        var frames: Int32 = -1
        var copied: Int32 = -1
    }

    /// One round: a passive checkpoint; then, when nothing was committed since the
    /// last round and all of the log is in the database file, the log is cut to
    /// nothing. Under load the log grows to ``writerFallbackPages``; a quiet
    /// service then gives that space back. The cut needs the writer's lock and
    /// no reader on the log: if either is busy it is simply tried again next
    /// round, without waiting, so it never holds up a commit.
    static func pass(_ connection: OpaquePointer, after last: Log) -> Log {
        var log = Log()
        guard
            sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &log.frames, &log.copied)
                == SQLITE_OK
        else { return Log() }
        guard log.frames > 0, log.copied == log.frames, log == last else { return log }
        sqlite3_busy_timeout(connection, 0)
        defer { sqlite3_busy_timeout(connection, busyTimeout) }
        var cut = Log()
        guard
            sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_TRUNCATE, &cut.frames, &cut.copied)
                == SQLITE_OK
        else { return log }
        return cut
    }
}
