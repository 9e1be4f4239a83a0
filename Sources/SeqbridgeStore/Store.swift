import SeqbridgeCore

/// The storage contract. Each method is one transaction: it either happens
/// whole or not at all. The embedded SQLite store implements it; a PostgreSQL
/// store for several instances will implement the same methods.
public protocol Store: Sendable {
    // Mailboxes
    func addMailbox(_ mailbox: MailboxDefinition, now: Timestamp) async throws
    func mailboxes() async throws -> [MailboxRecord]
    /// Marks the mailbox disconnected and moves every scheduled and in-progress
    /// enrollment of the sequences sending from it to `error(mailbox_disconnected)`.
    /// Returns how many enrollments moved.
    func disconnectMailbox(named name: String, detail: String, now: Timestamp) async throws -> Int
    /// Marks the mailbox connected again. Revives no enrollment.
    func reconnectMailbox(named name: String, now: Timestamp) async throws
    /// Notes that sending from the mailbox failed for a reason of its server;
    /// answers since when it has been failing.
    func noteMailboxFailure(named name: String, detail: String, now: Timestamp) async throws -> Timestamp
    /// The mailbox's server works again.
    func clearMailboxFailure(named name: String) async throws
    /// How many messages the mailbox has sent since a time, and when it last sent.
    func mailboxSendStats(mailboxID: Int64, since: Timestamp) async throws -> MailboxSendStats
    /// Holds due steps back until a time, with why (a sending limit); `show` tells it.
    func postponeSteps(_ items: [(enrollmentID: Int64, until: Timestamp)], reason: String) async throws

    // Sequences
    func applySequence(_ sequence: SequenceDefinition, now: Timestamp) async throws -> SequenceApplyResult
    func sequences() async throws -> [SequenceSummary]

    // Influencers and enrollments
    /// Creates the influencer if new (filling fields it lacks) and enrols it.
    func enroll(
        _ influencer: InfluencerFields, sequence: String, token: String, force: Bool, now: Timestamp
    ) async throws
    /// Enrols many influencers in one transaction; each gets its own answer,
    /// so refused ones (suppressed, already enrolled) do not stop the rest.
    func enrollBatch(
        _ influencers: [(fields: InfluencerFields, token: String)], sequence: String, force: Bool, now: Timestamp
    ) async throws -> [StoreError?]
    /// Imports rows in batches pulled from `nextBatch`, one transaction per
    /// batch (a dry run: one transaction for all, rolled back), and hands each
    /// batch's outcomes to `report` once the batch is committed. A row whose
    /// address appeared earlier in the same import is rejected as a duplicate
    /// naming the earlier line.
    func importRows(
        _ options: ImportOptions, now: Timestamp, nextBatch: @escaping @Sendable () throws -> [ImportRow]?,
        report: @escaping @Sendable (_ rows: [ImportRow], _ outcomes: [ImportOutcome]) throws -> Void
    ) async throws
    func unenroll(email: String, sequence: String, now: Timestamp) async throws
    /// Unenrolls an `error` enrollment (if any) and enrols afresh, in one transaction.
    func reenroll(email: String, sequence: String, token: String, force: Bool, now: Timestamp) async throws
    /// `reenroll` for every enrollment of the sequence in `status`. Suppressed
    /// addresses are left as they are and listed in the answer.
    func reenrollAll(
        sequence: String, status: Status, now: Timestamp, makeToken: @Sendable () -> String
    ) async throws -> BulkReenrollResult
    func changeEmail(from old: String, to new: String, now: Timestamp) async throws

    // Suppression list
    func suppress(email: String, reason: SuppressionReason, detail: String?, now: Timestamp) async throws
    func unsuppress(email: String) async throws -> Bool
    func suppressions() async throws -> [SuppressionEntry]

    // Scheduler
    /// Active enrollments whose next step is due at `now`, in due order, from
    /// connected mailboxes, starting after `cursor`.
    func dueSteps(now: Timestamp, after cursor: DueCursor?, limit: Int) async throws -> [DueStep]
    /// Durably claims each step before it is handed to the transport. Steps
    /// that are no longer due (unenrolled meanwhile, or claimed by another run)
    /// are left out of the answer.
    func claim(_ requests: [ClaimRequest], now: Timestamp) async throws -> [ClaimRequest]
    /// Records what the transport said about claimed messages.
    func recordSends(_ reports: [SendReport], now: Timestamp) async throws
    func recordRenderFailures(_ failures: [RenderFailure], now: Timestamp) async throws

    // Reported events
    /// Stores and applies reported events in one transaction, matching each to
    /// its message (SPEC §3). Answers one disposition per event, in order.
    func recordEvents(_ events: [ProviderEvent], now: Timestamp) async throws -> RecordedEvents
    /// Tries every unmatched event again; answers how many now applied and how many are still unmatched.
    func retryUnmatched(now: Timestamp) async throws -> (applied: Int, unmatched: Int)
    /// Which message each event would match (SPEC §3), without storing anything.
    func matchMessages(_ events: [ProviderEvent]) async throws -> [MessageMatch?]

    // Reading
    func statusCounts(sequence: String?) async throws -> [StatusCount]
    func history(email: String) async throws -> InfluencerHistory?
    /// Streams the status report row by row; memory does not grow with the table.
    func exportRows(_ filter: ExportFilter, _ row: @Sendable (ExportRow) throws -> Void) async throws
    /// Messages claimed but never confirmed by the transport.
    func unconfirmedCount() async throws -> Int
    func ping() async throws
}

/// A store that can record reported events on the calling thread (SQLite,
/// whose writes are synchronous anyway). The webhook group commit then writes
/// from a thread of its own, without a hop to another executor per commit.
///
/// Such a store may also split a commit from its sync to disk: the writer then
/// goes on to the next transaction while another thread waits for the disk,
/// and a request is answered only after ``syncCommits()`` has returned.
public protocol BlockingEventRecorder: Sendable {
    /// ``Store/recordEvents(_:now:)``, blocking the calling thread until the
    /// transaction is committed. With `deferringSync` (and ``canDeferSync``) the
    /// commit has reached the operating system, not yet the disk: it survives
    /// the process being killed, and survives a power cut only once
    /// ``syncCommits()`` has returned.
    func recordEventsBlocking(_ events: [ProviderEvent], now: Timestamp, deferringSync: Bool) throws -> RecordedEvents
    /// Whether commits can be synced apart from the transaction (false: every commit syncs itself).
    var canDeferSync: Bool { get }
    /// Makes every transaction committed so far durable. Once a sync has failed,
    /// every later one fails too: what reached the disk is no longer known.
    func syncCommits() throws
}

extension Store {
    /// ``recordEvents(_:now:)`` when only the dispositions matter.
    public func recordProviderEvents(_ events: [ProviderEvent], now: Timestamp) async throws -> [EventDisposition] {
        try await recordEvents(events, now: now).dispositions
    }
}
