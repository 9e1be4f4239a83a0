import CSQLiteTuning

/// SQLite's process-wide settings, made once before the first connection
/// opens (see `tuning.h`): no per-call connection mutex, since every
/// connection is used by one thread at a time, and no allocation statistics.
enum SQLiteTuning {
    /// True when SQLite took the settings (it refuses them once it has started).
    static let applied: Bool = seqbridge_sqlite_tune() == 1
}
