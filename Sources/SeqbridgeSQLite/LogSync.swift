import Foundation
import SeqbridgeStore

#if canImport(Glibc)
    import Glibc
#endif

/// Syncs the write-ahead log apart from the commit that wrote it, so that the
/// writer can start its next transaction while the disk is still busy with
/// the last one.
///
/// A transaction committed with `synchronous = NORMAL` has all its log frames
/// written, commit frame included, when the commit returns; only the `fsync`
/// is left out. `fdatasync` on the log file afterwards, from any thread, makes
/// that transaction exactly as durable as `synchronous = FULL` would have.
/// SQLite keeps the log file (the same inode) while any connection is open, and
/// the writer connection stays open for as long as the store does.
final class LogSync: @unchecked Sendable {
    private let descriptor: Int32
    private let path: String
    private let lock = NSLock()
    private var failure: String?

    /// Opens the log of the database at `path`; nil when there is none to open.
    init?(databasePath path: String) {
        self.path = path + "-wal"
        descriptor = open(self.path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        // The log's name in its folder must survive a power cut too.
        let folder = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    deinit { close(descriptor) }

    /// Makes every frame written to the log so far durable.
    func sync() throws {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw StoreError.unavailable(failure) }
        if fdatasync(descriptor) != 0 {
            let why = String(cString: strerror(errno))
            failure = "the write-ahead log \(path) could not be synced to disk (\(why)); restart the service"
            throw StoreError.unavailable(failure!)
        }
    }
}
